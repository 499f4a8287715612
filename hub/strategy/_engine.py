"""The rule engine: one pure step per delivery slot, shared by the live loop and the backtest.

``RuleEngine(rules).step(state, context) -> (decision, state)``. The engine is compiled
once from validated rules and holds nothing that changes; everything that carries from
one slot to the next (the previous known value of each field a ``crosses_*`` condition
reads) is in the returned :class:`RuleState`, which the caller keeps (in memory for a
backtest, in the database for the live loop) and hands back with the next slot.

Evaluation order and conflicts (docs/strategy.md): rules run in rank order (higher
``priority`` first, then list order); a rule fires when its conditions are True (an
unknown value makes a comparison unknown, Kleene logic; unknown never fires). Each firing
rule's actions run in list order; the first action to set a channel (bid, battery, pv,
ev, hvac) wins it for the slot, and later ones are reported in
:attr:`SlotDecision.suppressed`. Notifications all go through.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any, Literal, assert_never

import msgspec

from ._context import FIELD_ATTRIBUTES, SlotContext
from ._rules import (
    SLOT_MINUTES,
    Action,
    AllOf,
    AnyOf,
    Between,
    BidAction,
    ChargeAction,
    Condition,
    CrossesAbove,
    CrossesBelow,
    CurtailPvAction,
    DischargeAction,
    Equal,
    Greater,
    GreaterEqual,
    HvacOffsetAction,
    In,
    Less,
    LessEqual,
    Not,
    NotEqual,
    NotifyAction,
    Rule,
    ShiftEvAction,
    channel_of,
)
from ._sat import minutes
from ._validate import rank

Truth = bool | None
Predicate = Callable[[SlotContext, dict[str, float]], Truth]

_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    Greater: operator.gt,
    GreaterEqual: operator.ge,
    Less: operator.lt,
    LessEqual: operator.le,
    Equal: operator.eq,
    NotEqual: operator.ne,
}


class RuleState(msgspec.Struct, frozen=True, kw_only=True):
    """What the engine carries from one slot to the next."""

    previous: dict[str, float] = {}
    """Last known value of each field read by a ``crosses_*`` condition."""


class Bid(msgspec.Struct, frozen=True, kw_only=True):
    slot_start_ms: int
    side: Literal["sell", "buy"]
    quantity_kw: float
    """Power over the slot; the energy is ``quantity_kw · slot hours``."""
    price_yuan_mwh: float | None = None
    """Limit price; None = quantity only (price taker)."""


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    rule: int
    level: Literal["info", "warning", "critical"]
    message: str


class Suppressed(msgspec.Struct, frozen=True, kw_only=True):
    """An action of a firing rule that did not take effect, and why."""

    rule: int
    action: int
    reason: str


class SlotDecision(msgspec.Struct, frozen=True, kw_only=True):
    """What a strategy decided for one slot; None = left to the site's default control."""

    slot_start_ms: int
    slot: int
    bid: Bid | None = None
    battery_kw: float | None = None
    """VPP battery power, generator convention: + discharge, - charge."""
    pv_max_kw: float | None = None
    ev_max_kw: float | None = None
    hvac_setpoint_c: float | None = None
    notifications: tuple[Notification, ...] = ()
    fired: tuple[int, ...] = ()
    """Indices of the rules whose conditions held, in evaluation order."""
    set_by: dict[str, int] = {}
    """Channel -> index of the rule that set it (-1 = the optimiser's plan)."""
    suppressed: tuple[Suppressed, ...] = ()


def _getter(field: str) -> Callable[[SlotContext], object]:
    if field == "time_of_day":
        return lambda ctx: ctx.slot * SLOT_MINUTES
    return operator.attrgetter(FIELD_ATTRIBUTES[field])


def _operand(field: str, value: object) -> object:
    if field == "time_of_day":
        assert isinstance(value, str)
        return minutes(value)
    return value


