"""Commands on ``cmd/{device}``: ping, read, set_power (a manual override within the
SafetyGuard), release, ev_session / ev_session_end (a charger's energy target by a
departure time, see ``edge_agent._sessions``); idempotent by ``cid``, replies on
``reply_to`` or the edge's own topic."""

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
from ._sessions import EvSession

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


def execute(  # noqa: PLR0911, PLR0912 - one case per op
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
        case "ev_session":
            return _ev_session(agent, cmd, now_ms)
        case "ev_session_end":
            ended = agent.sessions.pop(cmd.device, None)
            if ended is None:
                return False, "rejected", f"no EV session on {cmd.device!r}", {}
            return True, "ok", "session ended", {"delivered_wh": round(ended.delivered_wh, 1)}
        case _:
            return False, "unsupported", f"unknown op {cmd.op!r}", {}


MAX_SESSION_WH: Final = 500_000.0
MAX_SESSION_MS: Final = 7 * 86_400_000


def _ev_session(  # noqa: PLR0911 - one refusal per argument
    agent: Agent, cmd: Command, now_ms: int
) -> tuple[bool, ReplyCode, str, dict[str, float | int | str | bool]]:
    """``args.energy_wh`` by ``args.departure_ts_ms`` on a controllable charger
    (``args.max_power_w``, optional: the most the car draws, which the session plans
    with); a new session replaces the one in force."""
    runner = agent.runners[cmd.device]
    if runner.config.kind != "ev_charger" or not is_controllable(runner.config):
        return False, "unsupported", f"{cmd.device!r} is not a controllable EV charger", {}
    energy, departure = cmd.args.get("energy_wh"), cmd.args.get("departure_ts_ms")
    if isinstance(energy, bool) or not isinstance(energy, int | float):
        return False, "rejected", "args.energy_wh must be a number (Wh)", {}
    if not 0 < energy <= MAX_SESSION_WH:
        return False, "rejected", f"args.energy_wh must be > 0 and <= {MAX_SESSION_WH:.0f}", {}
    if isinstance(departure, bool) or not isinstance(departure, int):
        return False, "rejected", "args.departure_ts_ms must be an integer (ms since the epoch)", {}
    if not now_ms < departure <= now_ms + MAX_SESSION_MS:
        return False, "rejected", "args.departure_ts_ms must be in the next 7 days", {}
    max_w = cmd.args.get("max_power_w")
    if max_w is not None and (isinstance(max_w, bool) or not isinstance(max_w, int | float)
                              or not 0 < max_w <= 1e7):  # fmt: skip
        return False, "rejected", "args.max_power_w must be a number > 0 (W)", {}
    agent.sessions[cmd.device] = EvSession(
        device=cmd.device, energy_wh=float(energy), departure_ms=departure, cid=cmd.cid,
        accepted_ms=now_ms, max_w=None if max_w is None else float(max_w),
    )  # fmt: skip
    result: dict[str, float | int | str | bool] = {
        "energy_wh": float(energy),
        "departure_ts_ms": departure,
    }
    if max_w is not None:
        result["max_power_w"] = float(max_w)
    return True, "ok", "session accepted", result


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
