"""Commands on ``cmd/{device}``: ping, read, set_power (a manual override within the
SafetyGuard), release; idempotent by ``cid``, replies on ``reply_to`` or the edge's own topic."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final, Literal

from protocol import (
    Command,
    Reply,
    encode,
)

from ._control import (
    ManualOverride,
    is_controllable,
)

if TYPE_CHECKING:
    from ._app import Agent

_log = logging.getLogger(__name__)


def on_command(agent: Agent, cmd: Command, topic_device: str | None) -> None:
    cached = agent._replies.get(cmd.cid)
    if cached is not None:  # idempotent by cid: the same answer, nothing re-executed
        send_reply(agent, cmd.reply_to, cached)
        return
    ok, code, message, result = execute(agent, cmd, topic_device)
    rep = Reply(cid=cmd.cid, ok=ok, code=code, message=message, result=result,
                ts_ms=agent.clock.now_ms())  # fmt: skip
    agent._replies[cmd.cid] = rep
    while len(agent._replies) > REPLY_CACHE_MAX:
        agent._replies.popitem(last=False)
    if not ok:
        agent.metrics.rejections.labels("cmd", code).inc()
    send_reply(agent, cmd.reply_to, rep)


def execute(  # noqa: PLR0911
    agent: Agent, cmd: Command, topic_device: str | None
) -> tuple[bool, ReplyCode, str, dict[str, float | int | str | bool]]:
    now_ms = agent.clock.now_ms()
    if topic_device != cmd.device:
        return False, "rejected", f"device {cmd.device!r} does not match the topic", {}
    if cmd.expires_ts_ms <= now_ms:
        return False, "expired", f"command expired at {cmd.expires_ts_ms} (now {now_ms})", {}
    runner = agent.runners.get(cmd.device)
    if runner is None:
        return False, "unknown_device", f"unknown device {cmd.device!r}", {}
    match cmd.op:
        case "ping":
            return True, "ok", "", {"status": runner.status.value}
        case "read":
            values = runner.reading.values if runner.reading else {}
            return (
                True,
                "ok",
                "",
                {k: v for k, v in values.items() if isinstance(v, int | float | str)},
            )
        case "set_power":
            raw = cmd.args.get("p_w")
            if not is_controllable(runner.config):
                return False, "unsupported", f"device {cmd.device!r} cannot be controlled", {}
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                return False, "rejected", "args.p_w must be a number (W)", {}
            agent._manual[cmd.device] = ManualOverride(float(raw), cmd.expires_ts_ms, cmd.cid)
            message = "setpoint in force until expires_ts_ms, within the SafetyGuard"
            return True, "ok", message, {"p_w": float(raw)}
        case "release":
            agent._manual.pop(cmd.device, None)
            return True, "ok", "manual setpoint released", {}
        case _:
            return False, "unsupported", f"unknown op {cmd.op!r}", {}


def reply(agent: Agent, rep: Reply) -> None:
    if agent.link is not None:
        agent.link.send_control(agent.link.topics.reply, encode(rep))


def send_reply(agent: Agent, reply_to: str, rep: Reply) -> None:
    if agent.link is None:
        return
    topic = (
        reply_to if reply_topic_ok(reply_to, agent.link.topics.base) else (agent.link.topics.reply)
    )
    agent.link.send_control(topic, encode(rep))


REPLY_CACHE_MAX: Final = 1_024
ReplyCode = Literal["ok", "rejected", "expired", "unknown_device", "unsupported", "error"]


def reply_topic_ok(reply_to: str, base: str) -> bool:
    """Whether ``reply_to`` is a topic we may publish to: under our own tree, no wildcard.

    Anything else (``+``/``#`` would make the MQTT client raise, NUL is invalid) gets the
    reply on the edge's own reply topic instead.
    """
    return (
        reply_to.startswith(base + "/")
        and not any(c in reply_to for c in "+#\x00")
        and len(reply_to.encode()) <= 65_535
    )
