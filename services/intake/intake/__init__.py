"""Intake: where a worker's dispute enters Weiquan (12351 hotline, WeChat, walk-in desk).

Entry point ``python -m intake`` (``app.py`` wires it); HTTP routes in ``api.py``; rules in
``domain.py``; the PostgreSQL store in ``store.py``; schema in ``migrations/``.
"""
