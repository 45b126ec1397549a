import sys

from identity.app import create_app
from weiquan_shared.service import serve

if sys.argv[1:2] == ["demo-accounts"]:
    from identity.demo import main

    main(sys.argv[2:])
else:
    app, settings = create_app()
    serve(app, settings)
