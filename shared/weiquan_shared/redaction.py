"""Removing personal data from free text before it is stored in clear, published or logged.

People type numbers the way they read them out: ``139 1234 0001``, ``139-1234-0001``,
``+86 139…``, full-width ``１３９…`` from a Chinese input method. Numbers are therefore
matched on a copy of the text where full-width forms are folded to ASCII (one character
for one, so positions carry over) and single separators between digits are allowed.

Names are removed when they are known (the case's workers) or introduced by a cue word
(我叫王建国, 工友李明和张伟, 同事：赵小红): a common surname and one or two given-name
characters, stopping at characters that begin ordinary words (也, 和, 都, 说, …) so that
「同事们都说」 or 「工友向公司讨薪」 are left as they are. A removed name keeps its surname
(王建国 → 王某), the usual form of Chinese court documents and news reports.
"""

from __future__ import annotations

import re

MOBILE_REDACTED = "[手机号已隐去]"
ID_NUMBER_REDACTED = "[身份证号已隐去]"

# Full-width digits, letters X/x, plus, hyphen and space folded to ASCII, one for one.
_FOLD = str.maketrans("０１２３４５６７８９Ｘｘ＋－\u3000\u00a0", "0123456789Xx+-  ")
_TO_FOLD = re.compile("[０-９Ｘｘ＋－\u3000\u00a0]")
# At most one separator between two digits (a space, a hyphen or a dot).
_SEP = r"[ \t\-.]?"
_ID_NUMBER = re.compile(rf"(?<![0-9A-Za-z])\d(?:{_SEP}\d){{16}}{_SEP}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(
    rf"(?<![0-9+])(?:(?:\+|00)?86{_SEP}[ ]?)?(?:\(\+?86\)[ ]?)?1{_SEP}[3-9](?:{_SEP}\d){{9}}(?!\d)"
)

# The most common surnames (about nine in ten people in mainland China), single and compound.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史"
    "陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤庞樊兰殷施陈牛洪季葛温柳易乔伍齐岳申骆焦鲁左车"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "慕容", "司徒")
# Characters that start the words after a name, not a given name: 工友李明也没拿到.
_NOT_GIVEN_NAME = set(
    "也和与及跟同都说讲在是的了着过被把给让叫向对从到去来回还就又再才已没不未无很太都"
    "们他她它我你您这那哪些个一二三四五六七八九十百千万元块月年日号天时点分人上下里老"
    "公司厂店老板工资钱款要求讨欠拖打找请问想能会可应该等各每其所因为由于而但或并且"
    "，。、；：！？,.;:!?（）() \n\t"
)
# Words that introduce a person's name.
_CUES = (
    "我叫",
    "名叫",
    "叫做",
    "本人",
    "姓名",
    "联系人",
    "工友",
    "同事",
    "老乡",
    "班长",
    "组长",
    "工头",
    "老板",
    "妻子",
    "丈夫",
    "爱人",
)
_HAN = "\u4e00-\u9fff"
_SURNAME = "(?:" + "|".join(_COMPOUND_SURNAMES) + f"|[{_SURNAMES}])"
_GIVEN = f"(?:[{_HAN}](?<![{''.join(sorted(c for c in _NOT_GIVEN_NAME if c >= chr(0x4E00)))}]))"
_NAME = f"{_SURNAME}{_GIVEN}{_GIVEN}?"
_CUED_NAMES = re.compile(
    "(?:" + "|".join(_CUES) + f")[：:，, ]?(?P<names>{_NAME}(?:[、和及与跟]{_NAME})*)"
)
_ONE_NAME = re.compile(f"(?P<surname>{_SURNAME})(?P<given>{_GIVEN}{_GIVEN}?)")


def redact_text(text: str, names: tuple[str, ...] = ()) -> str:
    """``text`` without mobiles, ID numbers, the given ``names`` and names after cue words.

    A name introduced by a cue word is removed wherever else it appears in the text too
    (工友韩立新……韩立新的电话).
    """
    text = _redact_numbers(text)
    cued = {
        name.group(0)
        for introduced in _CUED_NAMES.finditer(text)
        for name in _ONE_NAME.finditer(introduced.group("names"))
    }
    known = {n.strip() for n in names if n and len(n.strip()) >= 2} | cued
    for name in sorted(known, key=len, reverse=True):
        text = text.replace(name, _surname_only(name))
    return text


def _redact_numbers(text: str) -> str:
    folded = text.translate(_FOLD) if _TO_FOLD.search(text) else text
    spans: list[tuple[int, int, str]] = []
    for match in _ID_NUMBER.finditer(folded):
        spans.append((match.start(), match.end(), ID_NUMBER_REDACTED))
    taken = [(start, end) for start, end, _ in spans]
    for match in _MOBILE.finditer(folded):
        if not any(start < match.end() and match.start() < end for start, end in taken):
            spans.append((match.start(), match.end(), MOBILE_REDACTED))
    for start, end, replacement in sorted(spans, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _surname_only(name: str) -> str:
    surname = next((s for s in _COMPOUND_SURNAMES if name.startswith(s)), name[0])
    return surname + "某"
