"""Triage: decides each reported case's category, urgency, route and statutory clocks.

Entry point ``python -m triage`` (``app.py``); the event handler in ``handlers.py``; the
override API and page in ``api.py``; the rules in ``domain.py`` (with ``classification.py``,
``clocks.py``, ``grouping.py``; pure, no I/O), reading ``lexicon.json`` (keywords),
``rules.json`` (versioned legal numbers) and the shared holiday calendar; the store in
``store.py`` / ``migrations/``; the daily clock re-evaluation in ``sweeper.py``.
"""
