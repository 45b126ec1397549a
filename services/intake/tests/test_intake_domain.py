import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from intake.domain import (
    CaseReport,
    ConsultationIn,
    HotlineCallIn,
    WalkInGroupIn,
    case_number,
    case_reported,
    consultation_recorded,
    identify,
    warnings_for,
)
from intake.domain_identifiers import (
    credit_code_check_character,
    credit_code_problem,
    id_number_problem,
    normalise_mobile,
)
from weiquan_shared.demo import consultation, hotline_call, walk_in_group
from weiquan_shared.labels import DISTRICTS
from weiquan_shared.pii import PiiCipher

CIPHER = PiiCipher({"k": b"k" * 32}, "k", b"i" * 32)


def test_id_number_checksum_example_from_domain_md() -> None:
    assert id_number_problem("11010519491231002X") is None
    assert id_number_problem("110105194912310021") == "校验码不正确，请核对"
    assert id_number_problem("110105194902300021") == "出生日期部分无效"
    assert id_number_problem("110105210012310021", today=date(2026, 1, 1)) == "出生日期部分无效"
    assert "18位" in (id_number_problem("1101051949") or "")


def test_credit_code_worked_example_from_domain_md() -> None:
    assert credit_code_check_character("91350100M000100Y4") == "3"
    assert credit_code_problem("91350100M000100Y43") is None
    assert "校验位" in (credit_code_problem("91350100M000100Y44") or "")
    assert "18位" in (credit_code_problem("91350100M000100Y4I") or "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13912345678", "+8613912345678"),
        ("+8613912345678", "+8613912345678"),
        ("86 139-1234-5678", "+8613912345678"),
        ("19912345678", "+8619912345678"),
        ("１３９１２３４５６７８", "+8613912345678"),  # full-width digits (Chinese IME)
        ("＋86 (139) 1234 5678", "+8613912345678"),
        ("139\u30001234\u30005678", "+8613912345678"),  # ideographic spaces
        ("14012345678", None),  # shape fits, block not allocated
        ("1391234567", None),
        ("23912345678", None),
    ],
)
def test_mobiles_are_checked_by_phonenumbers_and_stored_as_e164(raw, expected) -> None:
    assert normalise_mobile(raw) == expected


def test_case_number_is_district_year_sequence() -> None:
    assert case_number("440305", 2026, 123) == "440305-2026-000123"


def test_demo_data_is_valid_on_every_channel() -> None:
    rng = random.Random(7)
    for _ in range(50):
        call = HotlineCallIn.model_validate(hotline_call(rng, workers=rng.randint(1, 3)))
        assert all(w.mobile.startswith("+861") for w in call.workers)
        WalkInGroupIn.model_validate(walk_in_group(rng, workers=rng.randint(1, 12)))
        ConsultationIn.model_validate(consultation(rng))


def test_future_call_time_is_refused_in_chinese() -> None:
    call = hotline_call(random.Random(1), called_at=datetime.now(UTC) + timedelta(days=2))
    with pytest.raises(ValidationError, match="来电时间不能晚于现在"):
        HotlineCallIn.model_validate(call)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("demands"), "Field required"),
        (lambda c: c.pop("consent"), "Field required"),
        (lambda c: c["consent"].update(agreed=False), "须经职工同意"),
        (lambda c: c["consent"].update(wording_version="1999"), "没有这个版本的告知文本"),
        (lambda c: c.update(knew_of_infringement_on="2999-01-01"), "不能晚于今天"),
        (lambda c: c.update(employment_ended_on="1900-01-01"), "不能早于1950年"),
        (lambda c: c.update(claim_amount="-1"), "greater than or equal to 0"),
        (lambda c: c.update(description="工资\x00没发啊啊"), "控制字符"),
    ],
)
def test_hotline_rules(change, message) -> None:
    call = hotline_call(random.Random(2))
    change(call)
    with pytest.raises(ValidationError, match=message):
        HotlineCallIn.model_validate(call)


def test_failing_credit_code_warns_but_does_not_block() -> None:
    call = hotline_call(random.Random(3))
    call["employer"]["credit_code"] = "91350100m000100y44"
    parsed = HotlineCallIn.model_validate(call)
    assert parsed.employer.credit_code == "91350100M000100Y44"
    [warning] = warnings_for(parsed)
    assert warning.field == "employer.credit_code" and "不影响登记" in warning.message
    call["employer"]["credit_code"] = "91350100M000100Y43"
    assert warnings_for(HotlineCallIn.model_validate(call)) == []


