"""The simulated exchange: a :class:`MarketConnector` that runs a market in process on an
injected clock (pure: no I/O, so the backtest and tests drive it on a manual clock).

Markets it runs, all on one :class:`PriceSeries` (the reference year by default):

``SPOT`` (day-ahead)
    Bids for day D until gate closure on D-1 (``rules.gate_closure``, local time). At
    gate closure, or when asked after it, D clears uniform-price against the stack of the
    series (:func:`clear_day`), storage awards trimmed to the SoC. The real-time price of
    a slot is the cleared price plus the series' real-time deviation (clipped to the
    clearing limits), known once the slot is over.
``ANCILLARY`` (regulation and reserve capacity)
    Capacity bids per product clear the same way against a requirement of
    :attr:`SimConfig.regulation_share` / ``reserve_share`` of the load at a reference
    capacity price (the rules' availability tariffs, yuan/MW·h). Regulation also earns
    mileage: the statement carries the mileage followed per slot (capacity x a seeded
    factor of 0.5..3 per slot).
``DEMAND_RESPONSE``
    Calls (:meth:`SimulatedExchange.call_demand_response`, and automatically on the
    days whose peak price is in the series' top decile) ask for curtailment in some slots
    at a fixed per-kWh compensation; bids (``sell`` = curtail) in called slots at or
    below the compensation are accepted, pro rata when they offer more than asked.

A submission with a new idempotency key replaces the VPP's earlier one for that market
and day (the last before gate closure counts); the same key again returns the first
receipt with ``duplicate=True`` (the same key with other bids is refused, rule
``idempotency_key``). Statements are published when the trading day is over.

Faults (:class:`SimFaults`, set on :attr:`SimulatedExchange.faults`): ``slow_s`` delays
every call by that much clock time (a delay at or above ``timeout_s`` ends in
:class:`ConnectorTimeoutError` after ``timeout_s``), ``unavailable`` and ``garbage`` raise
:class:`MarketUnavailableError`, as an HTTP connector translates a 5xx or a body it cannot
decode. Errors are only of the :class:`ConnectorError` family.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import msgspec
import numpy as np

from protocol.clock import Clock

from ._clearing import DayClearing, FloatArray, StackShape, accept_at_prices, clear_day
from ._connector import (
    AncillaryProduct,
    BidRejectedError,
    BidSubmission,
    ClearedBid,
    ClearingResult,
    ConnectorTimeoutError,
    InvalidRequestError,
    MarketStatement,
    MarketStatus,
    MarketType,
    MarketUnavailableError,
    PricePoint,
    StatementLine,
    SubmissionReceipt,
)
from ._presets import SHANDONG
from ._prices import REFERENCE_SEED, PriceSeries, reference_year
from ._rules import TradingRules
from ._validation import BidProblem, bid_rule_problems, day_start, gate_closure_at

PRODUCTS: tuple[AncillaryProduct, ...] = ("regulation", "reserve")
MARKETS: tuple[MarketType, ...] = ("SPOT", "ANCILLARY", "DEMAND_RESPONSE")


class SimFaults(msgspec.Struct, kw_only=True):
    """Fault switches (mutable: flip them while the exchange runs)."""

    slow_s: float = 0.0
    unavailable: bool = False
    garbage: bool = False


class SimConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How the simulated markets behave beyond the trading rules."""

    stack: StackShape = StackShape()
    regulation_share: float = 0.015
    """Regulation requirement as a share of the load."""
    reserve_share: float = 0.04
    regulation_price_yuan_mw_h: float = 10.0
    """Reference regulation capacity price when the rules carry none."""
    reserve_price_yuan_mw_h: float = 5.0
    ancillary_stack: StackShape = StackShape(depth_mw_per_yuan=20.0, step_yuan_mwh=0.5, blocks=20)
    auto_demand_response: bool = True
    """Call DR on the days whose peak day-ahead price is in the top decile."""
    dr_requested_kw: float = 20_000.0
    dr_slots: int = 8
    dr_compensation_yuan_kwh: float = 4.0
    """When the rules carry none."""
    price_taker: bool = False
    """Clear at the series' prices without a stack (bids never move them): a replay."""


