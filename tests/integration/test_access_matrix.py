"""Sign-in, roles and district scope on the real stack (issue 12, items 3–5).

One deployment for the module: identity issues the tokens (one user per role, signed in at
its token endpoint), and intake, triage and projection trust identity and nothing else.
Every (role, route) pair is one request; the matrix is printed.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from identity import store as identity_store
from identity.domain import Passwords
from identity.keys import SigningKeys
from tests.support.kafka import read_topic
from tests.support.stack import Deployment, Infra
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.demo import consultation, hotline_call, walk_in_group
from weiquan_shared.envelope import decode
from weiquan_shared.events import AuditRecorded
from weiquan_shared.labels import DISTRICTS

pytestmark = pytest.mark.integration

PASSWORD = "Weiquan-测试-2026"
CITY = tuple(DISTRICTS)
HOME, OTHER = "440305", "440306"
SEARCHES_PER_WINDOW = 4


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    districts: tuple[str, ...]
    organisation: Organisation = Organisation.UNION


USERS = [
    User("m-operator", Role.OPERATOR, CITY),
    User("m-clerk", Role.WALK_IN_CLERK, CITY),
    User("m-triage", Role.TRIAGE_OFFICER, CITY),
    # A union mediator: what a role may reach; what a court mediator may see of a case also
    # depends on the worker's consent (test_case_file, test_mediation_service).
    User("m-mediator", Role.MEDIATOR, (HOME,), Organisation.UNION),
    User("m-legal-aid", Role.LEGAL_AID_OFFICER, CITY),
    User("m-lawyer", Role.LAWYER, (HOME,), Organisation.LAW_FIRM),
    User("m-supervisor", Role.SUPERVISOR, CITY),
    User("m-admin", Role.ADMIN, CITY),
    # District-scoped people for the scope tests.
    User("m-supervisor-440305", Role.SUPERVISOR, (HOME,)),
    User("m-operator-440305", Role.OPERATOR, (HOME,)),
    # The mobile search and reveal tests' own operator (their own rate-limit count).
    User("m-searcher", Role.OPERATOR, CITY),
]


@dataclass
class Stack:
    deployment: Deployment
    tokens: dict[str, str]
    keys: SigningKeys
    issuer: str
    home_case: str
    other_case: str
    shared_mobile: str

    def url(self, service: str) -> str:
        return self.deployment[service].url

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


async def _add_users(deployment: Deployment) -> None:
    conn = await deployment.connect("identity")
    hashed = await asyncio.to_thread(Passwords().hash, PASSWORD)
    try:
        for user in USERS:
            await identity_store.upsert_user(
                conn,
                username=user.username,
                display_name=f"矩阵{user.role.label}",
                role=user.role,
                organisation=user.organisation,
                districts=user.districts,
                password_hash=hashed,
            )
    finally:
        await conn.close()


def _sign_in(identity: str, username: str) -> str:
    answer = httpx.post(
        f"{identity}/api/v1/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _wait_for_decision(triage: str, case_number: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = httpx.get(f"{triage}/api/v1/cases/{case_number}/decisions", headers=headers)
        if response.status_code == 200:
            return
        time.sleep(0.3)
    raise TimeoutError(f"triage did not decide {case_number}")


@pytest.fixture(scope="module")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Deployment(infra)
    keys_file = Path(tmp_path_factory.mktemp("identity")) / "signing-keys.json"
    try:
        deployment.start("identity", WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(keys_file))
        identity = deployment["identity"].url
        asyncio.run(_add_users(deployment))
        tokens = {user.username: _sign_in(identity, user.username) for user in USERS}
        # The services trust identity only (not the tests' own issuer).
        deployment.start(
            "intake",
            "triage",
            "projection",
            WEIQUAN_OIDC_ISSUERS=json.dumps([identity]),
            WEIQUAN_MOBILE_SEARCH_PER_WINDOW=str(SEARCHES_PER_WINDOW),
        )
        operator = {"Authorization": f"Bearer {tokens['m-operator']}"}
        rng = random.Random(1212)
        cases = {}
        home = hotline_call(rng, district=HOME)
        other = hotline_call(rng, district=OTHER)
        # The same worker in both districts: a search must find only the one in scope.
        other["workers"][0]["mobile"] = home["workers"][0]["mobile"]
        for district, call in ((HOME, home), (OTHER, other)):
            answer = httpx.post(
                f"{deployment['intake'].url}/api/v1/hotline-calls", json=call, headers=operator
            )
            assert answer.status_code == 201, answer.text
            cases[district] = answer.json()["case_number"]
        officer = {"Authorization": f"Bearer {tokens['m-triage']}"}
        for number in cases.values():
            _wait_for_decision(deployment["triage"].url, number, officer)
        yield Stack(
            deployment,
            tokens,
            SigningKeys.load_or_create(keys_file),
            identity,
            cases[HOME],
            cases[OTHER],
            home["workers"][0]["mobile"],
        )
    finally:
        deployment.teardown()


# ---------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Call:
    service: str
    method: str
    path: str
    allowed: frozenset[Role]
    body: Any = None  # a function of the role (fresh idempotency keys) or a fixed body
    page: bool = False

    def json(self, role: Role) -> Any:
        return self.body(role) if callable(self.body) else self.body

    @property
    def name(self) -> str:
        return f"{self.service} {self.method} {self.path}"


ALL = frozenset(Role)
REGISTRARS = frozenset({Role.OPERATOR, Role.WALK_IN_CLERK})
CASE_WORKERS = REGISTRARS | {
    Role.TRIAGE_OFFICER,
    Role.MEDIATOR,
    Role.LEGAL_AID_OFFICER,
    Role.SUPERVISOR,
}
CASE_READERS = CASE_WORKERS | {Role.ADMIN}
PERSONAL_DATA = REGISTRARS | {Role.TRIAGE_OFFICER}
DECISION_READERS = frozenset({Role.TRIAGE_OFFICER, Role.SUPERVISOR, Role.ADMIN})
OVERSEERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
_rng = random.Random(7)


def calls(case_number: str, mobile: str) -> list[Call]:
    return [
        Call("intake", "POST", "/api/v1/hotline-calls", REGISTRARS, lambda _: hotline_call(_rng)),
        Call(
            "intake",
            "POST",
            "/api/v1/walk-in-registrations",
            REGISTRARS,
            lambda _: walk_in_group(_rng),
        ),
        Call("intake", "POST", "/api/v1/consultations", REGISTRARS, lambda _: consultation(_rng)),
        Call("intake", "GET", f"/api/v1/cases/{case_number}", CASE_READERS),
        Call(
            "intake",
            "POST",
            "/api/v1/case-searches/by-mobile",
            PERSONAL_DATA,
            {"mobile": mobile, "reason": "duplicate_check"},
        ),
        Call(
            "intake",
            "POST",
            f"/api/v1/cases/{case_number}/reveal",
            PERSONAL_DATA,
            {"worker": 0, "field": "name", "reason": "verify_identity"},
        ),
        Call("intake", "GET", f"/api/v1/cases/{case_number}/notes", CASE_WORKERS),
        Call(
            "intake",
            "POST",
            f"/api/v1/cases/{case_number}/notes",
            CASE_WORKERS,
            lambda role: {"text": f"矩阵测试记录（{role.label}）"},
        ),
        Call(
            "intake",
            "POST",
            f"/api/v1/cases/{case_number}/contacts",
            CASE_WORKERS,
            {"method": "call_back", "outcome": "no_answer"},
        ),
        # Too long a reason: 422 for everyone allowed, whatever the assignment rules say.
        Call(
            "intake",
            "POST",
            f"/api/v1/cases/{case_number}/assignment",
            CASE_WORKERS,
            {"reason": "理" * 201},
        ),
        Call(
            "intake",
            "PUT",
            f"/api/v1/cases/{case_number}/consent",
            CASE_WORKERS,
            {"scopes": ["court"], "wording_version": "2026-01"},
        ),
        # Without the duplicate's number: 422 for a supervisor, the case stays as it is.
        Call(
            "intake",
            "POST",
            f"/api/v1/cases/{case_number}/void",
            frozenset({Role.SUPERVISOR}),
            {"reason": "duplicate"},
        ),
        Call(
            "intake",
            "POST",
            "/api/v1/case-searches",
            CASE_WORKERS,
            {"query": case_number, "reason": "duplicate_check"},
        ),
        Call("intake", "GET", "/search", CASE_WORKERS, page=True),
        Call("intake", "GET", "/operator", frozenset({Role.OPERATOR}), page=True),
        Call("intake", "GET", "/walk-in", frozenset({Role.WALK_IN_CLERK}), page=True),
        Call("triage", "GET", "/api/v1/stats", DECISION_READERS),
        Call("triage", "GET", f"/api/v1/cases/{case_number}/decisions", DECISION_READERS),
        Call("triage", "GET", "/api/v1/labels", ALL),
        Call(
            "triage",
            "POST",
            f"/api/v1/cases/{case_number}/override",
            frozenset({Role.TRIAGE_OFFICER}),
            lambda _: {"reason": f"矩阵测试调整 {uuid.uuid4().hex[:6]}", "urgency": "urgent"},
        ),
        Call("triage", "GET", "/override", frozenset({Role.TRIAGE_OFFICER}), page=True),
        # Without the date it needs: 422 for those allowed, the case's clocks unchanged.
        Call(
            "triage",
            "POST",
            f"/api/v1/cases/{case_number}/review",
            frozenset({Role.TRIAGE_OFFICER, Role.SUPERVISOR}),
            {"resolution": "start_date_recorded"},
        ),
        Call("projection", "GET", "/api/v1/dashboard", OVERSEERS),
        Call("projection", "GET", "/api/v1/cases", OVERSEERS),
        Call("projection", "GET", "/api/v1/deadlines-at-risk", OVERSEERS),
        Call("projection", "GET", "/dashboard", OVERSEERS, page=True),
        Call("projection", "GET", f"/api/v1/cases/{case_number}", CASE_READERS),
        Call("projection", "GET", f"/api/v1/cases/{case_number}/timeline", CASE_READERS),
        Call("projection", "GET", f"/cases/{case_number}", CASE_WORKERS, page=True),
        Call("projection", "GET", "/api/v1/queues", CASE_WORKERS),
        Call("projection", "GET", "/api/v1/queues/review", CASE_WORKERS),
        Call("projection", "GET", "/queues", CASE_WORKERS, page=True),
        Call("identity", "GET", "/api/v1/me", ALL),
        Call("identity", "GET", "/api/v1/staff", ALL),
    ]


MATRIX_USERS = {user.role: user.username for user in USERS[:8]}


def forged_token(stack: Stack) -> str:
    """Identity's claims and key id, signed by another key."""
    real = stack.keys.active
    other = ECKey.generate_key("P-256", parameters={"kid": str(real.kid)}, private=True)
    return jwt.encode({"alg": "ES256", "kid": real.kid}, claims(stack, Role.ADMIN), other)


