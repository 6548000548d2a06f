"""One AsyncAPI 3 document for every topic and event type, generated from the contracts.

`python -m brightline.contracts.asyncapi --write` regenerates docs/asyncapi.yaml;
`--check` fails when the checked-in document and the code disagree (run by the test suite).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from brightline.contracts.registry import EVENT_SPECS, _load_all
from brightline.contracts.topics import TOPICS

CLOUDEVENT_HEADERS = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in Kafka binary content mode; the record key is the aggregate id.",
    "required": ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "content-type"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "Unique event id; consumers deduplicate on it."},
        "ce_type": {"type": "string"},
        "ce_source": {"type": "string", "description": "/brightline/<service>"},
        "ce_subject": {"type": "string", "description": "Aggregate id, also the record key."},
        "ce_time": {"type": "string", "format": "date-time"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {
            "type": "string",
            "description": "W3C trace context of the work that caused it.",
        },
    },
}

DEAD_LETTER_HEADERS = {
    "type": "object",
    "description": "The original record's headers plus why it could not be processed.",
    "properties": {
        name: {"type": "string"}
        for name in (
            "dlt_error_class",
            "dlt_error_message",
            "dlt_error_trace",
            "dlt_original_topic",
            "dlt_original_partition",
            "dlt_original_offset",
            "dlt_consumer",
            "dlt_attempts",
        )
    },
}


def _key(name: str) -> str:
    return name.replace(".", "_").replace("-", "_")


def build() -> dict[str, Any]:
    _load_all()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for topic in sorted(TOPICS.values(), key=lambda t: t.name):
        specs = sorted((s for s in EVENT_SPECS.values() if s.topic == topic), key=lambda s: s.type)
        channel = _key(topic.name)
        channels[channel] = {
            "address": topic.name,
            "description": topic.description,
            "messages": {
                _key(s.type): {"$ref": f"#/components/messages/{_key(s.type)}"} for s in specs
            },
        }
        channels[channel + "_dlt"] = {
            "address": topic.dead_letter,
            "description": f"Dead letters of {topic.name}: records a consumer could not process.",
            "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
        }
        if specs:
            operations[f"{topic.owner}_publishes_{channel}"] = {
                "action": "send",
                "summary": f"{topic.owner} publishes through its transactional outbox",
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": [
                    {"$ref": f"#/channels/{channel}/messages/{_key(s.type)}"} for s in specs
                ],
            }
        for spec in specs:
            schema = spec.payload.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                schemas[name] = definition
            schemas[spec.payload.__name__] = schema
            messages[_key(spec.type)] = {
                "name": spec.type,
                "title": spec.payload.__name__,
                "summary": spec.summary,
                "contentType": "application/json",
                "headers": CLOUDEVENT_HEADERS,
                "payload": {"$ref": f"#/components/schemas/{spec.payload.__name__}"},
                "bindings": {
                    "kafka": {"key": {"type": "string", "description": f"the {spec.key_field}"}}
                },
            }
    messages["deadLetter"] = {
        "name": "dead-letter",
        "summary": "A record that failed after its retries, unchanged, with the error in headers.",
        "headers": DEAD_LETTER_HEADERS,
        "payload": {},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Brightline events",
            "version": "1.0.0",
            "description": "Every Kafka topic of the Brightline 95598 back office. Generated from "
            "brightline.contracts; do not edit by hand.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "make run's local broker",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def render() -> str:
    return yaml.safe_dump(build(), sort_keys=False, allow_unicode=True, width=100)


def default_path() -> Path:
    from brightline.platform.local.paths import project_root

    return project_root() / "docs" / "asyncapi.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m brightline.contracts.asyncapi")
    parser.add_argument("--write", action="store_true", help="regenerate the checked-in document")
    parser.add_argument("--check", action="store_true", help="exit 1 if the document has drifted")
    args = parser.parse_args()
    path = default_path()
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render())
        print(f"wrote {path}")
    elif args.check:
        if not path.exists() or path.read_text() != render():
            sys.exit(f"{path} is out of date: run `make docs`")
    else:
        sys.stdout.write(render())


if __name__ == "__main__":
    main()
