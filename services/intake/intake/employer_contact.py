"""The employer's contact person (联系人) of a case: whom the union writes to at the
employer (a mediation session's invitation, the union's reminder letter 提示函).

Name, mobile and email are stored as one AES-GCM ciphertext bound to the case
(``cases.employer_contact:<case id>``), shown masked on the case page, and decrypted only
for notification at send time (audited there). The event that says the contact changed
(``case.employer_contact_recorded``) names the channels, never a value.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from intake.domain import EmployerContactIn
from weiquan_shared.events.casework import CaseEmployerContactRecorded
from weiquan_shared.pii import PiiCipher, mask_email, mask_mobile, mask_name
from weiquan_shared.uow import UnitOfWork


@dataclass(frozen=True)
class EmployerContact:
    name: str | None
    mobile: str | None
    email: str | None

    def masked(self) -> EmployerContact:
        return EmployerContact(
            mask_name(self.name) if self.name else None,
            mask_mobile(self.mobile) if self.mobile else None,
            mask_email(self.email) if self.email else None,
        )


def _aad(case_id: uuid.UUID) -> str:
    return f"cases.employer_contact:{case_id}"


def seal(cipher: PiiCipher, case_id: uuid.UUID, contact: EmployerContactIn) -> bytes:
    plain = json.dumps(
        {"name": contact.name, "mobile": contact.mobile, "email": contact.email},
        ensure_ascii=False,
    )
    return cipher.encrypt(plain, _aad(case_id))


def unseal(cipher: PiiCipher, case_id: uuid.UUID, sealed: bytes | None) -> EmployerContact | None:
    if not sealed:
        return None
    values = json.loads(cipher.decrypt(sealed, _aad(case_id)))
    return EmployerContact(values.get("name"), values.get("mobile"), values.get("email"))


async def record(
    uow: UnitOfWork,
    cipher: PiiCipher,
    case_id: uuid.UUID,
    number: str,
    district: str,
    contact: EmployerContactIn,
    recorded_by: Literal["intake_form", "case_page"],
) -> datetime:
    """Store the contact (replacing any earlier one) and say so, without its values."""
    now = datetime.now(UTC)
    await uow.conn.execute(
        "UPDATE cases SET employer_contact_enc = $2, employer_contact_at = $3 WHERE id = $1",
        case_id,
        seal(cipher, case_id, contact),
        now,
    )
    uow.emit(
        CaseEmployerContactRecorded(
            case_id=case_id,
            case_number=number,
            district_code=district,
            channels=contact.channels(),
            has_name=contact.name is not None,
            recorded_by=recorded_by,
            recorded_at=now,
        ),
        subject=str(case_id),
    )
    return now
