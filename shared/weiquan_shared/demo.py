"""Realistic Chinese demo data: hotline calls, walk-in groups, consultations and WeChat
conversations, as intake's API and WeChat callback take them.

Used by ``make up`` (the demo data set), the integration tests and the benchmarks. Every
person here is invented; ID numbers carry valid GB 11643 check digits so intake accepts
them, with birth dates and region codes that belong to no real person on purpose.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from weiquan_shared import labels

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红海波玉兰春梅小龙晓东文斌"
DISTRICTS = list(labels.DISTRICTS)
EMPLOYERS = [
    ("深圳市鹏程建筑劳务有限公司", "建筑业"),
    ("深圳市华南电子科技有限公司", "制造业"),
    ("深圳市速达同城配送有限公司", "交通运输业"),
    ("深圳市好味道餐饮管理有限公司", "住宿和餐饮业"),
    ("深圳市安居物业服务有限公司", "物业管理"),
    ("深圳市锦绣服装厂", "制造业"),
    ("深圳市优选超市连锁有限公司", "批发和零售业"),
    ("深圳市蓝天保洁服务有限公司", "居民服务业"),
]
# A city's employers for load tests: invented names, a few large ones drawing most complaints
# (a long tail, as a union's repeat-complaint lists show), so group disputes and repeat
# employers arise at a realistic rate instead of among eight firms.
_BRANDS = "鹏华锦安盛达恒信宏远新创联晟嘉和富康永泰天成金利瑞丰"
_TRADES = [
    ("建筑劳务有限公司", "建筑业"),
    ("电子科技有限公司", "制造业"),
    ("精密五金制品厂", "制造业"),
    ("同城配送有限公司", "交通运输业"),
    ("餐饮管理有限公司", "住宿和餐饮业"),
    ("物业服务有限公司", "物业管理"),
    ("服装有限公司", "制造业"),
    ("商贸有限公司", "批发和零售业"),
    ("保洁服务有限公司", "居民服务业"),
    ("网络科技有限公司", "信息传输、软件和信息技术服务业"),
]


def employer_population(size: int, seed: int = 0) -> list[tuple[str, str]]:
    """``size`` distinct invented employers, as (name, industry), largest first."""
    rng = random.Random(seed)
    found: dict[str, str] = {}
    while len(found) < size:
        brand = "".join(rng.sample(_BRANDS, 2))
        trade, industry = rng.choice(_TRADES)
        found.setdefault(f"深圳市{brand}{trade}", industry)
    return list(found.items())


def zipf_weights(size: int, exponent: float = 1.0) -> list[float]:
    """Cumulative weights for ``random.choices``: employer i draws ∝ 1 / (i + 1) ** exponent."""
    total, cumulative = 0.0, []
    for i in range(size):
        total += 1 / (i + 1) ** exponent
        cumulative.append(total)
    return cumulative


# (category the description is about, description template, claim in yuan or None)
# Allocated mainland mobile blocks (the phonenumbers metadata accepts all of them).
MOBILE_PREFIXES = [
    *(f"13{d}" for d in range(10)),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159"),
    *("166", "176", "177", "178"),
    *(f"18{d}" for d in range(10)),
    *("191", "193", "195", "196", "197", "198", "199"),
]
CONSENT_VERSION = "2026-01"
# What a worker asks for, by story category (LDA Art.12: the matters in dispute).
DEMANDS = {
    "wage_arrears": "要求支付拖欠的工资{amount}元",
    "termination": "要求支付违法解除劳动合同赔偿金",
    "no_written_contract": "要求支付未签劳动合同的二倍工资差额",
    "overtime": "要求支付加班费",
    "social_insurance": "要求补缴社会保险",
    "work_injury": "要求申报工伤并报销医疗费",
    "female_protection": "要求恢复原岗位和工资待遇",
    "platform_work": "要求退还被扣的{amount}元",
}
STORIES: list[tuple[str, str, int | None]] = [
    ("wage_arrears", "在工地干了{m}个月，老板拖欠工资{amount}元一直不发，多次讨要都说再等等。", 1),
    ("wage_arrears", "公司已经{m}个月没发工资了，拖欠金额约{amount}元，车间几十个工友都一样。", 1),
    ("termination", "公司以业绩不达标为由口头辞退，没有任何经济补偿，工作了{m}年。", 1),
    ("termination", "被公司突然解除劳动合同，没有提前三十天通知，要求支付赔偿金。", 1),
    ("no_written_contract", "入职{m}个月了公司一直没签合同，想问能不能要求双倍工资。", 1),
    ("overtime", "每天加班到晚上十点，周末也上班，公司从来不给加班费。", 1),
    ("social_insurance", "公司一直没有给我缴纳社保，养老保险和医疗保险都断缴了。", None),
    ("work_injury", "在车间操作机器时手指受伤骨折，公司不肯申报工伤，医药费也不报。", 1),
    ("female_protection", "怀孕后公司调岗降薪，还暗示我主动离职，现在孕期五个月。", 1),
    ("platform_work", "在平台做外卖骑手，平台算法派单超时就扣钱，这个月被扣了{amount}元。", 1),
]


def _id_number(rng: random.Random, district: str, born: date) -> str:
    body = f"{district}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def worker(rng: random.Random, platform: bool = False) -> dict[str, Any]:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    born = date(1970, 1, 1) + timedelta(days=rng.randint(0, 365 * 35))
    return {
        "name": name,
        "mobile": f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}",
        "id_number": _id_number(rng, rng.choice(["430521", "510129", "412726", "452122"]), born),
        "is_migrant_worker": rng.random() < 0.6,
        "is_platform_worker": platform,
    }


def hotline_call(
    rng: random.Random,
    *,
    call_id: str | None = None,
    called_at: datetime | None = None,
    workers: int = 1,
    story: int | None = None,
    employer: int | None = None,
    district: str | None = None,
    employers: list[tuple[str, str]] = EMPLOYERS,
) -> dict[str, Any]:
    """One call as the operator submits it to ``POST /api/v1/hotline-calls``.

    ``employer`` picks one of ``employers`` by index; by default one is drawn at random.
    """
    category, template, has_claim = STORIES[rng.randrange(len(STORIES)) if story is None else story]
    amount = rng.randint(30, 600) * 100
    employer_name, industry = employers[
        rng.randrange(len(employers)) if employer is None else employer
    ]
    called_at = called_at or datetime.now(UTC) - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
    call_ref = call_id or f"12351-{called_at:%Y%m%d}-{rng.randint(0, 10**8):08d}"
    _retired_staff_id(rng)
    return {
        "call_id": call_ref,
        "called_at": called_at.isoformat(),
        "workers": [worker(rng, platform=category == "platform_work") for _ in range(workers)],
        "employer": {
            "name": employer_name,
            "district_code": district or rng.choice(DISTRICTS),
            "industry": industry,
        },
        "description": template.format(m=rng.randint(2, 8), amount=amount),
        "demands": DEMANDS[category].format(amount=amount),
        "claim_amount": str(amount) if has_claim else None,
        "knew_of_infringement_on": (called_at - timedelta(days=rng.randint(5, 200)))
        .date()
        .isoformat(),
        "consent": consent(called_at),
    }


def _retired_staff_id(rng: random.Random, *, desk: bool = False) -> dict[str, Any]:
    """Bodies once carried the staff id, drawn here; the signed-in person replaced it. The
    draw stays, so every seeded data set (tests, benchmarks, demo) is the one it was."""
    rng.randint(1, 9 if desk else 24)
    return {}


def consent(given_at: datetime) -> dict[str, Any]:
    return {"agreed": True, "wording_version": CONSENT_VERSION, "given_at": given_at.isoformat()}


def walk_in_group(
    rng: random.Random,
    *,
    desk_submission_id: str | None = None,
    visited_at: datetime | None = None,
    workers: int = 1,
    story: int | None = None,
    employer: int | None = None,
    district: str | None = None,
) -> dict[str, Any]:
    """Co-workers of one employer registered together at a workers' service centre.

    The body for ``POST /api/v1/walk-in-registrations``: the dispute as in
    :func:`hotline_call`, with the desk's submission id, visit time and centre.
    """
    visited_at = visited_at or datetime.now(UTC) - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
    call = hotline_call(
        rng,
        called_at=visited_at,
        workers=workers,
        story=story,
        employer=employer,
        district=district,
    )
    for key in ("call_id", "called_at"):
        call.pop(key)
    return {
        **call,
        "desk_submission_id": desk_submission_id or str(uuid.UUID(int=rng.getrandbits(128))),
        "visited_at": visited_at.isoformat(),
        **_retired_staff_id(rng, desk=True),
        "centre": rng.choice(CENTRES),
    }


CENTRES = ["南山区职工服务中心", "宝安区职工服务中心", "龙华区职工服务中心", "福田区工会驿站"]
CONSULTATIONS: list[tuple[str, str, str]] = [
    (
        "no_written_contract",
        "入职三个月了公司还没签劳动合同，能不能要求双倍工资？",
        "告知劳动合同法第八十二条：用工满一个月次日起可主张二倍工资，建议保留考勤和工资记录。",
    ),
    (
        "overtime",
        "周末加班公司只给调休不给加班费，合法吗？",
        "告知休息日加班可安排补休，不能补休的应支付不低于工资200%的报酬。",
    ),
    (
        "social_insurance",
        "试用期公司说不交社保，这样可以吗？",
        "告知试用期包含在劳动合同期限内，用人单位应当依法缴纳社会保险。",
    ),
    (
        "termination",
        "我想辞职，需要提前多久通知公司？",
        "告知劳动合同法第三十七条：提前三十日书面通知，试用期内提前三日。",
    ),
]


def consultation(
    rng: random.Random,
    *,
    channel_ref: str | None = None,
    occurred_at: datetime | None = None,
    channel: str = "hotline",
) -> dict[str, Any]:
    """A question answered on the spot, for ``POST /api/v1/consultations``."""
    topic, question, answer = rng.choice(CONSULTATIONS)
    occurred_at = occurred_at or datetime.now(UTC) - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
    return {
        "channel": channel,
        "channel_ref": channel_ref or f"12351-{occurred_at:%Y%m%d}-{rng.randint(0, 10**8):08d}",
        "occurred_at": occurred_at.isoformat(),
        **_retired_staff_id(rng),
        "district_code": rng.choice(DISTRICTS),
        "topic": topic,
        "question": question,
        "answer": answer,
    }


def wechat_answers(rng: random.Random, story: int | None = None) -> list[str]:
    """What a worker types to the official account, message by message, to make a case."""
    category, template, has_claim = STORIES[rng.randrange(len(STORIES)) if story is None else story]
    amount = rng.randint(30, 600) * 100
    person = worker(rng)
    employer_name, _ = rng.choice(EMPLOYERS)
    return [
        "登记",
        person["name"],
        person["mobile"],
        employer_name,
        str(rng.randint(1, 9)),  # the district menu's number
        template.format(m=rng.randint(2, 8), amount=amount),
        DEMANDS[category].format(amount=amount),
        str(amount) if has_claim else "无",
        "同意",
    ]


def story_category(call: dict[str, Any]) -> str:
    """The category a demo call's description was written for (the expected triage)."""
    for category, template, _ in STORIES:
        if call["description"][:8] == template[:8]:
            return category
    raise ValueError("not a demo call")
