"""Topic builders, parsers, wildcards and shared subscriptions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import ID_PATTERN, RESERVED_SEGMENTS, ProtocolError
from protocol.topics import (
    HUB_STATE,
    RETAINED_KINDS,
    UPLINK_KINDS,
    EdgeTopics,
    TopicError,
    TopicKind,
    hub_uplink_filters,
    matches,
    parse,
    shared,
    subscription,
    topic_for,
    validate_device_id,
    validate_filter,
    validate_id,
)

ids = st.from_regex(ID_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 64)
device_ids = ids.filter(lambda s: s not in RESERVED_SEGMENTS)
DEVICE_KINDS = {TopicKind.DEVICE_BIRTH, TopicKind.CMD}


@given(tenant=ids, edge=ids, device=device_ids, kind=st.sampled_from(list(TopicKind)))
def test_every_topic_parses_back_to_what_built_it(
    tenant: str, edge: str, device: str, kind: TopicKind
) -> None:
    topic = topic_for(kind, tenant, edge, device if kind in DEVICE_KINDS else None)
    parsed = parse(topic)
    assert parsed.kind is kind
    if kind is TopicKind.HUB_STATE:
        assert topic == HUB_STATE
        return
    assert (parsed.tenant, parsed.edge) == (tenant, edge)
    assert parsed.device == (device if kind in DEVICE_KINDS else None)
    assert matches(subscription(kind), topic)
    assert matches(shared("hub", subscription(kind)), topic)
    assert not matches(subscription(kind, tenant=tenant + "x"), topic)


def test_edge_topics_match_the_contract_table() -> None:
    t = EdgeTopics("acme", "park-a")
    assert t.state == "vpp/v1/acme/park-a/state"
    assert t.birth == "vpp/v1/acme/park-a/birth"
    assert t.device_birth("bess-1") == "vpp/v1/acme/park-a/bess-1/birth"
    assert t.data == "vpp/v1/acme/park-a/data"
    assert t.dispatch_status == "vpp/v1/acme/park-a/dispatch/status"
    assert t.reply == "vpp/v1/acme/park-a/reply"
    assert t.config == "vpp/v1/acme/park-a/config"
    assert t.dispatch == "vpp/v1/acme/park-a/dispatch"
    assert t.ack == "vpp/v1/acme/park-a/ack"
    assert t.cmd("bess-1") == "vpp/v1/acme/park-a/cmd/bess-1"
    for kind, device in [(k, "bess-1" if k in DEVICE_KINDS else None) for k in TopicKind]:
        assert topic_for(kind, "acme", "park-a", device) in {
            t.state, t.birth, t.device_birth("bess-1"), t.data, t.dispatch_status, t.reply,
            t.config, t.dispatch, t.ack, t.cmd("bess-1"), HUB_STATE,
        }  # fmt: skip


def test_edge_subscribes_to_exactly_its_downlink_topics() -> None:
    mine, other = EdgeTopics("acme", "park-a"), EdgeTopics("acme", "park-b")
    filters = mine.downlink_filters()
    for topic in (mine.config, mine.dispatch, mine.ack, mine.cmd("pv-1"), HUB_STATE):
        assert any(matches(f, topic) for f in filters), topic
    for topic in (other.config, other.dispatch, other.cmd("pv-1"), mine.data, mine.state):
        assert not any(matches(f, topic) for f in filters), topic


def test_hub_filters_cover_every_uplink_and_no_downlink() -> None:
    t = EdgeTopics("acme", "park-a")
    uplink = [t.state, t.birth, t.device_birth("m"), t.data, t.dispatch_status, t.reply]
    downlink = [t.config, t.dispatch, t.ack, t.cmd("m"), HUB_STATE]
    for filters in (hub_uplink_filters(), hub_uplink_filters(group="hub")):
        for topic in uplink:
            assert sum(matches(f, topic) for f in filters) == 1, topic
        for topic in downlink:
            assert not any(matches(f, topic) for f in filters), topic
    assert all(f.startswith("$share/hub/vpp/v1/") for f in hub_uplink_filters(group="hub"))


def test_kind_sets_follow_the_design_table() -> None:
    assert {TopicKind.CONFIG, TopicKind.DISPATCH, TopicKind.HUB_STATE} <= RETAINED_KINDS
    assert TopicKind.DATA not in RETAINED_KINDS
    assert TopicKind.ACK not in UPLINK_KINDS
    assert TopicKind.DISPATCH_STATUS in UPLINK_KINDS


@pytest.mark.parametrize(
    "bad", ["", "a/b", "a+b", "+", "#", "a#", "-lead", "_hub", "x" * 65, "sp ace"]
)
def test_invalid_ids_are_rejected(bad: str) -> None:
    with pytest.raises(TopicError, match="invalid"):
        validate_id(bad)
    with pytest.raises(TopicError):
        EdgeTopics("acme", bad)


@pytest.mark.parametrize("word", sorted(RESERVED_SEGMENTS))
def test_topic_words_cannot_be_device_ids(word: str) -> None:
    with pytest.raises(TopicError, match="reserved"):
        validate_device_id(word)
    with pytest.raises(TopicError):
        EdgeTopics("acme", "park-a").cmd(word)


def test_topic_errors_are_protocol_errors_naming_the_topic() -> None:
    with pytest.raises(ProtocolError) as info:
        parse("vpp/v1/acme/park-a/nope")
    assert isinstance(info.value, TopicError)
    assert info.value.field == "$topic"


def test_device_kinds_need_a_device() -> None:
    with pytest.raises(TopicError, match="needs a device"):
        topic_for(TopicKind.CMD, "acme", "park-a")


@pytest.mark.parametrize(
    "topic",
    [
        "vpp/v2/acme/park-a/data",
        "vpp/v1/acme",
        "vpp/v1/acme/park-a/unknown",
        "vpp/v1/acme/park-a/dispatch/other",
        "vpp/v1/acme/park-a/cmd/data",
        "vpp/v1/ac me/park-a/data",
        "other/v1/acme/park-a/data",
    ],
)
def test_foreign_topics_do_not_parse(topic: str) -> None:
    with pytest.raises(TopicError):
        parse(topic)


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a/b/d", False),
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("#", "a/b", True),
        ("+/+", "a/b", True),
        ("+", "a/b", False),
        ("a/b", "a/b/c", False),
        ("a/b/c", "a/b", False),
        ("#", "$SYS/x", False),
        ("+/x", "$SYS/x", False),
        ("$SYS/#", "$SYS/x", True),
        ("$share/g/a/+", "a/b", True),
    ],
)
def test_matches_follows_mqtt_rules(topic_filter: str, topic: str, expected: bool) -> None:
    assert matches(topic_filter, topic) is expected


@pytest.mark.parametrize("bad", ["", "a/b#", "a/#/c", "a+/b", "a/\x00"])
def test_invalid_filters_are_rejected(bad: str) -> None:
    with pytest.raises(TopicError):
        validate_filter(bad)


def test_matches_rejects_wildcards_in_topic_names_and_bad_shares() -> None:
    with pytest.raises(TopicError):
        matches("a/+", "a/+")
    with pytest.raises(TopicError):
        matches("$share/only", "a")
    with pytest.raises(TopicError):
        shared("bad/group", "a/b")


def test_subscription_accepts_concrete_ids_and_validates_them() -> None:
    assert subscription(TopicKind.CMD, "acme", "park-a", "pv-1") == "vpp/v1/acme/park-a/cmd/pv-1"
    assert subscription(TopicKind.HUB_STATE) == HUB_STATE
    with pytest.raises(TopicError):
        subscription(TopicKind.DATA, tenant="a/b")
