"""The free-text redaction over the forms people really type, and text it must leave alone."""

from __future__ import annotations

import pytest

from weiquan_shared.redaction import ID_NUMBER_REDACTED, MOBILE_REDACTED, redact_text

MOBILE = "13912340001"
ID_NUMBER = "11010519491231002X"


@pytest.mark.parametrize(
    "typed",
    [
        "13912340001",
        "139 1234 0001",
        "139-1234-0001",
        "139 - 1234 - 0001".replace(" - ", "-"),
        "1391234 0001",
        "+8613912340001",
        "+86 139 1234 0001",
        "+86-139-1234-0001",
        "8613912340001",
        "(+86)139 1234 0001",
        "１３９１２３４０００１",
        "１３９ １２３４ ０００１",
        "139\u30001234\u30000001",
        "139.1234.0001",
    ],
)
def test_mobiles_in_every_typed_form_are_removed(typed: str) -> None:
    redacted = redact_text(f"我的电话是{typed}，请联系。")
    assert redacted == f"我的电话是{MOBILE_REDACTED}，请联系。"


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002X",
        "11010519491231002x",
        "110105 19491231 002X",
        "110105-19491231-002X",
        "110105 1949 1231 002X",
        "１１０１０５１９４９１２３１００２Ｘ",
    ],
)
def test_id_numbers_in_every_typed_form_are_removed(typed: str) -> None:
    redacted = redact_text(f"身份证号{typed}。")
    assert redacted == f"身份证号{ID_NUMBER_REDACTED}。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我叫王建国，在工地干活", "我叫王某，在工地干活"),
        ("本人李明，被拖欠工资", "本人李某，被拖欠工资"),
        ("姓名：赵小红", "姓名：赵某"),
        ("工友李明和张伟也没拿到工资", "工友李某和张某也没拿到工资"),
        ("同事刘芳、陈静都被辞退", "同事刘某、陈某都被辞退"),
        ("老乡周建军介绍我来的", "老乡周某介绍我来的"),
        ("班长欧阳修文说月底发", "班长欧阳某说月底发"),
        ("工友孙磊也在", "工友孙某也在"),
        ("老板黄志强不接电话", "老板黄某不接电话"),
        ("工友韩立新也没拿到，韩立新的电话打不通", "工友韩某也没拿到，韩某的电话打不通"),
    ],
)
def test_names_after_cue_words_keep_only_the_surname(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_known_names_are_removed_wherever_they_appear() -> None:
    text = "王建国和宋小宝去讨薪，王建国被打伤"
    assert redact_text(text, ("王建国", "宋小宝")) == "王某和宋某去讨薪，王某被打伤"


@pytest.mark.parametrize(
    "ordinary",
    [
        "公司拖欠2026年8月至10月工资共计24000元，多次讨要未果。",
        "同事们都说老板跑路了",
        "工友向公司讨薪被拒",
        "工友马上要回老家过年",
        "本人在公司工作三年，没签合同",
        "我叫不出他的名字",
        "2026-11-24 13:30 在南山区劳动站",
        "合同编号 2026-0012-3456，工号 139",
        "加班费按1.5倍计算，每月加班36小时",
        "要求支付经济补偿金 13 500 元",
        "统一社会信用代码 91350100M000100Y43",
        "同事关系很好",
        "班长让我们等通知",
    ],
)
def test_ordinary_text_is_left_as_it_is(ordinary: str) -> None:
    assert redact_text(ordinary) == ordinary


def test_everything_together() -> None:
    text = (
        "我叫王建国，手机 139-1234-0001，身份证 110105 19491231 002X；"
        "工友李明（+86 138 0013 8000）也被拖欠工资24000元。"
    )
    redacted = redact_text(text, ("王建国",))
    assert redacted == (
        f"我叫王某，手机 {MOBILE_REDACTED}，身份证 {ID_NUMBER_REDACTED}；"
        f"工友李某（{MOBILE_REDACTED}）也被拖欠工资24000元。"
    )
