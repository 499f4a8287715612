"""The seed's REST units and slot names against the hub's (pure).

Seed 4.3.2 bids are ``{time_slot, price, quantity}`` with ``price`` in yuan/kWh and
``quantity`` in kWh delivered over the slot; inside the hub a bid is kW over the slot and
yuan/MWh. ``quantity`` is signed with the generator convention: positive sells (the VPP
delivers), negative buys (the VPP absorbs, e.g. charging).

``time_slot`` is written ``"HH:MM-HH:MM"`` in the market's local time (``"00:15-00:30"``,
the last slot of the day ``"23:45-24:00"``); the API also takes the slot's start alone
(``"00:15"``) or its index as a number or digits (``5`` or ``"5"``, 0 = the slot starting
at local midnight). Responses always use ``"HH:MM-HH:MM"``.
"""

from __future__ import annotations

import re

from hub.markets import TradingRules

_SLOT = re.compile(r"^(\d{1,2}):(\d{2})(?:\s*-\s*(\d{1,2}):(\d{2}))?$")


def kwh_to_kw(kwh: float, slot_minutes: int) -> float:
    """Energy over one slot as its average power."""
    return kwh * 60.0 / slot_minutes


def kw_to_kwh(kw: float, slot_minutes: int) -> float:
    return kw * slot_minutes / 60.0


def yuan_kwh_to_mwh(price: float) -> float:
    return price * 1000.0


def yuan_mwh_to_kwh(price: float) -> float:
    return price / 1000.0


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_time_slot(slot: int, rules: TradingRules) -> str:
    """``"HH:MM-HH:MM"`` of a slot index.

    >>> format_time_slot(0, TradingRules()), format_time_slot(95, TradingRules())
    ('00:00-00:15', '23:45-24:00')
    """
    start = slot * rules.slot_minutes
    return f"{_hhmm(start)}-{_hhmm(start + rules.slot_minutes)}"


def parse_time_slot(value: str | int, rules: TradingRules) -> int:
    """The slot index a ``time_slot`` names (:class:`ValueError` saying why not).

    >>> [parse_time_slot(v, TradingRules()) for v in ("00:15-00:30", "23:45", 7, "7")]
    [1, 95, 7, 7]
    """
    n = rules.slots_per_day
    if isinstance(value, bool):
        raise ValueError("time_slot must be 'HH:MM-HH:MM' or a slot index")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        index = int(value)
        if not 0 <= index < n:
            raise ValueError(f"slot {index} does not exist (0..{n - 1})")
        return index
    match = _SLOT.match(value.strip())
    if match is None:
        raise ValueError(f"time_slot {value!r} is not 'HH:MM-HH:MM', 'HH:MM' or a slot index")
    h1, m1, h2, m2 = match.groups()
    start = int(h1) * 60 + int(m1)
    if int(m1) >= 60 or start % rules.slot_minutes or start >= n * rules.slot_minutes:
        raise ValueError(
            f"time_slot {value!r} does not start a slot of {rules.slot_minutes} min "
            f"(00:00 .. {_hhmm((n - 1) * rules.slot_minutes)})"
        )
    if h2 is not None:
        end = int(h2) * 60 + int(m2)
        if end - start != rules.slot_minutes:
            raise ValueError(
                f"time_slot {value!r} is not one slot of {rules.slot_minutes} min "
                f"(e.g. {format_time_slot(start // rules.slot_minutes, rules)})"
            )
    return start // rules.slot_minutes
