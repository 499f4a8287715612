"""Revenue allocation of a VPP's day statement to its members (pure).

Methods (:data:`Method`):

``energy``
    pro rata by each member's metered delivery over the day (kWh; for demand response its
    curtailment against the baseline). A negative day total counts as 0.
``capacity``
    pro rata by committed capacity (kW) x availability (share of the day's slots in which
    the member was metered: 0..1).
``shapley``
    the Shapley value of :class:`~._game.SettlementGame` (exact up to 12 members,
    Monte Carlo beyond with its standard error and 95 % bound, see :mod:`._shapley`).

Whatever the method, the members' amounts add up to the statement's total to the cent.
Remainder rule (largest remainder, Hamilton): each member's ideal amount in cents (for
Shapley its value, moved in proportion to its size by the difference between the unrounded
game and the rounded statement, a few cents at most; a member at 0 stays at 0) is
floored; the cents left over go one each to the members with the largest fractional
parts, ties to the member that sorts first by resource id. When every weight of a pro
rata rule is 0 the total is split equally. The statement's penalty is allocated the same
way (pro rata: by the same weights; Shapley: by each member's Shapley value of the penalty
component), so the explanations add up too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Literal

import msgspec
import numpy as np

from hub.markets import TradingRules

from ._game import SettlementGame
from ._money import cents, from_cents
from ._settle import COMPONENTS, DayStatement, SlotInput
from ._shapley import EXACT_MAX, ShapleyResult, shapley

Method = Literal["energy", "capacity", "shapley"]
METHODS: tuple[Method, ...] = ("energy", "capacity", "shapley")
REMAINDER_RULE = (
    "largest remainder: floor each member's ideal cents, the cents left go one each to the "
    "largest fractional parts (ties: resource id order)"
)
_PENALTY = COMPONENTS.index("penalty")


class MemberInput(msgspec.Struct, frozen=True, kw_only=True):
    """One member's part of the statement's lines (same order as the lines)."""

    resource_id: str
    committed_kwh: Sequence[float]
    """Its share of each line's cleared quantity (kWh)."""
    delivered_kwh: Sequence[float | None]
    """Its metered delivery per line; None: not metered."""
    capacity_kw: float = 0.0
    availability: float = 1.0
    mileage_mw: Sequence[float | None] | None = None


class MemberShare(msgspec.Struct, frozen=True, kw_only=True):
    """A member's allocation and the figures that explain it."""

    resource_id: str
    amount_yuan: Decimal
    share: float
    """amount / total (0 when the total is 0)."""
    weight: float
    """What the method weighs: kWh (energy), kW x availability (capacity) or the unrounded
    Shapley value in yuan."""
    committed_kwh: float
    delivered_kwh: float
    deviation_kwh: float
    penalty_yuan: Decimal
    capacity_kw: float
    availability: float
    missing_lines: int
    """Lines in which this member was not metered."""
    standard_error_yuan: float | None = None
    half_width_yuan: float | None = None
    explanation: str = ""


class Allocation(msgspec.Struct, frozen=True, kw_only=True):
    method: Method
    total_yuan: Decimal
    members: Sequence[MemberShare]
    remainder_rule: str = REMAINDER_RULE
    shapley: ShapleyResult | None = None


MICRO = 1_000_000
"""Weights and Shapley values enter the apportionment as integers of 1e-6 of their unit
(kWh, kW, cent): exact integer arithmetic from there on."""