class DemandResponseCall(msgspec.Struct, frozen=True, kw_only=True):
    """A request to curtail in some slots of a day, paid per kWh."""

    call_id: str
    trading_date: dt.date
    slots: list[int]
    requested_kw: float
    compensation_yuan_kwh: float


@dataclass
class _Cleared:
    results: dict[str, ClearingResult]
    """By submission id."""
    price: dict[AncillaryProduct | None, FloatArray]
    """Per slot, by product (None: energy / DR compensation)."""
    volume_mwh: dict[AncillaryProduct | None, FloatArray]
    realtime: FloatArray
    mileage_factor: FloatArray


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class SimulatedExchange:
    """A day-ahead, ancillary and demand-response market on ``clock`` (module docstring)."""

    def __init__(
        self,
        clock: Clock,
        *,
        rules: TradingRules = SHANDONG,
        series: PriceSeries | None = None,
        seed: int = REFERENCE_SEED,
        config: SimConfig | None = None,
        name: str = "sim",
        timeout_s: float = 5.0,
    ) -> None:
        self.clock = clock
        self.rules = rules
        self.series = series if series is not None else reference_year(seed, rules=rules)
        if self.series.rules.slots_per_day != rules.slots_per_day:
            raise ValueError("the series and the rules disagree on slots per day")
        self.seed = seed
        self.config = config or SimConfig()
        self.name = name
        self.timeout_s = timeout_s
        self.faults = SimFaults()
        self._ids = itertools.count(1)
        self._by_key: dict[str, tuple[SubmissionReceipt, bytes]] = {}
        self._active: dict[tuple[str, MarketType, dt.date], tuple[str, BidSubmission]] = {}
        self._cleared: dict[tuple[MarketType, dt.date], _Cleared] = {}
        self._calls: dict[dt.date, list[DemandResponseCall]] = {}
        if self.config.auto_demand_response:
            self._auto_calls()

    # ----------------------------------------------------------------------- calendar

    def now(self) -> dt.datetime:
        return _utc(self.clock.now())

    def gate_closure(self, trading_date: dt.date) -> dt.datetime:
        return gate_closure_at(self.rules, trading_date)

    def status(self, trading_date: dt.date, market_type: MarketType = "SPOT") -> MarketStatus:
        """OPEN until gate closure, CLEARED, then SETTLED once the day is over."""
        now = self.now()
        if now < self.gate_closure(trading_date):
            return "OPEN"
        if (market_type, trading_date) not in self._cleared:
            return "GATE_CLOSED"
        end = day_start(self.rules, trading_date + dt.timedelta(days=1))
        return "SETTLED" if now >= end else "CLEARED"

    def next_gate_closure(self) -> tuple[dt.date, dt.datetime]:
        """The next trading day whose gate is still open, and when it closes."""
        now = self.now()
        day = now.astimezone(self.gate_closure(self.series.start).tzinfo).date()
        while self.gate_closure(day) <= now:
            day += dt.timedelta(days=1)
        return day, self.gate_closure(day)

    async def run(self) -> None:
        """Clear each day at its gate closure, for ever (the ``vpp market sim`` server)."""
        while True:
            day, closure = self.next_gate_closure()
            await self.clock.sleep(max(0.0, (closure - self.now()).total_seconds()))
            self.catch_up(day)

    # ------------------------------------------------------------------ demand response

    def call_demand_response(
        self,
        trading_date: dt.date,
        slots: Sequence[int],
        requested_kw: float,
        *,
        compensation_yuan_kwh: float | None = None,
    ) -> DemandResponseCall:
        """Announce a DR call (before the day's gate closure, for bids to answer it)."""
        if not slots or not all(0 <= s < self.rules.slots_per_day for s in slots):
            raise ValueError("a call needs slots of the day")
        if requested_kw <= 0:
            raise ValueError("requested_kw must be positive")
        calls = self._calls.setdefault(trading_date, [])
        call = DemandResponseCall(
            call_id=f"dr-{trading_date.isoformat()}-{len(calls) + 1}",
            trading_date=trading_date,
            slots=sorted(set(slots)),
            requested_kw=requested_kw,
            compensation_yuan_kwh=self._dr_compensation()
            if compensation_yuan_kwh is None
            else compensation_yuan_kwh,
        )
        calls.append(call)
        return call

    def demand_response_calls(self, trading_date: dt.date) -> list[DemandResponseCall]:
        return list(self._calls.get(trading_date, ()))

    def _dr_compensation(self) -> float:
        return self.rules.dr_compensation_yuan_kwh or self.config.dr_compensation_yuan_kwh

    def _auto_calls(self) -> None:
        da = self.series.day_ahead_yuan_mwh
        peaks = da.max(axis=1)
        threshold = float(np.quantile(peaks, 0.9))
        half = self.config.dr_slots // 2
        for i, day in enumerate(self.series.dates()):
            if peaks[i] >= threshold:
                top = int(np.argmax(da[i]))
                lo = max(0, min(top - half, self.rules.slots_per_day - self.config.dr_slots))
                self.call_demand_response(
                    day, range(lo, lo + self.config.dr_slots), self.config.dr_requested_kw
                )

    # ------------------------------------------------------------------------ clearing

    def catch_up(self, trading_date: dt.date) -> None:
        """Clear ``trading_date`` in every market if its gate has closed and it has not."""
        if trading_date not in self.series or self.now() < self.gate_closure(trading_date):
            return
        for market in MARKETS:
            if (market, trading_date) not in self._cleared:
                self._cleared[(market, trading_date)] = self._clear(market, trading_date)

    def _submissions(self, market: MarketType, day: dt.date) -> dict[str, BidSubmission]:
        return {
            sid: sub for (_, m, d), (sid, sub) in self._active.items() if m == market and d == day
        }

    def _clear(self, market: MarketType, day: dt.date) -> _Cleared:
        i = self.series.index(day)
        slot_h = self.rules.slot_minutes / 60
        subs = self._submissions(market, day)
        spot = self._cleared.get(("SPOT", day))
        rng = np.random.default_rng([self.seed, day.toordinal()])
        mileage = rng.uniform(0.5, 3.0, self.rules.slots_per_day)
        if market == "SPOT":
            if self.config.price_taker:
                cleared = accept_at_prices(self.rules, self.series.day_ahead_yuan_mwh[i], subs)
            else:
                cleared = clear_day(
                    self.rules,
                    self.series.day_ahead_yuan_mwh[i],
                    self.series.load_mw[i],
                    subs,
                    stack=self.config.stack,
                )
            offset = self.series.realtime_yuan_mwh[i] - self.series.day_ahead_yuan_mwh[i]
            realtime = np.clip(
                cleared.price_yuan_mwh + offset,
                self.rules.clearing_floor_yuan_mwh,
                self.rules.clearing_cap_yuan_mwh,
            )
            return _Cleared(
                results=cleared.results,
                price={None: cleared.price_yuan_mwh},
                volume_mwh={None: cleared.volume_kw * slot_h / 1000},
                realtime=realtime,
                mileage_factor=mileage,
            )
        assert spot is not None, "SPOT clears first"
        if market == "ANCILLARY":
            return self._clear_ancillary(i, subs, spot, mileage)
        return self._clear_dr(day, subs, spot, mileage)

    def _clear_ancillary(
        self, i: int, subs: dict[str, BidSubmission], spot: _Cleared, mileage: FloatArray
    ) -> _Cleared:
        slot_h = self.rules.slot_minutes / 60
        rules = msgspec.structs.replace(self.rules, clearing_floor_yuan_mwh=0.0)
        load = self.series.load_mw[i]
        cfg = self.config
        reference = {
            "regulation": self.rules.regulation_availability_yuan_mw_h
            or cfg.regulation_price_yuan_mw_h,
            "reserve": self.rules.reserve_availability_yuan_mw_h or cfg.reserve_price_yuan_mw_h,
        }
        share = {"regulation": cfg.regulation_share, "reserve": cfg.reserve_share}
        slots = self.rules.slots_per_day
        days: dict[AncillaryProduct, DayClearing] = {
            product: accept_at_prices(
                rules, np.full(slots, reference[product]), subs, product=product
            )
            if cfg.price_taker
            else clear_day(
                rules,
                np.full(slots, reference[product]),
                load * share[product],
                subs,
                stack=cfg.ancillary_stack,
                product=product,
            )
            for product in PRODUCTS
        }
        results = {
            sid: ClearingResult(
                submission_id=sid,
                vpp_id=sub.vpp_id,
                market_type=sub.market_type,
                trading_date=sub.trading_date,
                bids=[b for p in PRODUCTS for b in days[p].result(sid).bids],
            )
            for sid, sub in subs.items()
        }
        return _Cleared(
            results=results,
            price={p: days[p].price_yuan_mwh for p in PRODUCTS},
            volume_mwh={p: days[p].volume_kw * slot_h / 1000 for p in PRODUCTS},
            realtime=spot.realtime,
            mileage_factor=mileage,
        )

    def _clear_dr(
        self, day: dt.date, subs: dict[str, BidSubmission], spot: _Cleared, mileage: FloatArray
    ) -> _Cleared:
        slots = self.rules.slots_per_day
        slot_h = self.rules.slot_minutes / 60
        requested = np.zeros(slots)
        compensation = np.zeros(slots)
        for call in self._calls.get(day, ()):
            requested[call.slots] += call.requested_kw
            compensation[call.slots] = call.compensation_yuan_kwh * 1000
        eligible: dict[str, list[bool]] = {}
        offered = np.zeros(slots)
        for sid, sub in subs.items():
            flags = [
                requested[b.slot] > 0
                and (b.price_yuan_mwh is None or b.price_yuan_mwh <= compensation[b.slot])
                for b in sub.bids
            ]
            eligible[sid] = flags
            for b, ok in zip(sub.bids, flags, strict=True):
                if ok:
                    offered[b.slot] += b.quantity_kw
        share = np.where(offered > 0, np.minimum(1.0, requested / np.maximum(offered, 1e-12)), 0.0)
        results = {
            sid: ClearingResult(
                submission_id=sid,
                vpp_id=sub.vpp_id,
                market_type=sub.market_type,
                trading_date=sub.trading_date,
                bids=[
                    ClearedBid(
                        slot=b.slot,
                        side=b.side,
                        offered_kw=b.quantity_kw,
                        cleared_kw=float(b.quantity_kw * share[b.slot]) if ok else 0.0,
                        clearing_price_yuan_mwh=float(compensation[b.slot]),
                    )
                    for b, ok in zip(sub.bids, eligible[sid], strict=True)
                ],
            )
            for sid, sub in subs.items()
        }
        return _Cleared(
            results=results,
            price={None: compensation},
            volume_mwh={None: np.minimum(offered, requested) * slot_h / 1000},
            realtime=spot.realtime,
            mileage_factor=mileage,
        )

    # --------------------------------------------------------------- the connector API

    async def _guard(self) -> None:
        faults = self.faults
        if faults.slow_s > 0:
            if faults.slow_s >= self.timeout_s:
                await self.clock.sleep(self.timeout_s)
                raise ConnectorTimeoutError(
                    f"no answer within {self.timeout_s:g} s", connector=self.name
                )
            await self.clock.sleep(faults.slow_s)
        if faults.unavailable:
            raise MarketUnavailableError("market unavailable (HTTP 503)", connector=self.name)
        if faults.garbage:
            raise MarketUnavailableError("market answered garbage", connector=self.name)

    def _market(self, market_type: str) -> MarketType:
        if market_type not in MARKETS:
            raise InvalidRequestError(
                f"the simulated exchange runs {', '.join(MARKETS)}, not {market_type}",
                connector=self.name,
            )
        return market_type

    def _days(self, start: dt.datetime, end: dt.datetime) -> Iterator[dt.date]:
        tz = self.gate_closure(self.series.start).tzinfo
        day = max(start.astimezone(tz).date() - dt.timedelta(days=1), self.series.start)
        last = min(end.astimezone(tz).date(), self.series.end - dt.timedelta(days=1))
        while day <= last:
            yield day
            day += dt.timedelta(days=1)

    async def market_data(
        self, market_type: MarketType, start: dt.datetime, end: dt.datetime
    ) -> Sequence[PricePoint]:
        """The published slots starting in ``[start, end)``: cleared prices and volumes
        (per product in ANCILLARY), the real-time price once a slot is over; DR calls'
        slots with their compensation (yuan/MWh) from the moment they are announced."""
        await self._guard()
        market = self._market(market_type)
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidRequestError("start and end must be timezone-aware", connector=self.name)
        now = self.now()
        step = dt.timedelta(minutes=self.rules.slot_minutes)
        out: list[PricePoint] = []
        for day in self._days(start, end):
            self.catch_up(day)
            cleared = self._cleared.get((market, day))
            status = self.status(day, market)
            first = day_start(self.rules, day)
            slots: Sequence[int] = range(self.rules.slots_per_day)
            if market == "DEMAND_RESPONSE":
                slots = sorted({s for c in self._calls.get(day, ()) for s in c.slots})
            elif cleared is None:
                continue
            products: tuple[AncillaryProduct | None, ...] = (
                PRODUCTS if market == "ANCILLARY" else (None,)
            )
            for slot in slots:
                at = first + slot * step
                if not start <= at < end:
                    continue
                realtime = None
                spot = self._cleared.get(("SPOT", day))
                if spot is not None and now >= at + step:
                    realtime = float(spot.realtime[slot])
                for product in products:
                    out.append(
                        self._point(market, day, slot, at, status, cleared, product, realtime)
                    )
        return out

    def _point(
        self,
        market: MarketType,
        day: dt.date,
        slot: int,
        at: dt.datetime,
        status: MarketStatus,
        cleared: _Cleared | None,
        product: AncillaryProduct | None,
        realtime: float | None,
    ) -> PricePoint:
        if cleared is None:  # a DR call before its gate closure
            calls = [c for c in self._calls.get(day, ()) if slot in c.slots]
            price = calls[-1].compensation_yuan_kwh * 1000
            volume = sum(c.requested_kw for c in calls) * self.rules.slot_minutes / 60 / 1000
        else:
            price = float(cleared.price[product][slot])
            volume = float(cleared.volume_mwh[product][slot])
        return PricePoint(
            timestamp=at,
            price_yuan_mwh=price,
            volume_mwh=volume,
            market_status=status,
            realtime_price_yuan_mwh=realtime,
            product=product,
        )

    def _problems(self, submission: BidSubmission) -> list[BidProblem]:
        problems = bid_rule_problems(self.rules, submission, self.now())
        market = submission.market_type
        if market in ("ANCILLARY", "DEMAND_RESPONSE"):
            problems.extend(
                BidProblem(
                    path=f"bids[{i}].side",
                    rule="side",
                    message=f"{market} bids offer capacity or curtailment: side sell",
                )
                for i, b in enumerate(submission.bids)
                if b.side != "sell"
            )
        if market == "DEMAND_RESPONSE":
            called = {s for c in self._calls.get(submission.trading_date, ()) for s in c.slots}
            problems.extend(
                BidProblem(
                    path=f"bids[{i}].slot",
                    rule="dr_event",
                    message=f"no demand-response call covers slot {b.slot} of "
                    f"{submission.trading_date}",
                )
                for i, b in enumerate(submission.bids)
                if b.slot not in called
            )
        return problems

    async def submit_bids(self, submission: BidSubmission) -> SubmissionReceipt:
        await self._guard()
        body = msgspec.json.encode(submission)
        known = self._by_key.get(submission.idempotency_key)
        if known is not None:
            receipt, first_body = known
            if first_body != body:
                raise BidRejectedError(
                    f"idempotency key {submission.idempotency_key!r} was used for other bids",
                    rule="idempotency_key",
                    connector=self.name,
                )
            return msgspec.structs.replace(receipt, duplicate=True)
        market = self._market(submission.market_type)
        if submission.trading_date not in self.series:
            raise BidRejectedError(
                f"no market on {submission.trading_date} (prices {self.series.start} .. "
                f"{self.series.end - dt.timedelta(days=1)})",
                rule="trading_date",
                connector=self.name,
            )
        problems = self._problems(submission)
        if problems:
            raise BidRejectedError(
                "; ".join(f"{p.path}: {p.message}" for p in problems),
                rule=problems[0].rule,
                connector=self.name,
                problems=[(p.path, f"{p.message} (rule {p.rule})") for p in problems],
            )
        receipt = SubmissionReceipt(
            submission_id=f"{self.name}-{next(self._ids):06d}", accepted_at=self.now()
        )
        self._by_key[submission.idempotency_key] = (receipt, body)
        key = (submission.vpp_id, market, submission.trading_date)
        self._active[key] = (receipt.submission_id, submission)
        return receipt

    async def clearing_results(
        self, vpp_id: str, market_type: MarketType, trading_date: dt.date
    ) -> Sequence[ClearingResult]:
        await self._guard()
        market = self._market(market_type)
        self.catch_up(trading_date)
        cleared = self._cleared.get((market, trading_date))
        active = self._active.get((vpp_id, market, trading_date))
        if cleared is None or active is None:
            return []
        return [cleared.results[active[0]]]

    async def settlement_statement(
        self, vpp_id: str, market_type: MarketType, trading_date: dt.date
    ) -> MarketStatement | None:
        await self._guard()
        market = self._market(market_type)
        self.catch_up(trading_date)
        if self.status(trading_date, market) != "SETTLED":
            return None
        cleared = self._cleared[(market, trading_date)]
        active = self._active.get((vpp_id, market, trading_date))
        if active is None:
            return None
        return MarketStatement(
            vpp_id=vpp_id,
            market_type=market,
            trading_date=trading_date,
            lines=self._lines(market, cleared, cleared.results[active[0]]),
        )

    def _lines(
        self, market: MarketType, cleared: _Cleared, result: ClearingResult
    ) -> list[StatementLine]:
        slot_h = self.rules.slot_minutes / 60
        net: dict[tuple[int, AncillaryProduct | None], float] = {}
        for b in result.bids:
            sign = 1.0 if b.side == "sell" else -1.0
            key = (b.slot, b.product)
            net[key] = net.get(key, 0.0) + sign * b.cleared_kw * slot_h
        lines = []
        for (slot, product), kwh in sorted(net.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            price = cleared.price[product if market == "ANCILLARY" else None][slot]
            lines.append(
                StatementLine(
                    slot=slot,
                    cleared_kwh=kwh,
                    clearing_price_yuan_mwh=float(price),
                    realtime_price_yuan_mwh=float(cleared.realtime[slot]),
                    product=product,
                    mileage_mw=float(kwh / slot_h / 1000 * cleared.mileage_factor[slot])
                    if product == "regulation"
                    else None,
                )
            )
        return lines

    def cleared_prices(
        self,
        trading_date: dt.date,
        market_type: MarketType = "SPOT",
        product: AncillaryProduct | None = None,
    ) -> FloatArray | None:
        """The day's cleared prices per slot (None until it has cleared)."""
        self.catch_up(trading_date)
        cleared = self._cleared.get((market_type, trading_date))
        return None if cleared is None else cleared.price[product]

    def realtime_prices(self, trading_date: dt.date) -> FloatArray | None:
        self.catch_up(trading_date)
        cleared = self._cleared.get(("SPOT", trading_date))
        return None if cleared is None else cleared.realtime

    async def aclose(self) -> None:
        return None


class ReplayMarket(SimulatedExchange):
    """A price history served through the connector: the history's day-ahead prices are
    the clearing prices (bids are price takers and never move them: a sell at or below the
    price and a buy at or above it are accepted in full, storage trimmed to the SoC), its
    real-time prices settle deviations; no demand-response calls unless announced. On the
    injected clock like the simulator: a day is visible once its gate has closed."""

    def __init__(
        self,
        clock: Clock,
        series: PriceSeries,
        *,
        rules: TradingRules | None = None,
        name: str = "replay",
        timeout_s: float = 5.0,
    ) -> None:
        super().__init__(
            clock,
            rules=rules or series.rules,
            series=series,
            config=SimConfig(auto_demand_response=False, price_taker=True),
            name=name,
            timeout_s=timeout_s,
        )
