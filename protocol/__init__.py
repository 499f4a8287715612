"""The wire contract between Lingtan VPP edge agents and the hub.

Imports nothing of ours: only msgspec and the standard library. Edge and hub both depend
on it; it depends on neither.

* Messages (msgspec Structs, tagged in ``kind``): :class:`State`, :class:`Birth`,
  :class:`TelemetryBatch`, :class:`DispatchStatus`, :class:`Reply` go up;
  :class:`HubState`, :class:`SiteConfig`, :class:`DispatchSchedule`, :class:`Ack`,
  :class:`Command` go down.
* Codecs: :func:`encode`, :func:`decode_uplink`, :func:`decode_downlink`, :func:`decode_as`;
  every failure is a :class:`ProtocolError` naming the field.
* Topics: :mod:`protocol.topics`. Clocks: :mod:`protocol.clock`.
* Documentation: :func:`asyncapi_document`, :func:`json_schemas`.
"""

from ._asyncapi import asyncapi_document, json_schemas
from ._codec import (
    MAX_PAYLOAD_BYTES,
    ProtocolError,
    decode_as,
    decode_downlink,
    decode_message,
    decode_uplink,
    encode,
    sniff_encoding,
)
from ._messages import (
    DOWNLINK_TYPES,
    ID_PATTERN,
    MAX_POINTS_PER_BATCH,
    MESSAGE_TYPES,
    MINOR_VERSION,
    RESERVED_SEGMENTS,
    UPLINK_TYPES,
    Ack,
    Birth,
    Command,
    ControlMode,
    DefaultControl,
    DeviceLimits,
    DeviceTarget,
    DispatchInterval,
    DispatchSchedule,
    DispatchState,
    DispatchStatus,
    Downlink,
    Encoding,
    HubState,
    Message,
    MetricDef,
    Point,
    PointValue,
    Quality,
    Reply,
    SiteConfig,
    SiteLimits,
    State,
    TelemetryBatch,
    Uplink,
    tag_of,
)

__all__ = [
    "DOWNLINK_TYPES",
    "ID_PATTERN",
    "MAX_PAYLOAD_BYTES",
    "MAX_POINTS_PER_BATCH",
    "MESSAGE_TYPES",
    "MINOR_VERSION",
    "RESERVED_SEGMENTS",
    "UPLINK_TYPES",
    "Ack",
    "Birth",
    "Command",
    "ControlMode",
    "DefaultControl",
    "DeviceLimits",
    "DeviceTarget",
    "DispatchInterval",
    "DispatchSchedule",
    "DispatchState",
    "DispatchStatus",
    "Downlink",
    "Encoding",
    "HubState",
    "Message",
    "MetricDef",
    "Point",
    "PointValue",
    "ProtocolError",
    "Quality",
    "Reply",
    "SiteConfig",
    "SiteLimits",
    "State",
    "TelemetryBatch",
    "Uplink",
    "asyncapi_document",
    "decode_as",
    "decode_downlink",
    "decode_message",
    "decode_uplink",
    "encode",
    "json_schemas",
    "sniff_encoding",
    "tag_of",
]
