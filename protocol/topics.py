"""MQTT topics of the contract, as code rather than f-strings.

Topic tree (major version in the topic)::

    vpp/v1/{tenant}/{edge}/state                 up    retained   State (also the Will)
    vpp/v1/{tenant}/{edge}/birth                 up    retained   Birth (edge)
    vpp/v1/{tenant}/{edge}/{device}/birth        up    retained   Birth (device)
    vpp/v1/{tenant}/{edge}/data                  up               TelemetryBatch
    vpp/v1/{tenant}/{edge}/dispatch/status       up               DispatchStatus
    vpp/v1/{tenant}/{edge}/reply                 up               Reply
    vpp/v1/{tenant}/{edge}/reply/{replica}       up               Reply (to one hub replica)
    vpp/v1/{tenant}/{edge}/config                down  retained   SiteConfig
    vpp/v1/{tenant}/{edge}/dispatch              down  retained   DispatchSchedule
    vpp/v1/{tenant}/{edge}/ack                   down             Ack
    vpp/v1/{tenant}/{edge}/cmd/{device}          down             Command
    vpp/v1/_hub/state                            down  retained   HubState

Ids are validated like :data:`protocol.ID_PATTERN` (no ``+``, ``#``, ``/``, not empty, at
most 64 characters) and device ids may not be one of the topic words.

>>> EdgeTopics("acme", "park-a").data
'vpp/v1/acme/park-a/data'
>>> parse("vpp/v1/acme/park-a/bess-1/birth").device
'bess-1'
>>> matches(subscription(TopicKind.DATA), "vpp/v1/acme/park-a/data")
True
>>> shared("hub", subscription(TopicKind.DATA))
'$share/hub/vpp/v1/+/+/data'
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final

from ._codec import ProtocolError
from ._messages import ID_PATTERN, RESERVED_SEGMENTS

ROOT: Final = "vpp/v1"
HUB_STATE: Final = f"{ROOT}/_hub/state"
MAX_TOPIC_LENGTH: Final = 65_535

_ID: Final = re.compile(ID_PATTERN)
_SHARE_GROUP: Final = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class TopicError(ProtocolError):
    """A topic, filter or id that does not fit the contract."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="$topic")


class TopicKind(enum.StrEnum):
    """What a topic carries."""

    STATE = "state"
    BIRTH = "birth"
    DEVICE_BIRTH = "device_birth"
    DATA = "data"
    DISPATCH_STATUS = "dispatch_status"
    REPLY = "reply"
    CONFIG = "config"
    DISPATCH = "dispatch"
    ACK = "ack"
    CMD = "cmd"
    HUB_STATE = "hub_state"


UPLINK_KINDS: Final = frozenset(
    {
        TopicKind.STATE,
        TopicKind.BIRTH,
        TopicKind.DEVICE_BIRTH,
        TopicKind.DATA,
        TopicKind.DISPATCH_STATUS,
        TopicKind.REPLY,
    }
)
RETAINED_KINDS: Final = frozenset(
    {
        TopicKind.STATE,
        TopicKind.BIRTH,
        TopicKind.DEVICE_BIRTH,
        TopicKind.CONFIG,
        TopicKind.DISPATCH,
        TopicKind.HUB_STATE,
    }
)

# The suffix after vpp/v1/{tenant}/{edge}/ for each kind; "{device}" is a parameter.
_SUFFIX: Final[dict[TopicKind, tuple[str, ...]]] = {
    TopicKind.STATE: ("state",),
    TopicKind.BIRTH: ("birth",),
    TopicKind.DEVICE_BIRTH: ("{device}", "birth"),
    TopicKind.DATA: ("data",),
    TopicKind.DISPATCH_STATUS: ("dispatch", "status"),
    TopicKind.REPLY: ("reply",),
    TopicKind.CONFIG: ("config",),
    TopicKind.DISPATCH: ("dispatch",),
    TopicKind.ACK: ("ack",),
    TopicKind.CMD: ("cmd", "{device}"),
}


