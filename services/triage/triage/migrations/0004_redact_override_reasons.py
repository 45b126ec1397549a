"""Officers' reasons stored before they were redacted lose their personal data now.

A reason lives in the override's ``note`` and, as an ``override.officer`` reason, in that
decision's ``reasons`` and in every later decision's (reasons accumulate).
"""

import json

from yoyo import step

from weiquan_shared.redaction import redact_text

__depends__ = {"0003_decision_seq"}


def redact_reasons(conn):
    cursor = conn.cursor()
    cursor.execute(
        "SELECT id, note, reasons FROM decisions WHERE kind = 'override' "
        'OR reasons @> \'[{"rule": "override.officer"}]\'::jsonb'
    )
    for decision_id, note, reasons in cursor.fetchall():
        if isinstance(reasons, str):
            reasons = json.loads(reasons)
        redacted = [
            {**r, "text": redact_text(r["text"])} if r["rule"] == "override.officer" else r
            for r in reasons
        ]
        cursor.execute(
            "UPDATE decisions SET note = %s, reasons = %s::jsonb WHERE id = %s",
            (
                redact_text(note) if note else note,
                json.dumps(redacted, ensure_ascii=False),
                decision_id,
            ),
        )


steps = [step(redact_reasons)]