def expired_token(stack: Stack) -> str:
    """Signed with identity's own key, expired an hour ago."""
    key = stack.keys.active
    payload = claims(stack, Role.ADMIN, exp=int(time.time()) - 3600)
    return jwt.encode({"alg": "ES256", "kid": key.kid}, payload, key)


def claims(stack: Stack, role: Role, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": stack.issuer,
        "aud": "weiquan",
        "sub": str(uuid.uuid4()),
        "iat": now - 7200,
        "exp": now + 600,
        "name": "冒充者",
        "weiquan_role": role.value,
        "weiquan_org": "union",
        "weiquan_districts": list(CITY),
        **overrides,
    }


def test_each_role_reaches_what_it_should_and_nothing_else(stack: Stack) -> None:
    table: list[tuple[str, dict[str, int]]] = []
    wrong: list[str] = []
    with httpx.Client(timeout=20) as client:
        for call in calls(stack.home_case, stack.shared_mobile):
            row: dict[str, int] = {}
            url = stack.url(call.service) + call.path
            for role, username in MATRIX_USERS.items():
                response = client.request(
                    call.method, url, json=call.json(role), headers=stack.auth(username)
                )
                row[role.value] = response.status_code
                if role in call.allowed:
                    if response.status_code in (401, 403) or response.status_code >= 500:
                        wrong.append(f"{call.name} as {role}: {response.status_code}")
                elif response.status_code != 403 or "无权" not in response.json()["message"]:
                    wrong.append(f"{call.name} as {role}: {response.status_code} (403 expected)")
            for label, headers in (
                ("none", {}),
                ("forged", {"Authorization": f"Bearer {forged_token(stack)}"}),
                ("expired", {"Authorization": f"Bearer {expired_token(stack)}"}),
            ):
                response = client.request(
                    call.method, url, json=call.json(Role.ADMIN), headers=headers
                )
                row[label] = response.status_code
                if response.status_code != 401 or "请先登录" not in response.json()["message"]:
                    wrong.append(f"{call.name} with {label} token: {response.status_code}")
            table.append((call.name, row))
    columns = [role.value for role in MATRIX_USERS] + ["none", "forged", "expired"]
    print("\n" + " " * 52 + " ".join(f"{c[:8]:>8}" for c in columns))
    for name, row in table:
        print(f"{name[:52]:<52}" + " ".join(f"{row[c]:>8}" for c in columns))
    assert wrong == []


