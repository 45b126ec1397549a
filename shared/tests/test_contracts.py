from weiquan_shared.contracts import asyncapi, drift, render
from weiquan_shared.envelope import registered_payloads


def test_committed_contracts_match_the_code() -> None:
    assert drift() == [], "run `make contracts` and commit contracts/"


def test_every_registered_event_has_a_schema_and_a_channel() -> None:
    files = render()
    doc = asyncapi()
    for event_type, version in registered_payloads():
        assert f"events/{event_type}.v{version}.schema.json" in files
        assert event_type in doc["channels"]