def apportion(total: int, numerators: Sequence[int], denominator: int) -> list[int]:
    """Largest remainder of ideal amounts ``numerators[i] / denominator`` that add up to
    ``total`` exactly (``sum(numerators) == total * denominator``)."""
    floors = [x // denominator for x in numerators]
    left = total - sum(floors)
    order = sorted(range(len(numerators)), key=lambda i: (-(numerators[i] % denominator), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def largest_remainder(total_cents: int, ideal: Sequence[Fraction]) -> list[int]:
    """Integers adding up to ``total_cents``, each within one of its ``ideal`` (which is
    first moved, in proportion to its size, so the ideals add up to the total)."""
    n = len(ideal)
    if n == 0:
        return []
    diff = Fraction(total_cents) - sum(ideal, Fraction(0))
    size = sum((abs(x) for x in ideal), Fraction(0))
    # in proportion to each size: a member ideally at 0 stays at 0
    exact = [x + diff * abs(x) / size for x in ideal] if size else [x + diff / n for x in ideal]
    den = math.lcm(*(x.denominator for x in exact))
    return apportion(total_cents, [int(x * den) for x in exact], den)


def _micro(value: float) -> int:
    return round(value * MICRO)


def shifted(total_cents: int, ideal_cents: Sequence[float]) -> list[int]:
    """:func:`largest_remainder` of float ideals (Shapley values in cents), in integers."""
    n = len(ideal_cents)
    if n == 0:
        return []
    ideal = [_micro(x) for x in ideal_cents]
    diff = total_cents * MICRO - sum(ideal)
    size = sum(abs(x) for x in ideal)
    if size == 0:
        return pro_rata(total_cents, [1.0] * n)
    return apportion(total_cents, [x * size + diff * abs(x) for x in ideal], size * MICRO)


def pro_rata(total_cents: int, weights: Sequence[float]) -> list[int]:
    """``total_cents`` split by ``weights`` (to 1e-6 of their unit; equally when they are
    all 0), largest remainder."""
    w = [_micro(max(x, 0.0)) for x in weights]
    if not any(w):
        w = [1] * len(weights)
    return apportion(total_cents, [total_cents * x for x in w], sum(w)) if w else []


def _known(values: Sequence[float | None]) -> float:
    return math.fsum(v for v in values if v is not None)


def _matrix(members: Sequence[MemberInput], field: str) -> np.ndarray:
    rows = []
    for m in members:
        values = getattr(m, field)
        if values is None:
            rows.append([math.nan] * len(m.committed_kwh))
        else:
            rows.append([math.nan if v is None else v for v in values])
    return np.array(rows, dtype=np.float64).reshape(len(members), -1)


def allocate(
    statement: DayStatement,
    lines: Sequence[SlotInput],
    members: Sequence[MemberInput],
    method: Method,
    rules: TradingRules,
    *,
    seed: int = 0,
    rel_error: float = 0.01,
    confidence: float = 0.95,
    exact_max: int = EXACT_MAX,
) -> Allocation:
    """Allocate ``statement`` (settled from ``lines``) to ``members`` by ``method``."""
    ordered = sorted(members, key=lambda m: m.resource_id)
    total = cents(statement.totals.total_yuan)
    penalty_total = cents(statement.totals.penalty_yuan)
    result: ShapleyResult | None = None
    if method == "shapley" and ordered:
        game = SettlementGame(
            statement.market_type,
            lines,
            _matrix(ordered, "committed_kwh"),
            _matrix(ordered, "delivered_kwh"),
            rules,
            _matrix(ordered, "mileage_mw") if any(m.mileage_mw for m in ordered) else None,
        )
        result = shapley(
            game,
            len(ordered),
            exact_max=exact_max,
            rel_error=rel_error,
            confidence=confidence,
            seed=seed,
        )
        weights = list(result.values)
        amounts = shifted(total, [v * 100 for v in weights])
        penalties = shifted(penalty_total, [row[_PENALTY] * 100 for row in result.components])
        basis = "Shapley value of the settlement game"
    else:
        if method == "energy":
            weights = [max(_known(m.delivered_kwh), 0.0) for m in ordered]
            basis = "metered delivery"
        else:
            weights = [max(m.capacity_kw, 0.0) * max(m.availability, 0.0) for m in ordered]
            basis = "committed capacity x availability"
        amounts = pro_rata(total, weights)
        penalties = pro_rata(penalty_total, weights)
    out: list[MemberShare] = []
    for i, m in enumerate(ordered):
        committed = float(sum(m.committed_kwh))
        delivered = _known(m.delivered_kwh)
        amount = from_cents(amounts[i])
        share = float(Fraction(amounts[i], total)) if total else 0.0
        missing = sum(1 for v in m.delivered_kwh if v is None)
        se = result.standard_errors[i] if result is not None else None
        hw = result.half_widths[i] if result is not None else None
        explanation = (
            f"{m.resource_id}: delivered {delivered:.3f} kWh of {committed:.3f} kWh committed, "
            f"{share:.2%} of {from_cents(total)} yuan by {basis}, "
            f"penalty {from_cents(penalties[i])} yuan"
            + (f", {missing} line(s) not metered" if missing else "")
            + (
                f", sampled: +/- {hw:.2f} yuan at {result.confidence:.0%}"
                if result is not None and result.method == "monte_carlo"
                else ""
            )
        )
        out.append(
            MemberShare(
                resource_id=m.resource_id,
                amount_yuan=amount,
                share=share,
                weight=weights[i],
                committed_kwh=committed,
                delivered_kwh=delivered,
                deviation_kwh=delivered - committed,
                penalty_yuan=from_cents(penalties[i]),
                capacity_kw=m.capacity_kw,
                availability=m.availability,
                missing_lines=missing,
                standard_error_yuan=se,
                half_width_yuan=hw,
                explanation=explanation,
            )
        )
    return Allocation(method=method, total_yuan=from_cents(total), members=out, shapley=result)
