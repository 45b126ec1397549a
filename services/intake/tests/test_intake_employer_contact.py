"""The employer's contact person (联系人): optional on the forms, a mobile or an email to
reach anyone, stored encrypted and bound to its case, shown masked."""

import random
import uuid
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import ValidationError

from intake.domain import EmployerContactIn, HotlineCallIn, submission_digest
from intake.employer_contact import EmployerContact, seal, unseal
from weiquan_shared.demo import hotline_call
from weiquan_shared.pii import PiiCipher


def test_a_contact_needs_a_mobile_or_an_email_and_is_normalised() -> None:
    contact = EmployerContactIn(name=" 李经理 ", mobile="139 1234 5678", email="HR@PengCheng.CN")
    assert (contact.name, contact.mobile, contact.email) == (
        "李经理",
        "+8613912345678",
        "HR@pengcheng.cn",
    )
    assert contact.channels() == ["mobile", "email"]
    assert EmployerContactIn(email="hr@pengcheng.cn", mobile="").channels() == ["email"]
    with pytest.raises(ValidationError, match="至少填写用人单位联系人的手机号或电子邮箱"):
        EmployerContactIn(name="李经理")
    with pytest.raises(ValidationError, match="电子邮箱格式不正确"):
        EmployerContactIn(email="hr at pengcheng")
    with pytest.raises(ValidationError, match="手机号"):
        EmployerContactIn(mobile="12345")


def test_the_hotline_form_takes_it_and_it_counts_in_the_forms_digest() -> None:
    call = hotline_call(random.Random(5), story=0, called_at=datetime(2026, 11, 2, tzinfo=UTC))
    without = HotlineCallIn.model_validate(call)
    assert without.employer.contact is None
    with_contact = HotlineCallIn.model_validate(
        {**call, "employer": {**call["employer"], "contact": {"email": "hr@pengcheng.cn"}}}
    )
    assert with_contact.employer.contact is not None
    assert submission_digest(with_contact) != submission_digest(without)


def test_sealed_with_the_case_and_masked_for_the_screen() -> None:
    cipher = PiiCipher({"k1": b"x" * 32}, "k1", b"i" * 32)
    case_id = uuid.uuid4()
    contact = EmployerContactIn(name="李经理", mobile="13912345678", email="hr@pengcheng.cn")
    sealed = seal(cipher, case_id, contact)
    assert b"13912345678" not in sealed and "李经理".encode() not in sealed
    expected = EmployerContact("李经理", "+8613912345678", "hr@pengcheng.cn")
    assert unseal(cipher, case_id, sealed) == expected
    with pytest.raises(InvalidTag):  # bound to its case: another row's context fails
        unseal(cipher, uuid.uuid4(), sealed)
    assert unseal(cipher, case_id, None) is None
    assert expected.masked() == EmployerContact("李*理", "139****5678", "h***@pengcheng.cn")
