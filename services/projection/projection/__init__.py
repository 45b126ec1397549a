"""Projection: read models built only from events, and the supervisors' dashboard.

Entry point ``python -m projection`` (``app.py``); event handlers in ``handlers.py``; read
models and figures in ``store.py``; HTTP API and page in ``api.py`` / ``static/``.
"""