def test_a_browser_without_a_session_is_sent_to_sign_in(stack: Stack) -> None:
    for service, path in (
        ("intake", "/operator"),
        ("triage", "/override"),
        ("projection", "/dashboard"),
    ):
        response = httpx.get(
            stack.url(service) + path + "?x=1",
            headers={"Accept": "text/html,application/xhtml+xml"},
        )
        assert response.status_code == 303, (path, response.text)
        assert response.headers["location"] == f"/identity/login?next=%2F{path[1:]}%3Fx%3D1"


# ---------------------------------------------------------------- scope


def test_a_district_supervisor_does_not_learn_that_another_districts_case_exists(
    stack: Stack,
) -> None:
    district = stack.auth("m-supervisor-440305")
    intake, triage = stack.url("intake"), stack.url("triage")
    assert (
        httpx.get(f"{intake}/api/v1/cases/{stack.home_case}", headers=district).status_code == 200
    )
    for url in (
        f"{intake}/api/v1/cases/{stack.other_case}",
        f"{triage}/api/v1/cases/{stack.other_case}/decisions",
    ):
        response = httpx.get(url, headers=district)
        assert response.status_code == 404, (url, response.text)
        assert "不在您的工作范围内" in response.json()["message"]
    city = stack.auth("m-supervisor")
    assert httpx.get(f"{intake}/api/v1/cases/{stack.other_case}", headers=city).status_code == 200
    answer = httpx.get(f"{triage}/api/v1/cases/{stack.other_case}/decisions", headers=city)
    assert answer.status_code == 200


