"""Money: :class:`~decimal.Decimal` with two places.

Rounding rule: every money component of every statement line (energy, deviation, penalty,
availability, mileage, demand response) is rounded to the cent on its own with
``ROUND_HALF_EVEN`` (banker's rounding: no drift over many lines); a line's total is the sum
of its rounded components and a day's totals are sums of rounded lines, so every figure a
member sees adds up exactly. Inputs (floats from meters and prices) enter as the decimal
of their shortest ``repr`` (``0.1`` is ``Decimal("0.1")``, not its binary expansion).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ROUNDING = ROUND_HALF_EVEN
ROUNDING_RULE = (
    "ROUND_HALF_EVEN to the cent per component per line; line totals and day totals are "
    "sums of rounded figures"
)


def dec(value: float | int | str | Decimal) -> Decimal:
    """An exact decimal of ``value`` (a float by its shortest repr)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def money(value: float | int | str | Decimal) -> Decimal:
    """``value`` rounded to the cent by :data:`ROUNDING`."""
    return dec(value).quantize(CENT, rounding=ROUNDING)


def cents(value: Decimal) -> int:
    """A two-place amount as integer cents."""
    return int(money(value) * 100)


def from_cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)
