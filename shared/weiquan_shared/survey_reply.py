"""A worker's WeChat reply to the satisfaction survey: a digit 1–5 (half- or full-width),
optionally followed by a comment (``5 律师很负责``, ``４分，调解员很耐心``).

Shared by intake, which receives every message of the union's one official account and
must tell a survey answer from its own dialog, and notification, which records the answer.
"""

from __future__ import annotations

import re

# A digit 1-5 first (not the start of a longer number nor of a decimal like 1.5), an
# optional 分, separators, then anything (the comment).
ANSWER = re.compile(
    r"^\s*([1-5１-５])(?![0-9０-９]|[.．][0-9０-９])\s*分?[\s,，。.:：;；、\-]*(.*)$", re.DOTALL
)
FULLWIDTH = str.maketrans("１２３４５", "12345")


def parse_answer(content: str) -> tuple[int, str] | None:
    """``(score, comment)`` of a reply that starts with a digit 1–5, else None."""
    found = ANSWER.match(content)
    if found is None:
        return None
    return int(found.group(1).translate(FULLWIDTH)), found.group(2).strip()


def looks_like_answer(content: str) -> bool:
    """Whether a message could be a survey answer (worth asking notification about)."""
    return parse_answer(content) is not None
