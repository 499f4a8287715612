"""What a strategy may know about a delivery slot: the state of the world at gate closure.

The look-ahead barrier is structural. A :class:`SlotContext` holds scalars for one slot
and nothing else (no series, no reference to the data it came from), and the only way to
build one from history is :class:`ContextFeed`, which asks every series for its value *as
published at or before the slot's gate closure*. ``price`` is therefore the latest
published price at gate closure (never the slot's own clearing price, which is published
after it), ``price_forecast`` the latest forecast for the slot issued by then, and the
measured quantities (SoC, load, capacities, frequency) their last reading by then. The
live loop and the backtest build their contexts through the same feed; only the series
(live store vs history) and the clock differ.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Annotated

import msgspec
from msgspec import Meta

from ._rules import SLOT_MINUTES, SLOTS_PER_DAY, DayType

_MINUTE_MS = 60_000
_DAY_MS = 86_400_000
_SLOT_MS = SLOT_MINUTES * _MINUTE_MS


class SlotContext(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Everything a rule may read about one delivery slot, known at its gate closure."""

    slot_start_ms: int
    """Start of the delivery slot (UTC ms)."""
    known_at_ms: int
    """Gate closure: nothing published after this is in the context."""
    slot: Annotated[int, Meta(ge=0, lt=SLOTS_PER_DAY)]
    """Slot of the market day (0..95); time_of_day is ``15·slot`` minutes."""
    day_type: DayType = "workday"
    price_yuan_mwh: float | None = None
    price_forecast_yuan_mwh: float | None = None
    soc_pct: float | None = None
    available_up_kw: float | None = None
    available_down_kw: float | None = None
    load_kw: float | None = None
    pv_forecast_kw: float | None = None
    frequency_hz: float | None = None
    hvac_setpoint_c: float | None = None
    comfort_min_c: float | None = None
    comfort_max_c: float | None = None


FIELD_ATTRIBUTES: dict[str, str] = {
    "price": "price_yuan_mwh",
    "price_forecast": "price_forecast_yuan_mwh",
    "soc": "soc_pct",
    "available_up": "available_up_kw",
    "available_down": "available_down_kw",
    "load": "load_kw",
    "pv_forecast": "pv_forecast_kw",
    "frequency": "frequency_hz",
    "slot": "slot",
    "day_type": "day_type",
}
"""Rule field -> SlotContext attribute (time_of_day is derived from ``slot``)."""


class GateClosure(msgspec.Struct, frozen=True, kw_only=True):
    """When the auction that trades a slot closes.

    Day-ahead (default): ``lead_days`` before the market day, at ``minute`` of that day in
    market local time (UTC + ``utc_offset_min``). Intraday / real-time: set
    ``before_slot_min`` and each slot closes that many minutes before it starts. The
    markets issue owns the real rules; this is their shape for the strategy."""

    lead_days: Annotated[int, Meta(ge=0, le=7)] = 1
    minute: Annotated[int, Meta(ge=0, lt=1440)] = 600
    utc_offset_min: Annotated[int, Meta(ge=-720, le=840)] = 480
    before_slot_min: Annotated[int, Meta(ge=0, le=10_080)] | None = None

    def day_start_ms(self, slot_start_ms: int) -> int:
        """Start (UTC ms) of the market day the slot belongs to."""
        offset = self.utc_offset_min * _MINUTE_MS
        return (slot_start_ms + offset) // _DAY_MS * _DAY_MS - offset

    def slot_of_day(self, slot_start_ms: int) -> int:
        return (slot_start_ms - self.day_start_ms(slot_start_ms)) // _SLOT_MS

    def for_slot(self, slot_start_ms: int) -> int:
        """Gate closure (UTC ms) of the auction that trades this slot."""
        if self.before_slot_min is not None:
            return slot_start_ms - self.before_slot_min * _MINUTE_MS
        day = self.day_start_ms(slot_start_ms)
        return day - self.lead_days * _DAY_MS + self.minute * _MINUTE_MS


