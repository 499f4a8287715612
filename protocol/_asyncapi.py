"""AsyncAPI 3.0 document and JSON Schemas, generated from the Structs (never by hand)."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ._messages import (
    MESSAGE_TYPES,
    MINOR_VERSION,
    Ack,
    Birth,
    Command,
    DispatchSchedule,
    DispatchStatus,
    HubState,
    Reply,
    SiteConfig,
    State,
    TelemetryBatch,
)
from .topics import HUB_STATE, RETAINED_KINDS, ROOT, UPLINK_KINDS, TopicKind

_REF: Final = "#/components/schemas/{name}"

_CHANNELS: Final[list[tuple[str, TopicKind, str, type[msgspec.Struct], str]]] = [
    ("state", TopicKind.STATE, "state", State,
     "Edge liveness; also the MQTT Will (online=false)."),
    ("birth", TopicKind.BIRTH, "birth", Birth,
     "The edge's metric catalogue, current values and payload encoding."),
    ("deviceBirth", TopicKind.DEVICE_BIRTH, "{device}/birth", Birth,
     "One device's metric catalogue and current values."),
    ("data", TopicKind.DATA, "data", TelemetryBatch,
     "Telemetry batches keyed by (edge, sid, seq); hist=true for replayed backlog."),
    ("dispatchStatus", TopicKind.DISPATCH_STATUS, "dispatch/status", DispatchStatus,
     "Dispatch execution: accepted, clamped (with reason), rejected, executing, done."),
    ("reply", TopicKind.REPLY, "reply", Reply,
     "Answers to commands, idempotent by cid: on the command's reply_to when it lies under "
     "the edge's own tree (a hub replica's reply/{replica}), else here."),
    ("config", TopicKind.CONFIG, "config", SiteConfig,
     "Versioned site configuration pushed by the hub."),
    ("dispatch", TopicKind.DISPATCH, "dispatch", DispatchSchedule,
     "The schedule in force: intervals with per-device targets, id, version, expiry."),
    ("ack", TopicKind.ACK, "ack", Ack,
     "Highest contiguous (sid, seq) the hub has stored; the edge deletes up to it."),
    ("cmd", TopicKind.CMD, "cmd/{device}", Command,
     "Request to one device; reply_to and expires_ts_ms in the payload (and MQTT 5 "
     "properties)."),
    ("hubState", TopicKind.HUB_STATE, "", HubState,
     "Hub liveness; edges flush their backlog when it turns online."),
]  # fmt: skip

_PARAMETERS: Final = {
    "tenant": {"description": "Tenant id (1-64 of A-Z a-z 0-9 _ . -)."},
    "edge": {"description": "Edge (site agent) id."},
    "device": {"description": "Device id, unique within the edge; not a topic word."},
}


def json_schemas() -> dict[str, Any]:
    """One JSON Schema (2020-12) document covering every wire message."""
    schemas, components = msgspec.json.schema_components(
        MESSAGE_TYPES, ref_template="#/$defs/{name}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://lingtan-vpp.invalid/schemas/vpp-v1.json",
        "title": "Lingtan VPP MQTT messages, v1",
        "anyOf": list(schemas),
        "$defs": components,
    }


def asyncapi_document(version: str = "0.1.0") -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the MQTT contract, from the edge agent's side.

    Uplink channels are operations the edge ``send``s; downlink ones it ``receive``s.
    """
    _, components = msgspec.json.schema_components(MESSAGE_TYPES, ref_template=_REF)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for name, kind, suffix, cls, description in _CHANNELS:
        message_name = cls.__name__
        tag = cls.__struct_config__.tag
        messages[message_name] = {
            "name": message_name,
            "title": f"{message_name} ({tag})",
            "contentType": "application/json",
            "summary": (cls.__doc__ or "").strip().splitlines()[0],
            "payload": {"$ref": _REF.format(name=message_name)},
        }
        if kind is TopicKind.HUB_STATE:
            address = HUB_STATE
            params: dict[str, Any] = {}
        else:
            address = f"{ROOT}/{{tenant}}/{{edge}}/{suffix}"
            params = {
                p: _PARAMETERS[p] for p in ("tenant", "edge", "device") if f"{{{p}}}" in address
            }
        channel: dict[str, Any] = {
            "address": address,
            "description": description,
            "messages": {message_name: {"$ref": f"#/components/messages/{message_name}"}},
        }
        if params:
            channel["parameters"] = params
        channels[name] = channel
        up = kind in UPLINK_KINDS
        operations[f"{'send' if up else 'receive'}{name[0].upper()}{name[1:]}"] = {
            "action": "send" if up else "receive",
            "channel": {"$ref": f"#/channels/{name}"},
            "summary": f"{'Edge publishes' if up else 'Edge receives'}: {description}",
            "messages": [{"$ref": f"#/channels/{name}/messages/{message_name}"}],
            "bindings": {
                "mqtt": {"qos": 1, "retain": kind in RETAINED_KINDS, "bindingVersion": "0.2.0"}
            },
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Lingtan VPP edge <-> hub MQTT contract",
            "version": version,
            "description": (
                "Topic tree vpp/v1/{tenant}/{edge}/...: the major version is in the topic, "
                f"the minor version in the payload field `v` (this build writes "
                f"{MINOR_VERSION}). Within v1 only optional fields are added. QoS 1 "
                "everywhere; receivers deduplicate by (edge, sid, seq) or cid. Every "
                "payload is tagged in `kind`. msgspec JSON by default; msgpack when the "
                "edge's birth says so. Timestamps are integer ms since the epoch (UTC); "
                "power uses the generator convention (discharge/generation > 0), except "
                "the site meter's p_w, which is import-positive."
            ),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "mqtt.example.com:8883",
                "protocol": "mqtt",
                "protocolVersion": "5.0",
                "description": "TLS with per-edge credentials and ACL (deploy/mosquitto).",
            },
            "demo": {
                "host": "127.0.0.1:1883",
                "protocol": "mqtt",
                "protocolVersion": "5.0",
                "description": "Embedded broker started by `vpp demo` (port may differ).",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": components},
    }
