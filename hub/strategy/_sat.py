"""Can a rule's conditions ever hold? Used by validation to find unreachable actions.

Conditions are put in disjunctive normal form (negations pushed to the comparisons), and
each term is checked field by field: an interval with equality and exclusion sets for
numbers, the 96 slots of the day for ``slot`` and ``time_of_day`` (a slot starts at
``15·slot`` minutes, so a time is a fractional slot), a set for ``day_type``. A form that
would grow past :data:`TERM_CAP` terms is reported as "maybe" (``None``), never as
unreachable. ``crosses_above v`` implies ``> v`` (``crosses_below``: ``< v``); its
negation constrains nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, get_args

from ._rules import (
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    AllOf,
    AnyOf,
    Between,
    Condition,
    CrossesAbove,
    CrossesBelow,
    DayType,
    Equal,
    Greater,
    GreaterEqual,
    In,
    Less,
    LessEqual,
    Not,
    NotEqual,
)

TERM_CAP = 512

Atom = tuple[str, str, object]
Term = tuple[Atom, ...]

_NEGATE = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "==": "!=", "!=": "==", "in": "not_in"}
_NEGATE["not_in"] = "in"
_DOMAIN = {
    "soc": (0.0, 100.0),
    "available_up": (0.0, math.inf),
    "available_down": (0.0, math.inf),
    "pv_forecast": (0.0, math.inf),
    "frequency": (0.0, math.inf),
}
DAY_TYPES: frozenset[str] = frozenset(get_args(DayType))


class _TooBigError(Exception):
    pass


def minutes(text: str) -> int | None:
    """``"HH:MM"`` (00:00..24:00) as minutes since midnight, or None when malformed."""
    hh, sep, mm = text.partition(":")
    if not (sep and len(hh) == 2 and len(mm) == 2 and hh.isdigit() and mm.isdigit()):
        return None
    value = int(hh) * 60 + int(mm)
    return value if int(mm) < 60 and value <= 24 * 60 else None


def _tod(value: object) -> int:
    assert isinstance(value, str)
    m = minutes(value)
    assert m is not None
    return m


def _operand(field: str, value: object) -> tuple[str, object]:
    """time_of_day compares as a (fractional) slot; everything else as itself."""
    if field == "time_of_day":
        return "slot", _tod(value) / SLOT_MINUTES
    return field, value


def _atom(field: str, op: str, value: object, negate: bool) -> list[Term]:
    name, operand = _operand(field, value)
    return [(((name, _NEGATE[op] if negate else op, operand)),)]


def _product(left: list[Term], right: list[Term]) -> list[Term]:
    if len(left) * len(right) > TERM_CAP:
        raise _TooBigError
    return [a + b for a in left for b in right]


def _union(parts: Iterable[list[Term]]) -> list[Term]:
    out: list[Term] = []
    for part in parts:
        out.extend(part)
        if len(out) > TERM_CAP:
            raise _TooBigError
    return out


def _all(parts: Iterable[list[Term]]) -> list[Term]:
    out: list[Term] = [()]
    for part in parts:
        out = _product(out, part)
    return out


def _dnf(cond: Condition, negate: bool) -> list[Term]:  # noqa: PLR0911
    match cond:
        case Greater() | GreaterEqual() | Less() | LessEqual() | Equal() | NotEqual():
            op = {
                Greater: ">",
                GreaterEqual: ">=",
                Less: "<",
                LessEqual: "<=",
                Equal: "==",
                NotEqual: "!=",
            }[type(cond)]
            return _atom(cond.field, op, cond.value, negate)
        case In():
            values = [_operand(cond.field, v)[1] for v in cond.value]
            name = "slot" if cond.field in ("slot", "time_of_day") else cond.field
            return [((name, "not_in" if negate else "in", frozenset(values)),)]
        case Between():
            low, high = cond.value
            wraps = cond.field == "time_of_day" and _tod(low) > _tod(high)
            upper = "<" if cond.field == "time_of_day" else "<="
            lo = _atom(cond.field, ">=", low, negate)
            hi = _atom(cond.field, upper, high, negate)
            # inside = lo AND hi (OR when wrapping); the negation swaps AND and OR.
            if wraps != negate:
                return _union([lo, hi])
            return _product(lo, hi)
        case CrossesAbove():
            return [()] if negate else _atom(cond.field, ">", cond.value, False)
        case CrossesBelow():
            return [()] if negate else _atom(cond.field, "<", cond.value, False)
        case AllOf():
            children = [_dnf(c, negate) for c in cond.conditions]
            return _union(children) if negate else _all(children)
        case AnyOf():
            children = [_dnf(c, negate) for c in cond.conditions]
            return _all(children) if negate else _union(children)
        case Not():
            return _dnf(cond.condition, not negate)


def normal_form(conditions: list[Condition]) -> list[Term] | None:
    """The DNF of the conjunction of ``conditions``, or None when it is too large."""
    try:
        return _all(_dnf(c, False) for c in conditions)
    except _TooBigError:
        return None


def _holds(op: str, left: Any, right: Any) -> bool:  # noqa: PLR0911
    match op:
        case ">":
            return bool(left > right)
        case ">=":
            return bool(left >= right)
        case "<":
            return bool(left < right)
        case "<=":
            return bool(left <= right)
        case "==":
            return bool(left == right)
        case "!=":
            return bool(left != right)
        case "in":
            return left in right
        case _:  # not_in
            return left not in right


def _continuous(field: str, atoms: list[tuple[str, Any]]) -> bool:
    lo, hi = _DOMAIN.get(field, (-math.inf, math.inf))
    lo_open = hi_open = False
    allowed: set[Any] | None = None
    excluded: set[Any] = set()
    for op, raw in atoms:
        if op in ("in", "=="):
            values = set(raw) if op == "in" else {raw}
            allowed = values if allowed is None else allowed & values
        elif op in ("not_in", "!="):
            excluded |= set(raw) if op == "not_in" else {raw}
        else:
            v = float(raw)
            if op in (">", ">=") and (v > lo or (v == lo and op == ">")):
                lo, lo_open = v, op == ">"
            elif op in ("<", "<=") and (v < hi or (v == hi and op == "<")):
                hi, hi_open = v, op == "<"

    def inside(v: float) -> bool:
        return (v > lo or (v == lo and not lo_open)) and (v < hi or (v == hi and not hi_open))

    if allowed is not None:
        return any(inside(v) and v not in excluded for v in allowed)
    if lo < hi:
        return True
    return lo == hi and not lo_open and not hi_open and lo not in excluded


def satisfiable(term: Term) -> bool:
    """Whether some slot context satisfies every comparison of ``term``."""
    by_field: dict[str, list[tuple[str, object]]] = {}
    for field, op, value in term:
        by_field.setdefault(field, []).append((op, value))
    for field, atoms in by_field.items():
        if field == "slot":
            ok = any(all(_holds(op, s, v) for op, v in atoms) for s in range(SLOTS_PER_DAY))
        elif field == "day_type":
            ok = any(all(_holds(op, d, v) for op, v in atoms) for d in DAY_TYPES)
        else:
            ok = _continuous(field, atoms)
        if not ok:
            return False
    return True


def can_hold(conditions: list[Condition], slots: list[int] | None = None) -> bool | None:
    """True/False when decided, None when the normal form was too large to check."""
    terms = normal_form(conditions)
    if terms is None:
        return None
    extra: Term = () if slots is None else (("slot", "in", frozenset(slots)),)
    return any(satisfiable(t + extra) for t in terms)