def test_search_by_mobile_finds_only_cases_in_scope(stack: Stack) -> None:
    intake = stack.url("intake")
    body = {"mobile": stack.shared_mobile, "reason": "progress_enquiry"}
    district = httpx.post(
        f"{intake}/api/v1/case-searches/by-mobile",
        json=body,
        headers=stack.auth("m-operator-440305"),
    )
    assert district.status_code == 200, district.text
    assert [c["case_number"] for c in district.json()] == [stack.home_case]


# ---------------------------------------------------------------- search by mobile


async def audit_records(stack: Stack, action: str) -> list[tuple[Any, AuditRecorded]]:
    settings = stack.deployment.settings()
    topic = settings.topic("audit.recorded")
    found: list[tuple[Any, AuditRecorded]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = []
        for record in await read_topic(settings.kafka_bootstrap, topic):
            envelope, payload = decode(record.value)
            if isinstance(payload, AuditRecorded) and payload.action == action:
                found.append((envelope, payload))
        if found:
            return found
        await asyncio.sleep(0.5)
    return found


def test_search_by_mobile_needs_a_reason_is_limited_per_person_and_audited(
    stack: Stack,
) -> None:
    search = f"{stack.url('intake')}/api/v1/case-searches/by-mobile"
    searcher = stack.auth("m-searcher")
    # As people type it: spaces, dashes, +86, full-width digits.
    digits = stack.shared_mobile
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in digits[:3])
    typed = f"＋86 {full_width}-{digits[3:7]} {digits[7:]}"

    no_reason = httpx.post(search, json={"mobile": typed}, headers=searcher)
    assert no_reason.status_code == 422
    assert "理由：必须填写" in no_reason.json()["message"]
    bad_reason = httpx.post(search, json={"mobile": typed, "reason": "curious"}, headers=searcher)
    assert bad_reason.status_code == 422 and "请从列表中选择理由" in bad_reason.json()["message"]

    answers = [
        httpx.post(search, json={"mobile": typed, "reason": "call_back"}, headers=searcher)
        for _ in range(SEARCHES_PER_WINDOW + 1)
    ]
    assert [a.status_code for a in answers] == [200] * SEARCHES_PER_WINDOW + [429]
    assert {c["case_number"] for c in answers[0].json()} == {stack.home_case, stack.other_case}
    refused = answers[-1]
    assert "按手机号查询过于频繁" in refused.json()["message"]
    assert 0 < int(refused.headers["retry-after"]) <= 600
    # Another person's searches are counted apart.
    other = httpx.post(
        search, json={"mobile": typed, "reason": "call_back"}, headers=stack.auth("m-clerk")
    )
    assert other.status_code == 200

    records = asyncio.run(audit_records(stack, "case.searched_by_mobile"))
    mine = [(e, p) for e, p in records if e.actor.role == "operator" and p.reason == "回访职工"]
    mine = [(e, p) for e, p in mine if e.actor.id == searcher_subject(stack, "m-searcher")]
    assert sorted(p.outcome for _, p in mine) == ["denied"] + ["success"] * SEARCHES_PER_WINDOW
    assert all(stack.shared_mobile[3:] not in p.model_dump_json() for _, p in records)


