"""Each case's current route (from triage's events), and the occupation encrypted.

The occupation was stored in clear; existing values are encrypted with the service's
active key (``WEIQUAN_PII_*`` from the environment, as the service itself reads them) and
the clear column is dropped.
"""

from yoyo import step

from weiquan_shared.pii import PiiCipher
from weiquan_shared.settings import PiiSettings

__depends__ = {"0004_wechat_msg_id_per_openid"}


def encrypt_occupations(conn):
    cursor = conn.cursor()
    cursor.execute("ALTER TABLE case_workers ADD COLUMN occupation_enc bytea")
    cursor.execute("SELECT id, occupation FROM case_workers WHERE occupation IS NOT NULL")
    rows = cursor.fetchall()
    if rows:
        cipher = PiiCipher.from_settings(PiiSettings())
        for worker_id, occupation in rows:
            cursor.execute(
                "UPDATE case_workers SET occupation_enc = %s WHERE id = %s",
                (cipher.encrypt(occupation, f"case_workers.occupation:{worker_id}"), worker_id),
            )
    cursor.execute("ALTER TABLE case_workers DROP COLUMN occupation")


steps = [
    step(
        """ALTER TABLE cases
               ADD COLUMN route_detail       text,
               ADD COLUMN route_decision_seq int,
               ADD COLUMN route_decided_at   timestamptz""",
        """ALTER TABLE cases DROP COLUMN route_detail, DROP COLUMN route_decision_seq,
               DROP COLUMN route_decided_at""",
    ),
    step(encrypt_occupations),
]
