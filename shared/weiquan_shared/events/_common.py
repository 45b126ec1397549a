"""Types shared by several services' event payloads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["hotline", "wechat", "walk_in"]
Category = Literal[
    "wage_arrears",
    "termination",
    "no_written_contract",
    "overtime",
    "social_insurance",
    "work_injury",
    "female_protection",
    "platform_work",
    "other",
]
Urgency = Literal["critical", "urgent", "normal"]
Route = Literal["consultation", "mediation", "legal_aid", "referral"]

DistrictCode = Field(pattern=r"^\d{6}$", description="Administrative division code (GB/T 2260)")


class EmployerRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    credit_code: str | None = Field(default=None, description="Unified social credit code")
    district_code: str = DistrictCode
    industry: str | None = None


class WorkerRef(BaseModel):
    """A worker as other services see one: a pseudonym and the facts that drive routing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    worker_ref: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="Keyed hash of the worker's ID number or mobile"
    )
    is_migrant_worker: bool = False
    is_platform_worker: bool = False