def validate_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it can be one topic level, else raise :class:`TopicError`."""
    if not isinstance(value, str) or len(value) > 64 or _ID.fullmatch(value) is None:
        raise TopicError(
            f"invalid {what} {value!r}: use 1-64 characters from A-Z a-z 0-9 _ . - "
            "starting with a letter or digit (no '+', '#', '/')"
        )
    return value


def validate_device_id(value: str) -> str:
    """A device id: a valid id that is not one of the topic words."""
    validate_id(value, "device id")
    if value in RESERVED_SEGMENTS:
        raise TopicError(f"invalid device id {value!r}: it is a reserved topic word")
    return value


def topic_for(kind: TopicKind, tenant: str, edge: str, device: str | None = None) -> str:
    """The concrete topic of ``kind`` for one edge (and device, where the kind has one)."""
    if kind is TopicKind.HUB_STATE:
        return HUB_STATE
    validate_id(tenant, "tenant id")
    validate_id(edge, "edge id")
    parts = [ROOT, tenant, edge]
    for segment in _SUFFIX[kind]:
        if segment == "{device}":
            if device is None:
                raise TopicError(f"topic kind {kind} needs a device id")
            parts.append(validate_device_id(device))
        else:
            parts.append(segment)
    return "/".join(parts)


def subscription(kind: TopicKind, tenant: str = "+", edge: str = "+", device: str = "+") -> str:
    """A subscription filter for ``kind``; ``"+"`` (the default) matches every id."""
    if kind is TopicKind.HUB_STATE:
        return HUB_STATE
    parts = [ROOT]
    for value, what in ((tenant, "tenant id"), (edge, "edge id")):
        parts.append(value if value == "+" else validate_id(value, what))
    for segment in _SUFFIX[kind]:
        if segment == "{device}":
            parts.append(device if device == "+" else validate_device_id(device))
        else:
            parts.append(segment)
    return "/".join(parts)


def shared(group: str, topic_filter: str) -> str:
    """``$share/{group}/{filter}``: replicas in one group split the messages between them."""
    if _SHARE_GROUP.match(group) is None:
        raise TopicError(f"invalid shared-subscription group {group!r}")
    validate_filter(topic_filter)
    return f"$share/{group}/{topic_filter}"


def validate_filter(topic_filter: str) -> str:
    """Check MQTT filter syntax: ``+`` and ``#`` only as whole levels, ``#`` only last."""
    if not topic_filter or len(topic_filter) > MAX_TOPIC_LENGTH or "\x00" in topic_filter:
        raise TopicError(f"invalid topic filter {topic_filter!r}")
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if ("+" in level and level != "+") or ("#" in level and level != "#"):
            raise TopicError(f"invalid topic filter {topic_filter!r}: wildcard inside a level")
        if level == "#" and index != len(levels) - 1:
            raise TopicError(f"invalid topic filter {topic_filter!r}: '#' must be last")
    return topic_filter


def matches(topic_filter: str, topic: str) -> bool:
    """Whether ``topic`` matches ``topic_filter`` (``$share/{group}/`` prefixes allowed)."""
    if topic_filter.startswith("$share/"):
        parts = topic_filter.split("/", 2)
        if len(parts) < 3:
            raise TopicError(f"invalid shared filter {topic_filter!r}")
        topic_filter = parts[2]
    validate_filter(topic_filter)
    if "+" in topic or "#" in topic:
        raise TopicError(f"a topic name cannot contain wildcards: {topic!r}")
    f_levels = topic_filter.split("/")
    t_levels = topic.split("/")
    # Wildcards at the first level never match topics starting with '$' (MQTT 4.7.2).
    if topic.startswith("$") and f_levels[0] in {"+", "#"}:
        return False
    for index, level in enumerate(f_levels):
        if level == "#":
            return True
        if index >= len(t_levels):
            return False
        if level not in {"+", t_levels[index]}:
            return False
    return len(f_levels) == len(t_levels)


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    """A topic of the contract taken apart."""

    kind: TopicKind
    tenant: str | None
    edge: str | None
    device: str | None = None


