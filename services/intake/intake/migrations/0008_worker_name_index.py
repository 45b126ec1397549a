"""Workers found by name: a keyed hash of each worker's normalised name (NFKC, no spaces).

Names are stored only encrypted, so the existing rows are indexed here, in Python, with the
service's own keys (``WEIQUAN_PII_*`` from the environment, as the service reads them):
each name is decrypted, normalised as ``intake.domain_identifiers.normalise_name`` does and
hashed with the index key. New rows get their index when they are registered.
"""

from yoyo import step

from intake.domain_identifiers import normalise_name
from weiquan_shared.pii import PiiCipher
from weiquan_shared.settings import PiiSettings

__depends__ = {"0007_case_file"}


def index_names(conn):
    cursor = conn.cursor()
    cursor.execute("ALTER TABLE case_workers ADD COLUMN name_index text")
    cursor.execute("SELECT id, name_enc FROM case_workers")
    rows = cursor.fetchall()
    if rows:
        cipher = PiiCipher.from_settings(PiiSettings())
        for worker_id, name_enc in rows:
            name = cipher.decrypt(bytes(name_enc), f"case_workers.name:{worker_id}")
            cursor.execute(
                "UPDATE case_workers SET name_index = %s WHERE id = %s",
                (cipher.blind_index(normalise_name(name), "name"), worker_id),
            )
    cursor.execute("CREATE INDEX case_workers_name_index ON case_workers (name_index)")


steps = [step(index_names)]
