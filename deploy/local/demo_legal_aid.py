"""Legal aid's demo data for `make up`: the panel of lawyers, the demo lawyer's account
linked to a panel entry, and a few of the applications triage routed to legal aid taken
forward by the demo legal-aid officer (household facts and documents recorded, one
decided and assigned, one asked once for missing documents).

Every person and firm here is invented. Runs after demo_data.py; running it again changes
nothing (the panel is written idempotently; applications are taken forward only while none
has been decided yet).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from typing import Any

import httpx

sys.path.insert(0, os.path.dirname(__file__))
from demo_data import _url, sign_in

LAWYER_ACCOUNT = "demo-lawyer"
LAWYER_OF_ACCOUNT = "LS-440305-002"
PANEL: dict[str, dict[str, Any]] = {
    "LS-440305-001": {
        "name": "黄志远",
        "kind": "contracted_firm",
        "firm_code": "F-GDJC",
        "firm_name": "广东鉴诚律师事务所",
        "districts": ["440305", "440304"],
        "specialties": ["labour_remuneration", "economic_compensation"],
        "capacity": 6,
    },
    "LS-440305-002": {
        "name": "林晓雯",
        "kind": "union_adviser",
        "districts": ["440305"],
        "specialties": ["labour_remuneration", "work_injury", "employment_relationship"],
        "capacity": 8,
    },
    "LS-440304-001": {
        "name": "郑国华",
        "kind": "contracted_firm",
        "firm_code": "F-SZMH",
        "firm_name": "深圳明和律师事务所",
        "districts": ["440304", "440303"],
        "specialties": ["work_injury", "social_insurance"],
        "capacity": 5,
    },
    "LS-440306-001": {
        "name": "陈佩琪",
        "kind": "union_adviser",
        "districts": ["440306", "440307"],
        "specialties": ["labour_remuneration", "work_injury"],
        "capacity": 8,
    },
    "LS-440307-001": {
        "name": "邓建平",
        "kind": "contracted_firm",
        "firm_code": "F-SZMH",
        "firm_name": "深圳明和律师事务所",
        "districts": ["440307", "440308"],
        "specialties": ["labour_remuneration", "social_insurance"],
        "capacity": 5,
    },
    "LS-440309-001": {
        "name": "何丽萍",
        "kind": "union_adviser",
        "districts": ["440309", "440310", "440311"],
        "specialties": ["labour_remuneration", "work_injury", "social_insurance"],
        "capacity": 10,
    },
}
COMPLETE = ["identity", "application_form", "hardship_pledge", "employment_proof"]


def subject_of(headers: dict[str, str]) -> str:
    """The ``sub`` of the demo lawyer's own token (read, not verified: it came from identity)."""
    payload = headers["Authorization"].split()[1].split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def main() -> None:
    officer = sign_in("demo-legal-aid")
    lawyer_subject = subject_of(sign_in(LAWYER_ACCOUNT))
    with httpx.Client(base_url=_url("legal_aid") + "/api/v1", timeout=10, headers=officer) as la:
        for code, body in PANEL.items():
            answer = la.put(f"/lawyers/{code}", json=body)
            if answer.status_code != 200:
                sys.exit(f"demo legal aid: lawyer {code} not saved: {answer.text}")
        la.put(f"/lawyers/{LAWYER_OF_ACCOUNT}/account", json={"subject": lawyer_subject})
        print(
            f"demo legal aid: {len(PANEL)} panel lawyers; {LAWYER_ACCOUNT} is {LAWYER_OF_ACCOUNT}"
        )

        applications: list[dict[str, Any]] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(applications) < 3:
            applications = la.get("/applications").json()["applications"]
            time.sleep(1)
        if any(a["status"] not in ("received", "provisional") for a in applications):
            print(f"demo legal aid: {len(applications)} applications (already taken forward)")
            return
        for i, application in enumerate(applications[:3]):
            path = f"/applications/{application['application_number']}"
            documents = COMPLETE + (["wage_evidence"] if i == 0 else [])
            la.put(
                f"{path}/facts",
                json={
                    "household_size": 3 + i,
                    "monthly_household_income": str(4800 + 900 * i),
                    "documents_received": documents if i != 1 else documents[:2],
                },
            )
            if i == 1:
                la.post(f"{path}/documents-request")
            elif i == 0:
                la.post(f"{path}/decision")
        print(f"demo legal aid: {len(applications)} applications; 3 taken forward")


if __name__ == "__main__":
    main()
