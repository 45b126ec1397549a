"""The WeChat conversation that makes a case, free of I/O: one step per message.

A worker writes 「登记」; the account asks, one question per message, for the name, mobile,
employer, district, what happened, what the worker asks for and the amount, then shows
the consent wording and waits for 「同意」. The answers are validated with the same rules
as the hotline and walk-in forms (:class:`intake.domain.DisputeIn`), so a case from
WeChat is exactly as valid as one from the desk. 「查询 <案件编号>」 and 「取消」 work at any
point. The state (step and answers) is stored by the caller, encrypted: answers are
personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from intake.domain import CONSENT_WORDINGS, CURRENT_CONSENT_VERSION, DisputeIn
from intake.domain_identifiers import normalise_mobile
from weiquan_shared import labels

# The union's districts (the shared table), offered as a numbered menu; a district's
# name or six-digit code is accepted too.
DISTRICTS: tuple[tuple[str, str], ...] = tuple(labels.DISTRICTS.items())

STEPS = (
    "name",
    "mobile",
    "employer",
    "district",
    "description",
    "demands",
    "amount",
    "consent",
)
IDLE = "idle"

WELCOME = (
    "您好，这里是职工维权服务。\n"
    "· 登记劳动争议（欠薪、辞退、工伤、社保等），请回复「登记」\n"
    "· 查询已登记的案件，请回复「查询 案件编号」，如：查询 440305-2026-000123\n"
    "· 也可拨打 12351 职工服务热线咨询。"
)
_DISTRICT_MENU = "\n".join(f"{i}. {name}" for i, (_, name) in enumerate(DISTRICTS, start=1))
QUESTIONS: dict[str, str] = {
    "name": "好的，我们开始登记，共8个问题，随时回复「取消」可退出。\n1/8 请问您的姓名？",
    "mobile": "2/8 请输入您的手机号（11位），工作人员会用它联系您。",
    "employer": "3/8 您所在的用人单位（公司）全称是？",
    "district": "4/8 单位在哪个区？请回复序号：\n" + _DISTRICT_MENU,
    "description": "5/8 请简单说说发生了什么（如：拖欠几个月工资、何时被辞退）。",
    "demands": "6/8 您希望单位做什么？（如：支付拖欠工资、支付经济补偿）",
    "amount": "7/8 涉及金额大约多少元？不涉及金额请回复「无」。",
    "consent": (
        "8/8 个人信息处理告知：\n"
        + CONSENT_WORDINGS[CURRENT_CONSENT_VERSION]
        + "\n同意请回复「同意」；不同意请回复「不同意」。"
    ),
}

_QUERY = re.compile(r"^查询\s*[:：]?\s*(\d{6}-\d{4}-\d{6})$")
_CANCEL = {"取消", "退出", "重新开始"}
_START = {"登记", "我要登记", "维权", "投诉", "1"}


@dataclass(frozen=True)
class Conversation:
    step: str = IDLE
    answers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Turn:
    """What one message does: the reply, the next state, and maybe a case or a query."""

    reply: str
    conversation: Conversation
    dispute: DisputeIn | None = None  # complete: register it and tell the case number
    query: str | None = None  # a case number the worker asks about


def step(conversation: Conversation, text: str, received_at: datetime) -> Turn:
    """The conversation's answer to one text message."""
    text = text.strip()
    query = _QUERY.fullmatch(text.replace("\u3000", " "))
    if query:
        return Turn("", conversation, query=query.group(1))
    if text.startswith("查询"):
        return Turn("请按格式回复：查询 案件编号，如：查询 440305-2026-000123", conversation)
    if text in _CANCEL:
        return Turn(
            "已取消本次登记，您填写的内容已清除。需要时回复「登记」重新开始。", Conversation()
        )
    if conversation.step == IDLE:
        if text in _START:
            return Turn(QUESTIONS["name"], Conversation("name", {}))
        return Turn(WELCOME, conversation)
    return _answer(conversation, text, received_at)


