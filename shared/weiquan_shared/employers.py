"""Which employer a case is against, across districts and spellings.

An employer is its unified social credit code (统一社会信用代码) when intake has one, else
its name, normalised: full-width and half-width forms, case, spaces and punctuation, and
"有限责任公司" written as "有限公司" no longer tell two spellings apart. A company with
cases in five districts is one employer: this is how figures count employers. (Triage's
group and repeat-employer rules add the district to a name without a code; see
``triage.grouping.employer_key``.)
"""

from __future__ import annotations

import re
import unicodedata

from weiquan_shared.events import EmployerRef

_PUNCTUATION = re.compile(r"[\s\(\)\[\]（）【】《》“”\"'·.,，、。\-_/]+")


def normalised_name(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).lower()
    return _PUNCTUATION.sub("", folded).replace("有限责任公司", "有限公司")


def employer_identity(employer: EmployerRef) -> str:
    """``uscc:<code>``, or ``name:<normalised name>`` when there is no code."""
    if employer.credit_code:
        return f"uscc:{employer.credit_code.strip().upper()}"
    return f"name:{normalised_name(employer.name)}"