class Published:
    """A measured or published series: ``value`` became known at ``at_ms``."""

    __slots__ = ("_at", "_values")

    def __init__(self, at_ms: Sequence[int], values: Sequence[float]) -> None:
        if len(at_ms) != len(values):
            raise ValueError("at_ms and values differ in length")
        order = sorted(range(len(at_ms)), key=at_ms.__getitem__)
        self._at = [int(at_ms[i]) for i in order]
        self._values = [float(values[i]) for i in order]

    def as_of(self, known_at_ms: int) -> float | None:
        """The latest value published at or before ``known_at_ms``."""
        i = bisect.bisect_right(self._at, known_at_ms)
        return self._values[i - 1] if i else None


class Forecasts:
    """Forecasts per target slot: ``value`` for ``target_ms`` was issued at ``issued_ms``."""

    __slots__ = ("_by_target",)

    def __init__(
        self, issued_ms: Sequence[int], target_ms: Sequence[int], values: Sequence[float]
    ) -> None:
        if not len(issued_ms) == len(target_ms) == len(values):
            raise ValueError("issued_ms, target_ms and values differ in length")
        grouped: dict[int, list[tuple[int, float]]] = {}
        for issued, target, value in zip(issued_ms, target_ms, values, strict=True):
            grouped.setdefault(int(target), []).append((int(issued), float(value)))
        by_target: dict[int, tuple[list[int], list[float]]] = {}
        for t, g in grouped.items():
            if len(g) > 1:
                g.sort(key=lambda p: p[0])  # stable: equal times keep their order
            by_target[t] = ([i for i, _ in g], [v for _, v in g])
        self._by_target = by_target

    def as_of(self, target_ms: int, known_at_ms: int) -> float | None:
        """The latest forecast for ``target_ms`` issued at or before ``known_at_ms``."""
        series = self._by_target.get(target_ms)
        if series is None:
            return None
        i = bisect.bisect_right(series[0], known_at_ms)
        return series[1][i - 1] if i else None


class ContextFeed:
    """Builds each slot's :class:`SlotContext` from history, as known at gate closure."""

    def __init__(
        self,
        gate: GateClosure,
        *,
        price: Published | None = None,
        price_forecast: Forecasts | None = None,
        soc: Published | None = None,
        available_up: Published | None = None,
        available_down: Published | None = None,
        load: Published | None = None,
        pv_forecast: Forecasts | None = None,
        frequency: Published | None = None,
        holidays: frozenset[int] = frozenset(),
    ) -> None:
        """``holidays``: market-day start times (UTC ms) that are holidays."""
        self._gate = gate
        self._published = (price, soc, available_up, available_down, load, frequency)
        self._forecasts = (price_forecast, pv_forecast)
        self._holidays = holidays

    def day_type(self, slot_start_ms: int) -> DayType:
        return self._day_type(self._gate.day_start_ms(slot_start_ms))

    def _day_type(self, day: int) -> DayType:
        if day in self._holidays:
            return "holiday"
        local_days = (day + self._gate.utc_offset_min * _MINUTE_MS) // _DAY_MS
        return "weekend" if (local_days + 3) % 7 >= 5 else "workday"  # 1970-01-01 = Thursday

    def context(self, slot_start_ms: int) -> SlotContext:
        gate = self._gate
        day = gate.day_start_ms(slot_start_ms)
        if gate.before_slot_min is None:
            known = day - gate.lead_days * _DAY_MS + gate.minute * _MINUTE_MS
        else:
            known = slot_start_ms - gate.before_slot_min * _MINUTE_MS
        p, f = self._published, self._forecasts
        return SlotContext(
            slot_start_ms=slot_start_ms,
            known_at_ms=known,
            slot=(slot_start_ms - day) // _SLOT_MS,
            day_type=self._day_type(day),
            price_yuan_mwh=None if p[0] is None else p[0].as_of(known),
            soc_pct=None if p[1] is None else p[1].as_of(known),
            available_up_kw=None if p[2] is None else p[2].as_of(known),
            available_down_kw=None if p[3] is None else p[3].as_of(known),
            load_kw=None if p[4] is None else p[4].as_of(known),
            frequency_hz=None if p[5] is None else p[5].as_of(known),
            price_forecast_yuan_mwh=None if f[0] is None else f[0].as_of(slot_start_ms, known),
            pv_forecast_kw=None if f[1] is None else f[1].as_of(slot_start_ms, known),
        )