def test_event_carries_no_personal_data() -> None:
    raw = hotline_call(random.Random(3), workers=2)
    first = raw["workers"][0]
    raw["description"] = f"我是{first['name']}，电话{first['mobile']}。" + raw["description"]
    raw["demands"] = f"{first['name']}要求支付工资，身份证{first['id_number']}"
    call = HotlineCallIn.model_validate(raw)
    identities = [identify(w, CIPHER) for w in call.workers]
    event = case_reported(
        CaseReport.from_hotline(call, "u-1"),
        case_id=uuid.uuid4(),
        number="x",
        identities=identities,
    )
    text = event.model_dump_json()
    for worker in raw["workers"]:
        assert worker["name"] not in text
        assert worker["mobile"] not in text
        assert worker["id_number"] not in text
    assert [w.worker_ref for w in event.workers] == [i.ref for i in identities]
    assert event.channel == "hotline" and event.demands


def test_walk_in_group_is_one_report_with_every_worker() -> None:
    group = WalkInGroupIn.model_validate(walk_in_group(random.Random(4), workers=12, employer=0))
    report = CaseReport.from_walk_in(group, "u-2")
    assert (report.channel, report.channel_ref) == ("walk_in", str(group.desk_submission_id))
    identities = [identify(w, CIPHER) for w in group.workers]
    event = case_reported(report, case_id=uuid.uuid4(), number="x", identities=identities)
    assert len({w.worker_ref for w in event.workers}) == 12


def test_consultation_event_drops_numbers_from_the_question() -> None:
    raw = consultation(random.Random(5))
    raw["question"] = "我手机13912345678，" + raw["question"]
    parsed = ConsultationIn.model_validate(raw)
    event = consultation_recorded(parsed, consultation_id=uuid.uuid4())
    assert "13912345678" not in event.summary and event.topic == raw["topic"]


def test_same_worker_same_ref_across_cases() -> None:
    call = HotlineCallIn.model_validate(hotline_call(random.Random(5)))
    assert identify(call.workers[0], CIPHER).ref == identify(call.workers[0], CIPHER).ref


def _id_with_region(region: str) -> str:
    first17 = region + "19900101123"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


@pytest.mark.parametrize("region", ["000000", "990101", "101010", "240101", "720101", "901234"])
def test_id_number_outside_every_province_is_refused_in_chinese(region: str) -> None:
    assert id_number_problem(_id_with_region(region)) == (
        "前6位地址码不是有效的省级行政区划代码，请核对"
    )


@pytest.mark.parametrize("region", ["110105", "440305", "650102", "710000", "810000", "820000"])
def test_id_number_of_a_real_province_passes(region: str) -> None:
    assert id_number_problem(_id_with_region(region)) is None


@pytest.mark.parametrize("code", ["000000", "999999", "440399", "110105"])
def test_district_outside_the_district_table_is_refused_in_chinese(code: str) -> None:
    call = hotline_call(random.Random(6))
    call["employer"]["district_code"] = code
    with pytest.raises(ValidationError, match=f"区县代码 {code} 不在本市区县表中"):
        HotlineCallIn.model_validate(call)
    question = consultation(random.Random(6))
    question["district_code"] = code
    with pytest.raises(ValidationError, match="不在本市区县表中"):
        ConsultationIn.model_validate(question)


def test_every_district_of_the_table_is_accepted_including_yantian() -> None:
    call = hotline_call(random.Random(6))
    for code in DISTRICTS:
        call["employer"]["district_code"] = code
        assert HotlineCallIn.model_validate(call).employer.district_code == code
    assert "440308" in DISTRICTS


def test_case_event_redacts_typed_numbers_and_cued_names() -> None:
    raw = hotline_call(random.Random(8))
    raw["description"] = (
        "我手机139 1234 0001，身份证110105-19491231-002X，工友李明和同事赵小红也没拿到工资"
    )
    raw["demands"] = "联系 +86 138-0013-8000 支付工资"
    call = HotlineCallIn.model_validate(raw)
    identities = [identify(w, CIPHER) for w in call.workers]
    event = case_reported(
        CaseReport.from_hotline(call, "u-1"),
        case_id=uuid.uuid4(),
        number="x",
        identities=identities,
    )
    text = event.model_dump_json()
    for planted in ("13912340001", "139 1234 0001", "002X", "李明", "赵小红", "13800138000"):
        assert planted not in text.replace("-", "")
    assert "工友李某和同事赵某也没拿到工资" in event.summary


def test_consultation_event_drops_the_callers_name() -> None:
    raw = consultation(random.Random(5))
    raw["question"] = "我叫孙志强，" + raw["question"]
    event = consultation_recorded(ConsultationIn.model_validate(raw), consultation_id=uuid.uuid4())
    assert "孙志强" not in event.summary and event.summary.startswith("我叫孙某，")
