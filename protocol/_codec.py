"""Encoding and decoding of wire messages (msgspec JSON by default, msgpack optional).

One encoder and one decoder per union and format are built once at import and reused:
msgspec's fast path depends on it. Every decoding failure, whatever its cause (malformed
bytes, an unknown ``kind``, a wrong type, a value out of bounds, a batch that is too large,
a payload over :data:`MAX_PAYLOAD_BYTES`), surfaces as one exception,
:class:`ProtocolError`, whose ``field`` names the offending path (``$.points[3].value``)
when there is one.
"""

from __future__ import annotations

import re
from typing import Any, Final, TypeVar

import msgspec

from ._messages import (
    MESSAGE_TYPES,
    Downlink,
    Encoding,
    Message,
    Uplink,
)

MAX_PAYLOAD_BYTES: Final = 4 * 1024 * 1024
"""Largest payload any decoder accepts (a full 10,000-point batch is well below it)."""

_PATH = re.compile(r" - at `(?P<path>\$[^`]*)`$")

M = TypeVar("M", bound=msgspec.Struct)


class ProtocolError(ValueError):
    """Something that does not fit the contract; the root of this package's errors.

    ::

        ProtocolError          a payload that is not a valid message of the expected kind
         └── TopicError        a topic, filter or id that does not fit the topic tree

    ``field`` is the JSON path of the offending field (``"$.points[0].value"``), ``"$"``
    when the payload as a whole is unusable (malformed bytes, too large, wrong kind), or
    ``"$topic"`` for a topic error.
    """

    def __init__(self, message: str, *, field: str = "$") -> None:
        super().__init__(message)
        self.field = field


def _translate(exc: Exception) -> ProtocolError:
    text = str(exc)
    match = _PATH.search(text)
    if match is not None:
        field = match.group("path")
        return ProtocolError(f"invalid field {field}: {text[: match.start()]}", field=field)
    return ProtocolError(f"malformed payload: {text}", field="$")


class _Pair:
    """A JSON and a msgpack decoder for one target type."""

    __slots__ = ("json", "msgpack")

    def __init__(self, target: Any) -> None:
        self.json: msgspec.json.Decoder[Any] = msgspec.json.Decoder(target)
        self.msgpack: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(target)


_JSON_ENCODER: Final = msgspec.json.Encoder()
_MSGPACK_ENCODER: Final = msgspec.msgpack.Encoder()
_UPLINK: Final = _Pair(Uplink)
_DOWNLINK: Final = _Pair(Downlink)
_ANY: Final = _Pair(Message)
_BY_TYPE: Final[dict[type[msgspec.Struct], _Pair]] = {t: _Pair(t) for t in MESSAGE_TYPES}


def encode(message: msgspec.Struct, encoding: Encoding = "json") -> bytes:
    """Encode one wire message."""
    if encoding == "json":
        return _JSON_ENCODER.encode(message)
    return _MSGPACK_ENCODER.encode(message)


def _decode(pair: _Pair, data: bytes | bytearray | memoryview, encoding: Encoding) -> Any:
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(
            f"payload of {len(data)} bytes exceeds the limit of {MAX_PAYLOAD_BYTES}", field="$"
        )
    decoder = pair.json if encoding == "json" else pair.msgpack
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError, ValueError) as exc:
        # msgspec.ValidationError is a DecodeError; ValueError covers odd inputs such as
        # out-of-range msgpack extension types.
        raise _translate(exc) from exc


def decode_uplink(data: bytes | bytearray | memoryview, encoding: Encoding = "json") -> Uplink:
    """Decode anything an edge publishes."""
    result: Uplink = _decode(_UPLINK, data, encoding)
    return result


def decode_downlink(data: bytes | bytearray | memoryview, encoding: Encoding = "json") -> Downlink:
    """Decode anything the hub publishes."""
    result: Downlink = _decode(_DOWNLINK, data, encoding)
    return result


def decode_message(data: bytes | bytearray | memoryview, encoding: Encoding = "json") -> Message:
    """Decode any wire message, up or down."""
    result: Message = _decode(_ANY, data, encoding)
    return result


def decode_as(data: bytes | bytearray | memoryview, cls: type[M], encoding: Encoding = "json") -> M:
    """Decode a payload that must be of one kind (the topic says which)."""
    try:
        pair = _BY_TYPE[cls]
    except KeyError:
        raise TypeError(f"{cls.__name__} is not a wire message type") from None
    result: M = _decode(pair, data, encoding)
    return result


def sniff_encoding(data: bytes | bytearray | memoryview) -> Encoding:
    """Guess the encoding of a payload: JSON objects start with ``{`` (after spaces)."""
    for byte in bytes(data[:16]):
        if byte in b" \t\r\n":
            continue
        return "json" if byte == ord("{") else "msgpack"
    return "json"
