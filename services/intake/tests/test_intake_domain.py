import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from intake.domain import HotlineCallIn, case_number, case_reported, id_number_problem, identify
from weiquan_shared.demo import hotline_call
from weiquan_shared.pii import PiiCipher

CIPHER = PiiCipher({"k": b"k" * 32}, "k", b"i" * 32)


def test_id_number_checksum_example_from_domain_md() -> None:
    assert id_number_problem("11010519491231002X") is None
    assert id_number_problem("110105194912310021") == "校验码不正确，请核对"
    assert id_number_problem("110105194902300021") == "出生日期部分无效"
    assert "18位" in (id_number_problem("1101051949") or "")


def test_case_number_is_district_year_sequence() -> None:
    assert case_number("440305", 2026, 123) == "440305-2026-000123"


def test_demo_calls_are_valid_reports() -> None:
    rng = random.Random(7)
    for _ in range(50):
        HotlineCallIn.model_validate(hotline_call(rng, workers=rng.randint(1, 3)))


def test_future_call_time_is_refused_in_chinese() -> None:
    call = hotline_call(random.Random(1), called_at=datetime.now(UTC) + timedelta(days=2))
    with pytest.raises(ValidationError, match="来电时间不能晚于今天"):
        HotlineCallIn.model_validate(call)


def test_event_carries_no_personal_data() -> None:
    raw = hotline_call(random.Random(3), workers=2)
    raw["description"] = (
        f"我是{raw['workers'][0]['name']}，电话{raw['workers'][0]['mobile']}。"
        + (raw["description"])
    )
    call = HotlineCallIn.model_validate(raw)
    identities = [identify(w, CIPHER) for w in call.workers]
    event = case_reported(call, case_id=uuid.uuid4(), number="x", identities=identities)
    text = event.model_dump_json()
    for worker in raw["workers"]:
        assert worker["name"] not in text
        assert worker["mobile"] not in text
        assert worker["id_number"] not in text
    assert [w.worker_ref for w in event.workers] == [i.ref for i in identities]


def test_same_worker_same_ref_across_cases() -> None:
    raw = hotline_call(random.Random(5))
    call = HotlineCallIn.model_validate(raw)
    assert identify(call.workers[0], CIPHER).ref == identify(call.workers[0], CIPHER).ref
