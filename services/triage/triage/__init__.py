"""Triage: decides each reported case's category, urgency and route.

Entry point ``python -m triage`` (``app.py``); the event handler in ``handlers.py``; the
rules in ``domain.py`` (pure, no I/O) with the keyword lexicon in ``lexicon.json``; the
decision history in ``store.py`` / ``migrations/``.
"""
