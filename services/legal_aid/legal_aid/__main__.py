from legal_aid.app import create_app
from weiquan_shared.service import serve

app, settings = create_app()
serve(app, settings)