def _compile(cond: Condition, tracked: set[str]) -> Predicate:  # noqa: PLR0911
    match cond:
        case Greater() | GreaterEqual() | Less() | LessEqual() | Equal() | NotEqual():
            get, cmp = _getter(cond.field), _COMPARE[type(cond)]
            ref = _operand(cond.field, cond.value)

            def compare(ctx: SlotContext, prev: dict[str, float]) -> Truth:
                v = get(ctx)
                return None if v is None else bool(cmp(v, ref))

            return compare
        case Between():
            get = _getter(cond.field)
            low, high = (_operand(cond.field, v) for v in cond.value)
            if cond.field != "time_of_day":

                def between(ctx: SlotContext, prev: dict[str, float]) -> Truth:
                    v = get(ctx)
                    return None if v is None else bool(low <= v <= high)  # type: ignore[operator]

                return between
            wraps = low > high  # type: ignore[operator]

            def window(ctx: SlotContext, prev: dict[str, float]) -> Truth:
                m = get(ctx)
                if wraps:
                    return bool(m >= low or m < high)  # type: ignore[operator]
                return bool(low <= m < high)  # type: ignore[operator]

            return window
        case In():
            get = _getter(cond.field)
            members = frozenset(cond.value)

            def member(ctx: SlotContext, prev: dict[str, float]) -> Truth:
                return get(ctx) in members

            return member
        case CrossesAbove() | CrossesBelow():
            get, field, level = _getter(cond.field), cond.field, cond.value
            tracked.add(field)
            above = isinstance(cond, CrossesAbove)

            def crosses(ctx: SlotContext, prev: dict[str, float]) -> Truth:
                v, p = get(ctx), prev.get(field)
                if v is None or p is None:
                    return None
                if above:
                    return bool(p <= level < v)  # type: ignore[operator]
                return bool(p >= level > v)  # type: ignore[operator]

            return crosses
        case AllOf():
            return _all([_compile(c, tracked) for c in cond.conditions])
        case AnyOf():
            parts = [_compile(c, tracked) for c in cond.conditions]

            def any_of(ctx: SlotContext, prev: dict[str, float]) -> Truth:
                unknown = False
                for part in parts:
                    r = part(ctx, prev)
                    if r:
                        return True
                    if r is None:
                        unknown = True
                return None if unknown else False

            return any_of
        case Not():
            inner = _compile(cond.condition, tracked)

            def negate(ctx: SlotContext, prev: dict[str, float]) -> Truth:
                r = inner(ctx, prev)
                return None if r is None else not r

            return negate
        case _:
            assert_never(cond)


def _all(parts: list[Predicate]) -> Predicate:
    if len(parts) == 1:
        return parts[0]

    def all_of(ctx: SlotContext, prev: dict[str, float]) -> Truth:
        unknown = False
        for part in parts:
            r = part(ctx, prev)
            if r is False:
                return False
            if r is None:
                unknown = True
        return None if unknown else True

    return all_of


class _Outcome(msgspec.Struct):
    bid: Bid | None = None
    battery_kw: float | None = None
    pv_max_kw: float | None = None
    ev_max_kw: float | None = None
    hvac_setpoint_c: float | None = None


