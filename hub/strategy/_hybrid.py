"""HYBRID strategies: the optimiser's plan, then the rules as overrides, slot by slot.

:func:`plan_decisions` turns a :class:`Schedule` (and its bids) into one
:class:`SlotDecision` per slot, every channel marked as set by the plan (``-1``). Then
:func:`override` lays a rule decision over it: each channel a rule set replaces the plan's
value, the others keep it. An override changes only that slot; the plan is not re-solved
within the day (the next plan starts from the measured state).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from ._context import SlotContext
from ._engine import Bid, RuleEngine, RuleState, SlotDecision
from ._optimise import DayAheadProblem, Schedule

PLAN = -1
"""``SlotDecision.set_by`` value of a channel the optimiser's plan set."""


def plan_decisions(
    schedule: Schedule, problem: DayAheadProblem, bids: Sequence[Bid] = ()
) -> list[SlotDecision]:
    """The plan as per-slot decisions: bid, fleet battery power, PV cap when curtailed,
    EV charging power when there are sessions."""
    step_ms = round(problem.slot_hours * 3_600_000)
    by_start = {b.slot_start_ms: b for b in bids}
    battery = schedule.battery_kw.sum(axis=0) if problem.batteries else None
    pv = schedule.pv_kw.sum(axis=0) if problem.pv else None
    slots = len(schedule.net_export_kw)
    forecast = [sum(p.forecast_kw[t] for p in problem.pv) for t in range(slots)]
    ev = schedule.ev_kw.sum(axis=0) if problem.ev else None
    decisions = []
    for t in range(slots):
        start = problem.day_start_ms + t * step_ms
        set_by: dict[str, int] = {}
        bid = by_start.get(start)
        if bid is not None:
            set_by["bid"] = PLAN
        battery_kw = None if battery is None else float(battery[t])
        if battery_kw is not None:
            set_by["battery"] = PLAN
        pv_max = None
        if pv is not None and pv[t] < forecast[t] - 1e-6:
            pv_max = float(pv[t])
            set_by["pv"] = PLAN
        ev_max = None if ev is None else float(ev[t])
        if ev_max is not None:
            set_by["ev"] = PLAN
        decisions.append(
            SlotDecision(
                slot_start_ms=start,
                slot=t,
                bid=bid,
                battery_kw=battery_kw,
                pv_max_kw=pv_max,
                ev_max_kw=ev_max,
                set_by=set_by,
            )
        )
    return decisions


_CHANNEL_FIELDS = {
    "bid": "bid",
    "battery": "battery_kw",
    "pv": "pv_max_kw",
    "ev": "ev_max_kw",
    "hvac": "hvac_setpoint_c",
}


def override(plan: SlotDecision, rules: SlotDecision) -> SlotDecision:
    """``plan`` with every channel that a rule set in ``rules`` replaced by the rule's."""
    changes: dict[str, object] = {
        _CHANNEL_FIELDS[channel]: getattr(rules, _CHANNEL_FIELDS[channel])
        for channel in rules.set_by
    }
    return msgspec.structs.replace(
        plan,
        **changes,
        set_by={**plan.set_by, **rules.set_by},
        notifications=plan.notifications + rules.notifications,
        fired=rules.fired,
        suppressed=plan.suppressed + rules.suppressed,
    )


def hybrid_decisions(
    plan: Sequence[SlotDecision],
    engine: RuleEngine,
    contexts: Iterable[SlotContext],
    state: RuleState | None = None,
) -> tuple[list[SlotDecision], RuleState]:
    """Step the rules over the day's contexts and lay each slot's decision over the plan."""
    state = engine.initial_state() if state is None else state
    out = []
    for planned, ctx in zip(plan, contexts, strict=True):
        if planned.slot_start_ms != ctx.slot_start_ms:
            raise ValueError(
                f"plan slot {planned.slot_start_ms} and context slot {ctx.slot_start_ms} differ"
            )
        decision, state = engine.step(state, ctx)
        out.append(override(planned, decision))
    return out, state
