"""Codecs: encode->decode is identity; anything else is a ProtocolError naming the field."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import protocol
from protocol import (
    DOWNLINK_TYPES,
    MAX_PAYLOAD_BYTES,
    MAX_POINTS_PER_BATCH,
    MESSAGE_TYPES,
    UPLINK_TYPES,
    Ack,
    DispatchSchedule,
    Point,
    ProtocolError,
    State,
    TelemetryBatch,
    decode_as,
    decode_downlink,
    decode_message,
    decode_uplink,
    encode,
    sniff_encoding,
)
from tests.protocol.strategies import messages

# too_slow: generation speed depends on how loaded the shared CI machine is, not on us.
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


def batch(points: int = 2) -> TelemetryBatch:
    return TelemetryBatch(
        edge="park-a",
        sid=3,
        seq=7,
        ts_ms=1_767_225_600_000,
        points=[
            Point(device="bess-1", name="p_w", value=float(i), unit="W", ts_ms=1_767_225_600_000)
            for i in range(points)
        ],
    )


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("encoding", ["json", "msgpack"])
@SETTINGS
@given(data=st.data())
def test_encode_then_decode_is_identity_for_every_message_kind(
    cls: type[msgspec.Struct], encoding: protocol.Encoding, data: st.DataObject
) -> None:
    message = data.draw(messages(cls))
    payload = encode(message, encoding)
    assert decode_as(payload, cls, encoding) == message
    assert decode_message(payload, encoding) == message
    if cls in UPLINK_TYPES:
        assert decode_uplink(payload, encoding) == message
    else:
        assert decode_downlink(payload, encoding) == message


@pytest.mark.parametrize("encoding", ["json", "msgpack"])
@settings(max_examples=300)
@given(payload=st.binary(max_size=256))
def test_random_bytes_raise_only_protocol_error(
    encoding: protocol.Encoding, payload: bytes
) -> None:
    for decode in (decode_uplink, decode_downlink, decode_message):
        try:
            decode(payload, encoding)
        except ProtocolError as exc:
            assert exc.field.startswith("$")


@settings(max_examples=200)
@given(text=st.text(max_size=200))
def test_random_text_raises_only_protocol_error(text: str) -> None:
    try:
        decode_as(text.encode(), TelemetryBatch)
    except ProtocolError as exc:
        assert str(exc)


def test_uplink_decoder_refuses_downlink_kinds() -> None:
    ack = Ack(edge="park-a", sid=1, seq=1, ts_ms=1)
    with pytest.raises(ProtocolError) as info:
        decode_uplink(encode(ack))
    assert info.value.field == "$.kind"
    assert decode_downlink(encode(ack)) == ack


def test_unknown_tag_names_the_kind_field() -> None:
    with pytest.raises(ProtocolError) as info:
        decode_uplink(b'{"kind":"telemetry.v9","edge":"x"}')
    assert info.value.field == "$.kind"


def test_wrong_type_names_the_nested_field() -> None:
    raw = msgspec.json.decode(encode(batch()))
    raw["points"][1]["value"] = [1, 2]
    with pytest.raises(ProtocolError) as info:
        decode_as(msgspec.json.encode(raw), TelemetryBatch)
    assert info.value.field == "$.points[1].value"
    assert "$.points[1].value" in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", -1),
        ("sid", "1"),
        ("edge", "a/b"),
        ("edge", ""),
        ("edge", "+"),
        ("edge", "park\n"),
        ("ts_ms", 1.5),
    ],
)
def test_out_of_range_or_malformed_values_name_their_field(field: str, value: object) -> None:
    raw = msgspec.json.decode(encode(batch()))
    raw[field] = value
    with pytest.raises(ProtocolError) as info:
        decode_uplink(msgspec.json.encode(raw))
    assert info.value.field == f"$.{field}"


def test_oversized_batch_is_rejected_naming_points() -> None:
    raw = msgspec.json.decode(encode(batch(1)))
    raw["points"] = raw["points"] * (MAX_POINTS_PER_BATCH + 1)
    with pytest.raises(ProtocolError) as info:
        decode_uplink(msgspec.json.encode(raw))
    assert info.value.field == "$.points"


def test_payload_over_the_byte_limit_is_rejected_before_parsing() -> None:
    with pytest.raises(ProtocolError, match="exceeds the limit") as info:
        decode_uplink(b" " * (MAX_PAYLOAD_BYTES + 1))
    assert info.value.field == "$"


def test_cross_field_rules_are_enforced_on_decode() -> None:
    schedule = {
        "kind": "dispatch.v1",
        "id": "s1",
        "version": 1,
        "edge": "park-a",
        "issued_ts_ms": 10,
        "expires_ts_ms": 100,
        "intervals": [
            {"start_ts_ms": 20, "end_ts_ms": 40, "targets": []},
            {"start_ts_ms": 30, "end_ts_ms": 50, "targets": []},
        ],
    }
    with pytest.raises(ProtocolError, match="must not overlap"):
        decode_as(msgspec.json.encode(schedule), DispatchSchedule)
    schedule["intervals"] = [{"start_ts_ms": 40, "end_ts_ms": 40, "targets": []}]
    with pytest.raises(ProtocolError) as info:
        decode_as(msgspec.json.encode(schedule), DispatchSchedule)
    assert info.value.field == "$.intervals[0]"


def test_a_device_cannot_have_two_targets_in_one_interval() -> None:
    interval = {
        "start_ts_ms": 1,
        "end_ts_ms": 2,
        "targets": [{"device": "b", "p_target_w": 1.0}, {"device": "b", "p_target_w": -1.0}],
    }
    schedule = {
        "kind": "dispatch.v1",
        "id": "s1",
        "version": 1,
        "edge": "park-a",
        "issued_ts_ms": 0,
        "expires_ts_ms": 5,
        "intervals": [interval],
    }
    with pytest.raises(ProtocolError, match="two targets") as info:
        decode_as(msgspec.json.encode(schedule), DispatchSchedule)
    assert info.value.field == "$.intervals[0]"


def test_site_config_names_each_device_once() -> None:
    config = {
        "kind": "config.v1",
        "edge": "park-a",
        "version": 2,
        "ts_ms": 1,
        "site_limits": {"import_max_w": 1.0, "export_max_w": 1.0},
        "device_limits": [
            {"device": "b", "p_max_discharge_w": 1.0},
            {"device": "b", "p_max_discharge_w": 2.0},
        ],
    }
    with pytest.raises(ProtocolError, match="twice"):
        decode_downlink(msgspec.json.encode(config))


def test_unknown_fields_are_accepted_for_forward_compatibility() -> None:
    raw = msgspec.json.decode(encode(State(online=True, sid=1, ts_ms=5)))
    raw["added_in_v1_7"] = {"anything": [1, 2]}
    assert decode_uplink(msgspec.json.encode(raw)) == State(online=True, sid=1, ts_ms=5)


def test_every_message_has_an_explicit_versioned_tag() -> None:
    tags = [protocol.tag_of(cls) for cls in MESSAGE_TYPES]
    assert len(set(tags)) == len(tags)
    assert all(tag.endswith(".v1") for tag in tags)
    assert set(UPLINK_TYPES).isdisjoint(DOWNLINK_TYPES)


def test_messages_are_frozen() -> None:
    message = batch()
    with pytest.raises(AttributeError):
        message.seq = 9  # type: ignore[misc]


def test_decode_as_refuses_types_that_are_not_wire_messages() -> None:
    with pytest.raises(TypeError, match="not a wire message"):
        decode_as(b"{}", Point)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [(b'{"kind":1}', "json"), (b"  \n{", "json"), (b"\x85\xa4kind", "msgpack"), (b"", "json")],
)
def test_sniff_encoding(payload: bytes, expected: str) -> None:
    assert sniff_encoding(payload) == expected


def test_msgpack_is_smaller_than_json_for_telemetry() -> None:
    message = batch(100)
    assert len(encode(message, "msgpack")) < len(encode(message, "json"))
    assert decode_uplink(encode(message, "msgpack"), "msgpack") == message
