"""The control cycle: decide over a frozen snapshot, guard, hand setpoints to the device
runners, follow the executions and report them (called by :class:`Agent` every
``control_period_s``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, assert_never

from protocol import (
    DispatchState,
    State,
    encode,
)

from ._control import (
    CycleInput,
    Decision,
    decide,
)
from ._device import WriteOutcome
from ._execution import Report, Step
from ._safety import Applied, Clamped, Rejected
from .devices._base import Setpoint

if TYPE_CHECKING:
    from ._app import Agent

_log = logging.getLogger(__name__)


def run_cycle(agent: Agent) -> list[Decision]:
    """One control cycle over a frozen snapshot: decide, guard, hand over, record."""
    agent.cycles += 1
    now_ms = agent.clock.now_ms()
    views = {dev: runner.view() for dev, runner in agent.runners.items()}
    follow_sessions(agent, now_ms)
    silent = agent.hub_silent_s()
    decisions = decide(
        agent.config,
        agent.book,
        CycleInput(
            now_ms=now_ms,
            views=views,
            hub_silent_s=silent,
            dt_s=agent.config.site.control_period_s,
            manual=agent._manual,
            sessions=agent.sessions,
        ),
    )
    for decision in decisions:
        apply_decision(agent, decision)
    follow_executions(agent, decisions, now_ms)
    agent.last_decisions = decisions
    report_schedule_end(agent, now_ms, silent)
    for source in ("manual", "schedule", "default", "watchdog"):
        active = any(d.source == source for d in decisions)
        agent.metrics.control_mode.labels(source).set(1 if active else 0)
    agent._own_due_ms = now_ms  # the agent's own points join the next batch
    agent.buffer.arrived.set()
    device_births(agent)
    state_storage(agent)
    return decisions


def follow_sessions(agent: Agent, now_ms: int) -> None:
    """Count what each session's charger drew since the last cycle; end the sessions
    whose target is delivered or whose car has left."""
    for device, session in list(agent.sessions.items()):
        runner = agent.runners.get(device)
        reading = runner.reading if runner is not None else None
        session.observe(now_ms, reading.p_w if reading is not None else None)
        if session.done(now_ms):
            met = session.remaining_wh <= 0
            _log.info(
                "EV session on %s ended: %.0f of %.0f Wh delivered%s",
                device, session.delivered_wh, session.energy_wh,
                "" if met else " by the departure",
            )  # fmt: skip
            del agent.sessions[device]


def state_storage(agent: Agent) -> None:
    """Say in the retained ``state`` that storage fails (and once that it recovered).

    The link publishes ``state`` on every connect without it, so while storage fails it
    is said again after each reconnect.
    """
    link = agent.link
    if link is None or not link.connected:
        return
    failing = agent.storage_error
    text = f"{failing[1].kind}: {failing[1]}"[:256] if failing else ""
    key = (link.connects, text)
    sent = agent._storage_state_sent
    if key == sent or (not text and (sent is None or sent[1] == "")):
        return  # said already, or never failed (the link's own state says all is well)
    agent._storage_state_sent = key
    state = State(online=True, sid=agent.outbox.sid, ts_ms=agent.clock.now_ms(),
                  storage_error=text)  # fmt: skip
    link.send_control(link.topics.state, encode(state), retain=True)


def device_births(agent: Agent) -> None:
    """Publish the birth of each device that came online since the last cycle."""
    link = agent.link
    if link is None or not link.connected:
        return
    for birth in agent.births(only_due=True):
        if birth.device is not None:
            link.send_control(link.topics.device_birth(birth.device), encode(birth),
                              retain=True)  # fmt: skip


def apply_decision(agent: Agent, decision: Decision) -> None:
    runner = agent.runners[decision.device]
    agent.source[decision.device] = decision.source
    now_s = agent.clock.now()
    actual = runner.reading.p_w if runner.reading is not None else None
    step: Step | None = None
    if decision.source in {"schedule", "manual"}:
        step = Step(
            key=decision.instruction_id
            if decision.source == "schedule"
            else f"manual:{decision.instruction_id}",
            schedule_id=decision.schedule_id or f"manual:{decision.instruction_id}",
            version=decision.version,
            instruction_id=decision.instruction_id,
            target_w=decision.requested_w,
            result=decision.result,
        )
    limits = runner.config.limits
    rating = max(limits.p_max_discharge_w, limits.p_max_charge_w)
    send_reports(agent, agent.executions.decided(decision.device, step, now_s, actual, rating))
    match decision.result:
        case Applied(p_w=p):
            pass
        case Clamped(p_w=p, reason=reason):
            agent.metrics.clamps.labels(reason).inc()
        case Rejected():
            return
        case _ as unreachable:
            assert_never(unreachable)
    if step is not None:
        agent.executions.submitted(decision.device, p)
    held = runner.submit(Setpoint(p, runner.config.limits.revert_s))
    if held is not None and step is not None:  # already written, revert still fresh
        send_reports(
            agent, agent.executions.written(decision.device, p, held.p_w, "", now_s, actual)
        )


def on_write(agent: Agent, outcome: WriteOutcome) -> None:
    """A device write returned or failed (called from the device runner's task)."""
    runner = agent.runners.get(outcome.device)
    actual = runner.reading.p_w if runner is not None and runner.reading else None
    accepted = outcome.result.p_w if outcome.result is not None else None
    send_reports(agent,
        agent.executions.written(
            outcome.device, outcome.setpoint.p_w, accepted, outcome.error,
            outcome.ts_ms / 1000.0, actual,
        )
    )  # fmt: skip


def follow_executions(agent: Agent, decisions: list[Decision], now_ms: int) -> None:
    """Integrate the polls of running instructions, report their power when due, and
    end those no longer in force on a device that got no decision this cycle."""
    now_s = now_ms / 1000.0
    decided = {d.device for d in decisions}
    in_force = agent.book.targets_at(now_ms)
    for device, ex in list(agent.executions.running.items()):
        runner = agent.runners[device]
        reading = runner.reading
        p = reading.p_w if reading is not None else None
        send_reports(agent, agent.executions.polled(device, runner.reading_ts, p, now_s))
        if device in decided:
            continue
        key = ex.step.key
        if key.startswith("manual:"):
            manual = agent._manual.get(device)
            alive = (
                manual is not None and manual.expires_ms > now_ms and f"manual:{manual.cid}" == key
            )
        else:
            target = in_force[1].get(device) if in_force is not None else None
            alive = target is not None and target[1] == ex.step.instruction_id
        if not alive:
            send_reports(agent, agent.executions.end(device, now_s, "instruction ended"))


def end_executions(agent: Agent, reason: str) -> None:
    now_s = agent.clock.now()
    try:
        for device in list(agent.executions.running):
            send_reports(agent, agent.executions.end(device, now_s, reason))
    except Exception:  # shutdown goes on whatever the outbox says
        _log.exception("could not report the end of the running instructions")


def send_reports(agent: Agent, reports: list[Report]) -> None:
    for r in reports:
        agent.report(
            schedule_id=r.schedule_id,
            version=r.version,
            status=r.status,
            reason=r.reason,
            device=r.device,
            instruction_id=r.instruction_id,
            p_target_w=r.p_target_w,
            p_applied_w=r.p_applied_w,
            p_actual_w=r.p_actual_w,
            deviation_w=r.deviation_w,
            energy_wh=r.energy_wh,
            started_ts_ms=r.started_ts_ms,
        )


def report_schedule_end(agent: Agent, now_ms: int, hub_silent_s: float) -> None:
    """Report once that the schedule ended, expired, or was stopped by its own
    ``max_offline_s`` (default control in force in each case)."""
    sched = agent.book.schedule
    if sched is None:
        return
    state = agent.book.finished(now_ms)
    key = (sched.id, sched.version)
    if state in {"done", "expired"}:
        if agent._schedule_end_reported != key:
            agent._schedule_end_reported = key
            status: DispatchState = "done" if state == "done" else "expired"
            reason = "schedule ended" if state == "done" else "schedule expired"
            agent.report(schedule_id=sched.id, version=sched.version, status=status,
                        reason=f"{reason}: default control in force")  # fmt: skip
        return
    if state != "running":
        return
    if not agent.book.offline_stopped(hub_silent_s):
        agent._offline_stop_reported = None  # followed again once the hub is back
        return
    if agent._offline_stop_reported != key:
        agent._offline_stop_reported = key
        agent.report(
            schedule_id=sched.id,
            version=sched.version,
            status="expired",
            reason=f"hub silent for more than the schedule's max_offline_s "
            f"({sched.max_offline_s:g} s): default control in force",
        )