def _answer(conversation: Conversation, text: str, received_at: datetime) -> Turn:
    current = conversation.step
    value, problem = _parse(current, text)
    if problem:
        return Turn(f"{problem}\n{QUESTIONS[current]}", conversation)
    if current == "consent":
        if value != "agreed":
            return Turn(
                "您未同意个人信息处理，本次登记未保存，填写的内容已清除。"
                "您仍可拨打 12351 职工服务热线咨询，不需要留下个人信息。",
                Conversation(),
            )
        return _complete(conversation, received_at)
    answers = {**conversation.answers, current: value}
    following = STEPS[STEPS.index(current) + 1]
    return Turn(QUESTIONS[following], Conversation(following, answers))


def _parse(current: str, text: str) -> tuple[str, str | None]:
    """(value to keep, None) or ("", the Chinese reason to ask again)."""
    if current == "name":
        if not 2 <= len(text) <= 20 or re.search(r"[\d\s]", text):
            return "", "姓名应为2到20个字，不含数字。"
        return text, None
    if current == "mobile":
        mobile = normalise_mobile(text)
        return (mobile, None) if mobile else ("", "手机号不正确，应为11位中国大陆手机号。")
    if current == "employer":
        if not 2 <= len(text) <= 200:
            return "", "单位名称应为2到200个字。"
        return text, None
    if current == "district":
        return _district(text)
    if current == "description":
        if not 5 <= len(text) <= 2000:
            return "", "请至少用5个字说明情况（最多2000字）。"
        return text, None
    if current == "demands":
        if not 2 <= len(text) <= 1000:
            return "", "请至少用2个字说明您的诉求。"
        return text, None
    if current == "amount":
        return _amount(text)
    if text in {"同意", "我同意"}:
        return "agreed", None
    if text in {"不同意", "拒绝"}:
        return "refused", None
    return "", "请回复「同意」或「不同意」。"


def _district(text: str) -> tuple[str, str | None]:
    if text.isdigit() and 1 <= int(text) <= len(DISTRICTS):
        return DISTRICTS[int(text) - 1][0], None
    for code, name in DISTRICTS:
        if text in (code, name, name.removesuffix("区")):
            return code, None
    return "", "没有找到这个区，请回复菜单中的序号。"


def _amount(text: str) -> tuple[str, str | None]:
    if text in {"无", "没有", "不涉及", "0"}:
        return "", None
    cleaned = text.removesuffix("元").replace(",", "").replace("，", "")
    if cleaned.endswith("万"):
        multiplier, cleaned = Decimal(10000), cleaned[:-1]
    else:
        multiplier = Decimal(1)
    try:
        amount = Decimal(cleaned) * multiplier
    except InvalidOperation:
        return "", "金额请只写数字，如：24000。"
    if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 10:
        return "", "金额应为0到100亿之间的数字。"
    return str(amount.quantize(Decimal("0.01"))), None


def _complete(conversation: Conversation, received_at: datetime) -> Turn:
    answers = conversation.answers
    try:
        dispute = DisputeIn.model_validate(
            {
                "workers": [{"name": answers["name"], "mobile": answers["mobile"]}],
                "employer": {"name": answers["employer"], "district_code": answers["district"]},
                "description": answers["description"],
                "demands": answers["demands"],
                "claim_amount": answers.get("amount") or None,
                "consent": {
                    "agreed": True,
                    "wording_version": CURRENT_CONSENT_VERSION,
                    "given_at": received_at,
                },
            }
        )
    except (ValidationError, KeyError):
        return Turn(
            "登记信息不完整或有误，请回复「登记」重新填写，或拨打 12351 职工服务热线。",
            Conversation(),
        )
    return Turn("", Conversation(), dispute=dispute)


def registered_reply(case_number: str) -> str:
    return (
        f"登记成功！您的案件编号是 {case_number}，请保存。\n"
        "工会工作人员会尽快与您联系。回复「查询 "
        f"{case_number}」可查看办理进度。"
    )


def status_reply(case_number: str, status: str | None, registered_on: str | None) -> str:
    if status is None:
        return f"没有找到您登记的案件 {case_number}。只能查询本微信号登记的案件，请核对编号。"
    return f"案件 {case_number}：{status}（{registered_on} 登记）。"
