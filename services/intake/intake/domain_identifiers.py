"""Checks of Chinese identifiers, free of I/O (DOMAIN.md §9).

Each check answers ``None`` when the value is valid, or the Chinese reason a person can act
on. Whether a failure blocks a submission is the caller's decision: an ID number or mobile
that fails is refused, a credit code that fails only warns (some real codes fail the check).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# GB/T 2260 province-level codes: the first two digits of a real address code.
PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)

# GB 32100-2015: 31 characters valued 0–30, weights 3^(i-1) mod 31.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

# The permissive shape of a mainland mobile (DOMAIN.md §9), optionally with +86 / 86.
MOBILE_SHAPE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def id_number_problem(id_number: str, today: date | None = None) -> str | None:
    """Why a citizen ID number (GB 11643-1999) is invalid, or None when it is valid."""
    if not re.fullmatch(r"\d{17}[\dX]", id_number):
        return "应为18位，前17位为数字，最后一位为数字或X"
    if int(id_number[:2]) not in PROVINCE_CODES:
        return "前6位地址码不是有效的省级行政区划代码，请核对"
    try:
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return "出生日期部分无效"
    if born.year < 1900 or born > (today or date.today()):
        return "出生日期部分无效"
    total = sum(int(d) * w for d, w in zip(id_number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != id_number[17]:
        return "校验码不正确，请核对"
    return None


def credit_code_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015)."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why a unified social credit code fails its check, or None when it passes."""
    if len(code) != 18 or any(c not in CREDIT_CODE_ALPHABET for c in code):
        return "应为18位，由数字和大写字母（不含I、O、S、V、Z）组成"
    if credit_code_check_character(code[:17]) != code[17]:
        return "校验位与前17位不符，请与职工或营业执照核对（不影响登记）"
    return None


def compact_mobile(raw: str) -> str:
    """A mobile as typed (spaces, dashes, brackets, full-width digits) reduced to its digits
    and an optional leading ``+``/``86`` (the international prefix ``0086`` reads as ``+86``)."""
    compact = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", raw))
    return "+86" + compact[4:] if compact.startswith("0086") else compact


# The middle dots people type between the parts of a name (买买提·艾力).
_NAME_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", ".": "·", "‧": "·", "∙": "·"})


def normalise_name(raw: str) -> str:
    """A person's name as its blind index reads it: NFKC (full-width letters, compatibility
    characters), no spaces at all, one kind of middle dot, Latin letters in upper case."""
    folded = unicodedata.normalize("NFKC", raw).translate(_NAME_DOTS)
    return re.sub(r"\s+", "", folded).upper()


def normalise_mobile(raw: str) -> str | None:
    """A mainland mobile in E.164 (``+8613912345678``), or None when it is not one.

    Written as people type it: spaces, dashes, brackets, ``+86``, full-width digits. The
    shape is checked first; Google's libphonenumber metadata (the ``phonenumbers``
    package, updated as new number blocks are allocated) then says whether the block exists.
    """
    compact = compact_mobile(raw)
    if not MOBILE_SHAPE.fullmatch(compact):
        return None
    try:
        parsed = phonenumbers.parse(compact, "CN")
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed) or (
        phonenumbers.number_type(parsed) not in _MOBILE_TYPES
    ):
        return None
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