def parse(topic: str) -> ParsedTopic:
    """Take a concrete topic apart; raise :class:`TopicError` if it is not ours."""
    if topic == HUB_STATE:
        return ParsedTopic(TopicKind.HUB_STATE, None, None)
    levels = topic.split("/")
    if len(levels) < 5 or "/".join(levels[:2]) != ROOT:
        raise TopicError(f"not a vpp/v1 topic: {topic!r}")
    tenant, edge, rest = levels[2], levels[3], tuple(levels[4:])
    validate_id(tenant, "tenant id")
    validate_id(edge, "edge id")
    for kind, suffix in _SUFFIX.items():
        if len(suffix) != len(rest):
            continue
        device: str | None = None
        for pattern, actual in zip(suffix, rest, strict=True):
            if pattern == "{device}":
                device = actual
            elif pattern != actual:
                break
        else:
            if device is not None:
                validate_device_id(device)
            return ParsedTopic(kind, tenant, edge, device)
    raise TopicError(f"unknown topic {topic!r}")


@dataclass(frozen=True, slots=True)
class EdgeTopics:
    """Every concrete topic of one edge, validated once."""

    tenant: str
    edge: str

    def __post_init__(self) -> None:
        validate_id(self.tenant, "tenant id")
        validate_id(self.edge, "edge id")

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.tenant}/{self.edge}"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def birth(self) -> str:
        return f"{self.base}/birth"

    def device_birth(self, device: str) -> str:
        return f"{self.base}/{validate_device_id(device)}/birth"

    @property
    def data(self) -> str:
        return f"{self.base}/data"

    @property
    def dispatch_status(self) -> str:
        return f"{self.base}/dispatch/status"

    @property
    def reply(self) -> str:
        return f"{self.base}/reply"

    @property
    def config(self) -> str:
        return f"{self.base}/config"

    @property
    def dispatch(self) -> str:
        return f"{self.base}/dispatch"

    @property
    def ack(self) -> str:
        return f"{self.base}/ack"

    def cmd(self, device: str) -> str:
        return f"{self.base}/cmd/{validate_device_id(device)}"

    def reply_to(self, replica: str) -> str:
        """The reply topic of one hub replica under this edge's tree (a command's
        ``reply_to``: the edge may publish there, and only that replica subscribes)."""
        return f"{self.base}/reply/{validate_id(replica, 'replica id')}"

    @property
    def cmd_filter(self) -> str:
        return f"{self.base}/cmd/+"

    def downlink_filters(self) -> list[str]:
        """What an edge subscribes to."""
        return [self.config, self.dispatch, self.ack, self.cmd_filter, HUB_STATE]


def replica_reply_filter(replica: str) -> str:
    """What one hub replica subscribes to (never shared) for the replies to its commands.

    >>> replica_reply_filter("hub-a")
    'vpp/v1/+/+/reply/hub-a'
    >>> matches(replica_reply_filter("hub-a"), EdgeTopics("acme", "park-a").reply_to("hub-a"))
    True
    """
    return f"{ROOT}/+/+/reply/{validate_id(replica, 'replica id')}"


def parse_replica_reply(topic: str) -> tuple[str, str, str] | None:
    """``(tenant, edge, replica)`` of a replica's reply topic, None for any other topic.

    >>> parse_replica_reply("vpp/v1/acme/park-a/reply/hub-a")
    ('acme', 'park-a', 'hub-a')
    >>> parse_replica_reply("vpp/v1/acme/park-a/reply") is None
    True
    """
    levels = topic.split("/")
    if len(levels) != 6 or "/".join(levels[:2]) != ROOT or levels[4] != "reply":
        return None
    tenant, edge, replica = levels[2], levels[3], levels[5]
    try:
        validate_id(tenant, "tenant id")
        validate_id(edge, "edge id")
        validate_id(replica, "replica id")
    except TopicError:
        return None
    return tenant, edge, replica


def hub_uplink_filters(group: str | None = None) -> list[str]:
    """What the hub subscribes to; with ``group``, as shared subscriptions."""
    filters = [subscription(kind) for kind in _SUFFIX if kind in UPLINK_KINDS]
    return [shared(group, f) for f in filters] if group else filters


__all__ = [
    "HUB_STATE",
    "RETAINED_KINDS",
    "ROOT",
    "UPLINK_KINDS",
    "EdgeTopics",
    "ParsedTopic",
    "TopicError",
    "TopicKind",
    "hub_uplink_filters",
    "matches",
    "parse",
    "parse_replica_reply",
    "replica_reply_filter",
    "shared",
    "subscription",
    "topic_for",
    "validate_device_id",
    "validate_filter",
    "validate_id",
]