def _apply(action: Action, ctx: SlotContext, out: _Outcome) -> str | None:  # noqa: PLR0912
    """Set the action's channel in ``out``; a reason string when it cannot apply."""
    match action:
        case BidAction(parameters=p):
            if p.slots is not None and ctx.slot not in p.slots:
                return f"slot {ctx.slot} is not in parameters.slots"
            if p.quantity_kw == "available":
                room = ctx.available_up_kw if p.side == "sell" else ctx.available_down_kw
                if room is None or room <= 0:
                    return f"no available {'up' if p.side == 'sell' else 'down'} capacity"
                quantity = room
            else:
                quantity = p.quantity_kw
            out.bid = Bid(
                slot_start_ms=ctx.slot_start_ms,
                side=p.side,
                quantity_kw=quantity,
                price_yuan_mwh=p.price_yuan_mwh,
            )
        case ChargeAction(parameters=p) | DischargeAction(parameters=p):
            charge = isinstance(action, ChargeAction)
            room = ctx.available_down_kw if charge else ctx.available_up_kw
            power = p.power_kw if room is None else min(p.power_kw, max(room, 0.0))
            if power <= 0:
                return f"no available {'down' if charge else 'up'} capacity"
            out.battery_kw = -power if charge else power
        case CurtailPvAction(parameters=p):
            out.pv_max_kw = p.max_kw
        case ShiftEvAction(parameters=p):
            out.ev_max_kw = p.max_kw
        case HvacOffsetAction(parameters=p):
            if ctx.hvac_setpoint_c is None:
                return "no HVAC setpoint known"
            setpoint = ctx.hvac_setpoint_c + p.offset_c
            if ctx.comfort_max_c is not None:
                setpoint = min(setpoint, ctx.comfort_max_c)
            if ctx.comfort_min_c is not None:
                setpoint = max(setpoint, ctx.comfort_min_c)
            out.hvac_setpoint_c = setpoint
        case NotifyAction():
            pass
        case _:
            assert_never(action)
    return None


class RuleEngine:
    """Compiled rules; :meth:`step` is a pure function of ``(state, context)``."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        rules = list(rules)
        self._tracked: set[str] = set()
        self._compiled = [
            (
                i,
                _all([_compile(c, self._tracked) for c in rules[i].conditions]),
                [(k, a, channel_of(a)) for k, a in enumerate(rules[i].actions)],
            )
            for i in rank(rules)
            if rules[i].enabled
        ]
        self._track = [(f, _getter(f)) for f in sorted(self._tracked)]

    def initial_state(self) -> RuleState:
        return RuleState()

    def step(self, state: RuleState, ctx: SlotContext) -> tuple[SlotDecision, RuleState]:
        prev = state.previous
        out = _Outcome()
        set_by: dict[str, int] = {}
        fired: list[int] = []
        notes: list[Notification] = []
        suppressed: list[Suppressed] = []
        for i, predicate, actions in self._compiled:
            if predicate(ctx, prev) is not True:
                continue
            fired.append(i)
            for k, action, channel in actions:
                if isinstance(action, NotifyAction):
                    p = action.parameters
                    notes.append(Notification(rule=i, level=p.level, message=p.message))
                    continue
                if channel in set_by:
                    reason = f"rules[{set_by[channel]}] set the {channel} first"
                    suppressed.append(Suppressed(rule=i, action=k, reason=reason))
                    continue
                why = _apply(action, ctx, out)
                if why is None:
                    set_by[channel] = i
                else:
                    suppressed.append(Suppressed(rule=i, action=k, reason=why))
        if self._track:
            updated = dict(prev)
            for field, get in self._track:
                value = get(ctx)
                if value is not None:
                    updated[field] = value  # type: ignore[assignment]
            state = RuleState(previous=updated)
        decision = SlotDecision(
            slot_start_ms=ctx.slot_start_ms,
            slot=ctx.slot,
            bid=out.bid,
            battery_kw=out.battery_kw,
            pv_max_kw=out.pv_max_kw,
            ev_max_kw=out.ev_max_kw,
            hvac_setpoint_c=out.hvac_setpoint_c,
            notifications=tuple(notes),
            fired=tuple(fired),
            set_by=set_by,
            suppressed=tuple(suppressed),
        )
        return decision, state

    def run(
        self, contexts: Iterable[SlotContext], state: RuleState | None = None
    ) -> tuple[list[SlotDecision], RuleState]:
        """:meth:`step` over slots in order (what a backtest day does)."""
        state = self.initial_state() if state is None else state
        decisions = []
        for ctx in contexts:
            decision, state = self.step(state, ctx)
            decisions.append(decision)
        return decisions, state
