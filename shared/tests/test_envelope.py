import uuid
from datetime import UTC, datetime

import orjson
import pytest

from weiquan_shared.envelope import (
    Actor,
    InvalidEvent,
    decode,
    encode,
    kafka_headers,
    new_event,
)
from weiquan_shared.events import CaseReported, CaseTriaged, TriageReason

SYSTEM = Actor.system("triage")


def _triaged() -> CaseTriaged:
    return CaseTriaged(
        case_id=uuid.uuid4(),
        case_number="440305-2026-000001",
        category="wage_arrears",
        urgency="normal",
        route="mediation",
        reasons=[TriageReason(rule="route.mediation", text="转劳动争议多元调解")],
        triaged_at=datetime.now(UTC),
    )


def test_round_trip_keeps_envelope_and_payload() -> None:
    payload = _triaged()
    event = new_event(payload, subject=str(payload.case_id), producer="triage", actor=SYSTEM)
    envelope, decoded = decode(encode(event))
    assert envelope == event
    assert decoded == payload
    assert dict(kafka_headers(event))["event_type"] == b"case.triaged"


def test_caused_event_inherits_correlation_and_names_its_cause() -> None:
    first = new_event(_triaged(), subject="s", producer="intake", actor=SYSTEM)
    second = new_event(_triaged(), subject="s", producer="triage", actor=SYSTEM, caused_by=first)
    assert second.correlation_id == first.correlation_id
    assert second.causation_id == first.event_id


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message body"),
        (b"{not json", "not valid JSON"),
        (b'{"event_type": "case.triaged"}', "envelope invalid"),
    ],
)
def test_malformed_messages_are_invalid_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        decode(raw)


def _with(**changes: object) -> bytes:
    data = orjson.loads(encode(new_event(_triaged(), subject="s", producer="t", actor=SYSTEM)))
    data.update(changes)
    return orjson.dumps(data)


def test_unknown_type_and_unsupported_version_are_told_apart() -> None:
    with pytest.raises(InvalidEvent, match=r"unknown event_type 'case\.teleported'"):
        decode(_with(event_type="case.teleported"))
    with pytest.raises(InvalidEvent, match=r"unsupported schema_version 9 .*known: \[1\]"):
        decode(_with(schema_version=9))


def test_payload_that_breaks_its_schema_is_invalid() -> None:
    data = orjson.loads(_with())
    data["payload"]["urgency"] = "whenever"
    with pytest.raises(InvalidEvent, match=r"payload of case\.triaged v1 invalid: urgency"):
        decode(orjson.dumps(data))


def test_case_reported_refuses_plain_personal_fields() -> None:
    """The contract has no place for a name or mobile: extra fields are rejected."""
    assert "name" not in CaseReported.model_fields
    assert CaseReported.model_config.get("extra") == "forbid"


def test_new_events_are_version_2_and_name_their_actor() -> None:
    officer = Actor.user("u-4711", "triage_officer")
    event = new_event(_triaged(), subject="s", producer="triage", actor=officer)
    envelope, _ = decode(encode(event))
    assert envelope.envelope_version == 2
    assert envelope.actor == officer
    assert str(envelope.acted_by()) == "user:u-4711"


def test_version_1_events_still_decode_as_their_producers_doing() -> None:
    """Kafka keeps events forever: what was written before actors existed still reads."""
    data = orjson.loads(_with())
    del data["envelope_version"], data["actor"]
    envelope, _ = decode(orjson.dumps(data))
    assert envelope.envelope_version == 1
    assert envelope.actor is None
    assert envelope.acted_by() == Actor.system("t")


def test_a_version_2_envelope_without_its_actor_is_invalid() -> None:
    data = orjson.loads(_with())
    del data["actor"]
    with pytest.raises(InvalidEvent, match="must name its actor"):
        decode(orjson.dumps(data))
