"""Render the published contracts (``contracts/``) from the code.

``python -m weiquan_shared.contracts write`` regenerates them (``make contracts``);
``python -m weiquan_shared.contracts check`` exits 1 when the committed files differ, and a
test does the same, so code and contracts cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import weiquan_shared.events  # noqa: F401  (registers every event type)
from weiquan_shared.envelope import EventEnvelope, EventPayload, registered_payloads
from weiquan_shared.events.audit import ANY_SERVICE
from weiquan_shared.topics import consuming_services, dead_letter_topic, topic_specs

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"


def event_schema(payload_type: type[EventPayload]) -> dict[str, Any]:
    schema = EventEnvelope[payload_type].model_json_schema()  # type: ignore[valid-type]
    schema["title"] = f"{payload_type.event_type} v{payload_type.schema_version}"
    schema["description"] = (payload_type.__doc__ or "").strip()
    schema["$id"] = f"weiquan:{payload_type.event_type}:v{payload_type.schema_version}"
    props = schema["properties"]
    props["event_type"] = {**props["event_type"], "const": payload_type.event_type}
    props["schema_version"] = {**props["schema_version"], "const": payload_type.schema_version}
    return schema


def schema_file(payload_type: type[EventPayload]) -> str:
    return f"events/{payload_type.event_type}.v{payload_type.schema_version}.schema.json"


def asyncapi() -> dict[str, Any]:
    payloads = registered_payloads()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for (event_type, version), payload_type in sorted(payloads.items()):
        message_id = f"{event_type.replace('.', '_')}_v{version}"
        messages[message_id] = {
            "name": event_type,
            "title": f"{event_type} v{version}",
            "summary": (payload_type.__doc__ or "").strip(),
            "contentType": "application/json",
            "payload": {"$ref": f"./{schema_file(payload_type)}"},
        }
        channel = channels.setdefault(
            event_type,
            {
                "address": "{namespace}." + event_type,
                "parameters": {"namespace": {"default": "weiquan"}},
                "messages": {},
                "bindings": {"kafka": {"partitions": _partitions(event_type)}},
            },
        )
        channel["messages"][message_id] = {"$ref": f"#/components/messages/{message_id}"}
        channel_ref = {"$ref": f"#/channels/{event_type}"}
        publisher = "any_service" if payload_type.producer == ANY_SERVICE else payload_type.producer
        operations[f"{publisher}_publishes_{event_type}"] = {
            "action": "send",
            "channel": channel_ref,
        }
        for consumer in payload_type.consumers:
            operations[f"{consumer}_consumes_{event_type}"] = {
                "action": "receive",
                "channel": channel_ref,
            }
    for service in consuming_services():
        name = dead_letter_topic(service)
        channels[name] = {
            "address": "{namespace}." + name,
            "description": f"Messages {service} could not process: the original bytes, "
            "with headers dlq.reason, dlq.source.topic, dlq.source.partition, "
            "dlq.source.offset, dlq.consumer and dlq.failed_at.",
            "parameters": {"namespace": {"default": "weiquan"}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Weiquan case events",
            "version": "1.0.0",
            "description": "Events exchanged by Weiquan's services. Every message is an "
            "envelope (see each schema); the Kafka key is the envelope's subject (case id).",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _partitions(event_type: str) -> int:
    return next(s.partitions for s in topic_specs() if s.name == event_type)


def render() -> dict[str, str]:
    """Relative path under ``contracts/`` → file content."""
    files = {"asyncapi.json": asyncapi()}
    for payload_type in registered_payloads().values():
        files[schema_file(payload_type)] = event_schema(payload_type)
    return {
        path: json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        for path, doc in files.items()
    }


def drift(directory: Path = CONTRACTS_DIR) -> list[str]:
    """Files that differ between the code and ``directory`` (missing, stale or extra)."""
    rendered = render()
    problems = [
        path
        for path, text in rendered.items()
        if not (directory / path).exists() or (directory / path).read_text("utf-8") != text
    ]
    on_disk = {str(p.relative_to(directory)) for p in directory.rglob("*.json")}
    problems += sorted(on_disk - rendered.keys())
    return problems


def main() -> None:
    command = sys.argv[1:2]
    if command == ["write"]:
        for path, text in render().items():
            target = CONTRACTS_DIR / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, "utf-8")
        stale = drift()
        for path in stale:
            (CONTRACTS_DIR / path).unlink()
        print(f"contracts: wrote {len(render())} files to {CONTRACTS_DIR}")
    elif command == ["check"]:
        problems = drift()
        if problems:
            sys.exit("contracts out of date (run `make contracts`): " + ", ".join(problems))
        print("contracts: up to date")
    else:
        sys.exit("usage: python -m weiquan_shared.contracts write|check")


if __name__ == "__main__":
    main()
