"""The WeChat conversation, step by step, without WeChat or a database."""

import random
from datetime import UTC, datetime
from decimal import Decimal

from intake.domain import DisputeIn
from intake.domain_wechat import IDLE, QUESTIONS, STEPS, WELCOME, Conversation, step
from weiquan_shared.demo import wechat_answers

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def run(messages: list[str]) -> tuple[Conversation, list[str], DisputeIn | None]:
    conversation: Conversation = Conversation()
    replies: list[str] = []
    dispute: DisputeIn | None = None
    for text in messages:
        turn = step(conversation, text, NOW)
        conversation, dispute = turn.conversation, turn.dispute
        replies.append(turn.reply)
    return conversation, replies, dispute


def test_a_whole_conversation_makes_a_valid_dispute() -> None:
    answers = wechat_answers(random.Random(1), story=0)
    conversation, replies, dispute = run(answers)
    assert conversation == Conversation()  # answers forgotten once the case exists
    assert replies[0] == QUESTIONS["name"]
    assert replies[-2] == QUESTIONS["consent"]
    assert dispute is not None
    assert dispute.workers[0].mobile == "+86" + answers[2]
    assert dispute.claim_amount == Decimal(answers[7])
    assert dispute.consent.given_at == NOW


def test_a_wrong_answer_is_asked_again_in_chinese() -> None:
    conversation = Conversation("mobile", {"name": "王建国"})
    turn = step(conversation, "12345", NOW)
    assert turn.conversation == conversation
    assert turn.reply.startswith("手机号不正确") and QUESTIONS["mobile"] in turn.reply


def test_district_by_menu_number_name_or_code() -> None:
    for text in ("3", "南山区", "南山", "440305"):
        turn = step(Conversation("district", {}), text, NOW)
        assert turn.conversation.answers["district"] == "440305", text
    assert step(Conversation("district", {}), "火星区", NOW).conversation.step == "district"


def test_amounts_in_chinese_habits() -> None:
    for text, expected in (("2.4万", "24000.00"), ("24,000元", "24000.00"), ("无", "")):
        turn = step(Conversation("amount", {}), text, NOW)
        assert turn.conversation.answers["amount"] == expected
    assert step(Conversation("amount", {}), "-5", NOW).conversation.step == "amount"
    assert step(Conversation("amount", {}), "很多", NOW).conversation.step == "amount"


def test_refusing_consent_forgets_everything() -> None:
    answers = wechat_answers(random.Random(2))
    conversation, replies, dispute = run([*answers[:-1], "不同意"])
    assert dispute is None and conversation == Conversation()
    assert "未保存" in replies[-1]


def test_query_and_cancel_work_at_any_step() -> None:
    middle = Conversation("employer", {"name": "王建国"})
    turn = step(middle, "查询 440305-2026-000123", NOW)
    assert turn.query == "440305-2026-000123" and turn.conversation == middle
    assert step(middle, "查询　440305-2026-000123", NOW).query == "440305-2026-000123"
    assert "请按格式" in step(middle, "查询一下", NOW).reply
    assert step(middle, "取消", NOW).conversation.step == IDLE


def test_anything_else_when_idle_gets_the_welcome() -> None:
    assert step(Conversation(), "你好", NOW).reply == WELCOME
    assert len(STEPS) == 8