def searcher_subject(stack: Stack, username: str) -> str:
    me = httpx.get(f"{stack.issuer}/api/v1/me", headers=stack.auth(username)).json()
    return str(me["subject"])


def test_the_masked_mobile_can_no_longer_be_brute_forced(stack: Stack) -> None:
    """The attack of the issue: try the 10,000 fill-ins of 130****4561."""
    search = f"{stack.url('intake')}/api/v1/case-searches/by-mobile"
    anonymous = httpx.post(search, json={"mobile": "13000004561", "reason": "call_back"})
    assert anonymous.status_code == 401
    clerk = stack.auth("m-clerk")  # one search used in the test above, or none
    statuses = [
        httpx.post(
            search, json={"mobile": f"130{n:04d}4561", "reason": "call_back"}, headers=clerk
        ).status_code
        for n in range(SEARCHES_PER_WINDOW + 1)
    ]
    assert statuses[-1] == 429  # after a handful of guesses, the next 10 minutes are closed


# ---------------------------------------------------------------- reveal


def test_reveal_returns_one_value_uncached_and_audited(stack: Stack) -> None:
    intake = stack.url("intake")
    url = f"{intake}/api/v1/cases/{stack.home_case}/reveal"
    body = {"worker": 0, "field": "mobile", "reason": "call_back"}
    masked = httpx.get(f"{intake}/api/v1/cases/{stack.home_case}", headers=stack.auth("m-triage"))
    assert "****" in masked.json()["workers"][0]["mobile"]

    revealed = httpx.post(url, json=body, headers=stack.auth("m-triage"))
    assert revealed.status_code == 200, revealed.text
    assert revealed.json() == {"value": "+86" + stack.shared_mobile}
    assert revealed.headers["cache-control"] == "no-store"
    assert revealed.headers["pragma"] == "no-cache"

    supervisor = httpx.post(url, json=body, headers=stack.auth("m-supervisor"))
    assert supervisor.status_code == 403 and "无权" in supervisor.json()["message"]
    no_reason = httpx.post(
        url, json={"worker": 0, "field": "mobile"}, headers=stack.auth("m-triage")
    )
    assert no_reason.status_code == 422
    outside = httpx.post(
        f"{intake}/api/v1/cases/{stack.other_case}/reveal",
        json=body,
        headers=stack.auth("m-operator-440305"),
    )
    assert outside.status_code == 404

    records = asyncio.run(audit_records(stack, "pii.revealed"))
    officer = searcher_subject(stack, "m-triage")
    [(envelope, record)] = [
        (e, p) for e, p in records if e.actor.id == officer and p.detail == "workers.0.mobile"
    ]
    assert envelope.actor.role == "triage_officer"
    assert record.reason == "回电联系职工"
    assert record.case_number == stack.home_case and record.district_code == HOME
    assert stack.shared_mobile[3:] not in record.model_dump_json()
