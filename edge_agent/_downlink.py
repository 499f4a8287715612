"""Downlink handling: every message from the hub (hub state, acks, schedules, config,
commands) parsed, checked and routed; bad input rejected, counted and reported."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from protocol import (
    Ack,
    Command,
    DispatchSchedule,
    HubState,
    ProtocolError,
    Reply,
    SiteConfig,
    decode_as,
    sniff_encoding,
)
from protocol.topics import TopicError, TopicKind, parse

from ._control import (
    is_controllable,
)

if TYPE_CHECKING:
    from ._app import Agent

_log = logging.getLogger(__name__)


def on_message(agent: Agent, topic: str, payload: bytes, retained: bool = False) -> None:  # noqa: PLR0912
    """Handle one downlink message; bad input is rejected, counted and reported."""
    try:
        parsed = parse(topic)
    except TopicError:
        reject(agent, "unknown", "unknown topic", None)
        return
    encoding = sniff_encoding(payload)
    kind = parsed.kind
    try:
        match kind:
            case TopicKind.HUB_STATE:
                hub = decode_as(payload, HubState, encoding)
                if not retained:
                    agent._contact()
                if agent.link is not None:
                    agent.link.set_hub_online(hub.online)
            case TopicKind.ACK:
                ack = decode_as(payload, Ack, encoding)
                if ack.edge != agent.config.site.edge:
                    reject(agent, "ack", f"ack for edge {ack.edge!r}", None)
                    return
                agent._contact()
                agent.outbox.ack(ack.sid, ack.seq)
                if agent.link is not None:
                    agent.link.acked(ack.sid, ack.seq)
            case TopicKind.DISPATCH:
                if not retained:
                    agent._contact()
                on_dispatch(agent, decode_as(payload, DispatchSchedule, encoding))
            case TopicKind.CONFIG:
                if not retained:
                    agent._contact()
                agent._on_config(decode_as(payload, SiteConfig, encoding))
            case TopicKind.CMD:
                agent._contact()
                agent._on_command(decode_as(payload, Command, encoding), parsed.device)
            case _:
                reject(agent, str(kind), "not a downlink topic", None)
    except ProtocolError as exc:
        reject(agent, str(kind), f"malformed {kind} message: {exc}", kind)


def reject(
    agent: Agent,
    topic: str,
    reason: str,
    kind: TopicKind | None,
    *,
    schedule_id: str = "",
    version: int = 0,
) -> None:
    label = reason_label(reason)
    agent.metrics.rejections.labels(topic, label).inc()
    _log.warning("rejected %s input: %s", topic, reason)
    if kind is TopicKind.CMD:
        agent._reply(Reply(cid="invalid", ok=False, code="rejected", message=reason[:1024],
                          ts_ms=agent.clock.now_ms()))  # fmt: skip
    elif kind in {TopicKind.DISPATCH, TopicKind.CONFIG}:
        agent.report(schedule_id=schedule_id, version=version, status="rejected",
                    reason=reason)  # fmt: skip


def on_dispatch(agent: Agent, schedule: DispatchSchedule) -> None:
    controllable = {d.id: d for d in agent.config.devices if is_controllable(d)}
    verdict = agent.book.check(
        schedule,
        edge=agent.config.site.edge,
        controllable=controllable,
        known=set(agent.runners),
        now_ms=agent.clock.now_ms(),
    )
    if verdict.duplicate:
        return
    if not verdict.accepted:
        reject(agent, "dispatch", verdict.reason, TopicKind.DISPATCH,
                     schedule_id=schedule.id, version=schedule.version)  # fmt: skip
        return
    previous = agent.book.accept(schedule)
    if previous is not None:
        agent.report(schedule_id=previous.id, version=previous.version, status="superseded",
                    reason=f"superseded by {schedule.id} v{schedule.version}")  # fmt: skip
    agent.report(schedule_id=schedule.id, version=schedule.version, status="accepted")
    for device in verdict.ignored:  # the rest of the schedule runs without them
        reason = f"device {device!r} cannot be controlled: its targets are ignored"
        agent.metrics.rejections.labels("dispatch", reason_label(reason)).inc()
        agent.report(schedule_id=schedule.id, version=schedule.version, status="rejected",
                    reason=reason, device=device)  # fmt: skip
    _log.info("schedule %s v%d accepted", schedule.id, schedule.version)


def reason_label(reason: str) -> str:
    """A low-cardinality metric label for a rejection reason (its first words)."""
    head = reason.split(":", maxsplit=1)[0]
    words = [w for w in head.split() if not any(c.isdigit() for c in w) and "'" not in w]
    return " ".join(words[:4])[:60] or "invalid"
