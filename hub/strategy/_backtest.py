"""The backtest: the live engine run day by day over history (pure, no I/O).

For each market day D of the range, in order:

1. **Gate closure.** ``known_at`` = the market's gate closure for D
   (:func:`hub.markets.gate_closure_at`: D-1 at ``rules.gate_closure``). The day-ahead
   prices of a day are published when that day clears, ``publish_delay_min`` after its own
   gate closure (default 8 h: D-1's prices are out on D-2 evening), so at D's gate closure
   the history holds the days before D and never D itself.
2. **What is known.** Each slot's :class:`SlotContext` comes from a :class:`ContextFeed`
   (the look-ahead barrier) over the published prices and the price forecast issued at
   the gate closure; the forecast (:func:`builtin_forecast`) is computed from the days
   published by then only. A day with no published history gets no bids.
3. **The strategy.** A :class:`~hub.trading.BidRequest` is built from those contexts, the
   fleet's capacity and its storage envelope (state of charge at the start of D, which D-1's
   awards fix), and handed to :meth:`StrategyBidder.plan`: the code the trading loop calls
   live. The bids then pass the loop's pre-trade risk checks (:func:`hub.trading.pre_trade`
   in trim mode, the VPP's limits), as live.
4. **Clearing.** The bids clear with :func:`hub.markets.clear_day` (the simulated
   exchange's uniform-price clearing against the day's reference prices and load, storage
   awards trimmed to the state of charge).
5. **Delivery.** The fleet delivers its net award within its power limits (times
   ``Fleet.delivery_share``) and its state of charge; what it cannot deliver is a
   deviation, bought back at the real-time price, and the part beyond the rules' tolerance
   pays ``deviation_penalty_yuan_mwh`` on top. Throughput costs
   ``degradation_yuan_kwh``.

The same loop runs the baselines of ``performance_comparison``: do nothing, a simple
threshold rule (:func:`threshold_bids`: buy the cheapest quarter of the forecast day, sell
the dearest quarter, sized to the storage), both through the same clearing; and perfect
foresight: the optimiser over the whole range at once given the realised prices, as a
price taker, its state of charge carried across days (the most the fleet could have
earned; a plan per day with an end-of-day SoC rule is not a bound, a strategy that buys
back in the next night beats it). ``capture_ratio`` = the strategy's net revenue /
perfect foresight's.

Money in yuan, prices in yuan/MWh, power in kW, energy in kWh.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt
from msgspec import Meta

from hub.markets import (
    BidSubmission,
    MarketBid,
    PriceSeries,
    StorageEnvelope,
    TradingRules,
    clear_day,
    day_start,
    gate_closure_at,
)
from hub.trading import BidRequest, RiskContext, RiskLimits, pre_trade

from ._bidder import DEGRADATION_YUAN_KWH, StrategyBidder
from ._context import ContextFeed, Forecasts, GateClosure, Published, SlotContext
from ._engine import SlotDecision
from ._optimise import Battery, DayAheadProblem, optimise
from ._rules import StrategyConfig
from ._validate import StrategyType, validate_config

FloatArray = npt.NDArray[np.float64]
Phase = Literal["strategy", "threshold_rule", "perfect_foresight"]
Forecaster = Callable[[FloatArray, int], FloatArray | None]
"""``(prices of the days published by gate closure, rows oldest first; index of the day
traded) -> forecast of the day (one price per slot)``, None when it cannot forecast."""

Percent = Annotated[float, Meta(ge=0, le=100)]
_MINUTE_MS = 60_000


class Fleet(msgspec.Struct, frozen=True, kw_only=True):
    """A VPP's storage as one portfolio (its batteries summed; efficiencies and SoC limits
    weighted by energy). The clearing and the strategy see it as one envelope."""

    energy_kwh: Annotated[float, Meta(ge=0)] = 0.0
    max_charge_kw: Annotated[float, Meta(ge=0)] = 0.0
    max_discharge_kw: Annotated[float, Meta(ge=0)] = 0.0
    soc_start_pct: Percent = 50.0
    soc_min_pct: Percent = 0.0
    soc_max_pct: Percent = 100.0
    charge_efficiency: Annotated[float, Meta(gt=0, le=1)] = 0.95
    discharge_efficiency: Annotated[float, Meta(gt=0, le=1)] = 0.95
    resources: int = 0
    """How many batteries were summed."""
    delivery_share: Annotated[float, Meta(ge=0, le=1)] = 1.0
    """Share of its power the fleet really delivers (1: all; less models members that fall
    short of their award: the rest is a deviation)."""

    @classmethod
    def aggregate(cls, batteries: Sequence[Fleet]) -> Fleet:
        """Sum single batteries (each a Fleet of one)."""
        energy = sum(b.energy_kwh for b in batteries)
        if energy <= 0:
            return cls(
                max_charge_kw=sum(b.max_charge_kw for b in batteries),
                max_discharge_kw=sum(b.max_discharge_kw for b in batteries),
                resources=len(batteries),
            )

        def weighted(name: str) -> float:
            return float(sum(getattr(b, name) * b.energy_kwh for b in batteries)) / energy

        return cls(
            energy_kwh=energy,
            max_charge_kw=sum(b.max_charge_kw for b in batteries),
            max_discharge_kw=sum(b.max_discharge_kw for b in batteries),
            soc_start_pct=weighted("soc_start_pct"),
            soc_min_pct=weighted("soc_min_pct"),
            soc_max_pct=weighted("soc_max_pct"),
            charge_efficiency=weighted("charge_efficiency"),
            discharge_efficiency=weighted("discharge_efficiency"),
            resources=len(batteries),
        )

    def envelope(self, soc_kwh: float) -> StorageEnvelope | None:
        if self.energy_kwh <= 0:
            return None
        return StorageEnvelope(
            energy_kwh=self.energy_kwh,
            soc_start_kwh=soc_kwh,
            soc_min_kwh=self.energy_kwh * self.soc_min_pct / 100,
            soc_max_kwh=self.energy_kwh * self.soc_max_pct / 100,
            charge_efficiency=self.charge_efficiency,
            discharge_efficiency=self.discharge_efficiency,
        )


class Progress(msgspec.Struct, frozen=True, kw_only=True):
    phase: Phase
    percent: float
    slots_done: int
    """Slots simulated so far over every phase."""
    slots_total: int
    slot_reached_ms: int | None
    """Start (UTC ms) of the last slot simulated in this phase."""


class BacktestCancelled(Exception):  # noqa: N818 - an outcome, not a failure
    """``should_stop`` said so; no result."""


class DayRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One market day of one run."""

    date: dt.date
    revenue_yuan: float
    """Cleared energy at the clearing price (sales minus purchases)."""
    imbalance_yuan: float
    """What the undelivered energy cost at the real-time price."""
    penalty_yuan: float
    degradation_yuan: float
    bids: int
    cleared_bids: int
    cleared_kwh: float
    """Sold plus bought."""
    delivered_kwh: float
    deviation_kwh: float

    @property
    def net_yuan(self) -> float:
        return self.revenue_yuan - self.imbalance_yuan - self.penalty_yuan - self.degradation_yuan


class DayTrace(msgspec.Struct, frozen=True, kw_only=True):
    """What the strategy saw and decided for a day (kept when asked for: parity tests)."""

    date: dt.date
    request: BidRequest
    strategy_bids: list[MarketBid]
    """What the strategy bid (StrategyBidder, as live)."""
    bids: list[MarketBid]
    """What went to the market: ``strategy_bids`` after the pre-trade risk checks."""
    decisions: list[SlotDecision]
    cleared_kw: list[float]
    """Net award per slot (+ sold, - bought)."""
    clearing_price_yuan_mwh: list[float]


class Run(msgspec.Struct, frozen=True, kw_only=True):
    days: list[DayRecord]
    traces: list[DayTrace] = []


class Backtest(msgspec.Struct, frozen=True, kw_only=True):
    """What the backtest is asked to do (everything but the price history)."""

    strategy_type: StrategyType
    config: dict[str, Any]
    """As stored; validated again here."""
    fleet: Fleet
    start: dt.date
    end: dt.date
    """Inclusive."""
    vpp_id: str = "backtest"
    compare: bool = True
    """Also run the threshold rule and perfect foresight (``performance_comparison``)."""
    keep_traces: bool = False
    publish_delay_min: Annotated[int, Meta(ge=0, le=1440)] = 480
    degradation_yuan_kwh: Annotated[float, Meta(ge=0)] = DEGRADATION_YUAN_KWH
    risk_limits: RiskLimits = RiskLimits()
    """The VPP's pre-trade limits: the bids pass hub.trading.pre_trade in trim mode, as the
    trading loop sends them (capacity, position, price deviation from the forecast,
    storage envelope)."""


def missing_days(
    series: PriceSeries, start: dt.date, end: dt.date
) -> tuple[dt.date, dt.date] | None:
    """The part of ``start..end`` (inclusive) the series does not hold, None if it holds all
    of it (the series is contiguous, so what is missing is at one end or the whole)."""
    first, last = series.start, series.end - dt.timedelta(days=1)
    if end < first or start > last:
        return (start, end)
    if start < first:
        return (start, first - dt.timedelta(days=1))
    if end > last:
        return (last + dt.timedelta(days=1), end)
    return None


def builtin_forecast(history: FloatArray, day_index: int) -> FloatArray | None:
    """The built-in day-ahead price forecast: per slot, a recency-weighted mean of the same
    slot over the last 7 published days (weights 7..1, newest heaviest), shifted to the level
    of the last published day. None without any published day."""
    if history.shape[0] == 0:
        return None
    recent = history[-7:]
    weights = np.arange(1, recent.shape[0] + 1, dtype=float)
    shape = (recent * weights[:, None]).sum(axis=0) / weights.sum()
    level = 0.5 * (float(history[-1].mean()) - float(shape.mean()))
    out: FloatArray = shape + level
    return out


def threshold_bids(request: BidRequest) -> list[MarketBid]:
    """The simple threshold rule of the comparison: buy (charge) in the slots whose forecast
    is in the cheapest quarter of the day and sell in the dearest quarter, as price takers,
    each side sized so that its slots together move the usable energy once."""
    storage = request.storage
    if storage is None or request.problems():
        return []
    rules, h = request.rules, request.slot_hours
    forecast = np.asarray(request.price_forecast_yuan_mwh, dtype=float)
    low, high = np.quantile(forecast, [0.25, 0.75])
    buy_slots = np.flatnonzero(forecast <= low)
    sell_slots = np.flatnonzero(forecast >= high)
    soc_max = storage.energy_kwh if storage.soc_max_kwh is None else storage.soc_max_kwh
    usable = max(soc_max - storage.soc_min_kwh, 0.0)
    eta_rt = storage.charge_efficiency * storage.discharge_efficiency
    if usable <= 0 or forecast[sell_slots].mean() * eta_rt <= forecast[buy_slots].mean():
        return []
    buy_kw = usable / (len(buy_slots) * h * storage.charge_efficiency)
    sell_kw = usable * storage.discharge_efficiency / (len(sell_slots) * h)
    step = rules.bid_step_kw
    out: list[MarketBid] = []
    for slots, side, kw, room in (
        (buy_slots, "buy", buy_kw, request.available_down_kw),
        (sell_slots, "sell", sell_kw, request.available_up_kw),
    ):
        for t in slots.tolist():
            q = min(kw, float(room[t]))
            if step > 0:
                q = math.floor(q / step + 1e-9) * step
            if q >= max(rules.min_bid_kw, 1e-9):
                out.append(MarketBid(slot=t, side=side, quantity_kw=q))  # type: ignore[arg-type]
    return out


def _gate(rules: TradingRules, on: dt.date) -> GateClosure:
    zone_offset = gate_closure_at(rules, on).utcoffset() or dt.timedelta(0)
    g = rules.gate_closure
    return GateClosure(
        lead_days=1,
        minute=g.hour * 60 + g.minute,
        utc_offset_min=int(zone_offset.total_seconds() // 60),
    )


def _ms(instant: dt.datetime) -> int:
    return int(instant.timestamp() * 1000)


class _Market:
    """The price history laid out for the day loop (publication times, the feed)."""

    def __init__(self, series: PriceSeries, spec: Backtest, forecaster: Forecaster) -> None:
        rules = series.rules
        self.series = series
        self.rules = rules
        self.first = series.index(spec.start)
        self.last = series.index(spec.end)
        slots = rules.slots_per_day
        dates = series.dates()
        self.day_start_ms = [_ms(day_start(rules, d)) for d in dates]
        self.gate_ms = [_ms(gate_closure_at(rules, d)) for d in dates]
        self.published_ms = [g + spec.publish_delay_min * _MINUTE_MS for g in self.gate_ms]
        slot_ms = rules.slot_minutes * _MINUTE_MS
        da = series.day_ahead_yuan_mwh
        # Day-ahead prices, each day's published at once (in slot order, 1 ms apart).
        at = [p + t for p in self.published_ms for t in range(slots)]
        price = Published(at, da.reshape(-1).tolist())
        issued: list[int] = []
        target: list[int] = []
        values: list[float] = []
        self.forecast_ok: dict[int, bool] = {}
        for i in range(self.first, self.last + 1):
            # The barrier for the forecast: only days published by D's gate closure.
            known = bisect.bisect_right(self.published_ms, self.gate_ms[i])
            forecast = forecaster(da[:known], i)
            self.forecast_ok[i] = forecast is not None
            if forecast is None:
                continue
            issued.extend([self.gate_ms[i]] * slots)
            target.extend(self.day_start_ms[i] + t * slot_ms for t in range(slots))
            values.extend(float(v) for v in forecast)
        self.feed = ContextFeed(
            _gate(rules, spec.start),
            price=price,
            price_forecast=Forecasts(issued, target, values),
        )
        self.slot_ms = slot_ms

    def contexts(self, i: int) -> list[SlotContext]:
        start = self.day_start_ms[i]
        contexts = [
            self.feed.context(start + t * self.slot_ms) for t in range(self.rules.slots_per_day)
        ]
        if contexts[0].known_at_ms != self.gate_ms[i]:  # pragma: no cover - a clock mismatch
            raise ValueError("the feed's gate closure differs from the market's")
        return contexts


def _request(
    market: _Market, i: int, spec: Backtest, fleet: Fleet, soc_kwh: float
) -> BidRequest | None:
    if not market.forecast_ok[i]:
        return None
    contexts = market.contexts(i)
    forecast = [c.price_forecast_yuan_mwh for c in contexts]
    if any(f is None for f in forecast):
        return None
    n = market.rules.slots_per_day
    return BidRequest(
        vpp_id=spec.vpp_id,
        market_type="SPOT",
        trading_date=market.series.start + dt.timedelta(days=i),
        rules=market.rules,
        known_at=dt.datetime.fromtimestamp(market.gate_ms[i] / 1000, dt.UTC),
        price_forecast_yuan_mwh=[float(f) for f in forecast if f is not None],
        available_up_kw=[fleet.max_discharge_kw] * n,
        available_down_kw=[fleet.max_charge_kw] * n,
        storage=fleet.envelope(soc_kwh),
    )


Bidder = Callable[[BidRequest], tuple[list[MarketBid], list[SlotDecision]]]


def _simulate(  # noqa: PLR0912, PLR0915 - one day loop, read top to bottom
    market: _Market,
    spec: Backtest,
    bidder: Bidder,
    *,
    phase: Phase,
    oracle: bool,
    on_day: Callable[[Phase, int, int], None],
) -> Run:
    rules, series, fleet = market.rules, market.series, spec.fleet
    slots, h = rules.slots_per_day, rules.slot_minutes / 60
    tolerance, penalty_rate = rules.deviation_tolerance, rules.deviation_penalty_yuan_mwh
    e_min = fleet.energy_kwh * fleet.soc_min_pct / 100
    e_max = fleet.energy_kwh * fleet.soc_max_pct / 100
    soc = min(max(fleet.energy_kwh * fleet.soc_start_pct / 100, e_min), e_max)
    eta_c, eta_d = fleet.charge_efficiency, fleet.discharge_efficiency
    p_dis = fleet.max_discharge_kw * fleet.delivery_share
    p_ch = fleet.max_charge_kw * fleet.delivery_share
    days: list[DayRecord] = []
    traces: list[DayTrace] = []
    for n, i in enumerate(range(market.first, market.last + 1)):
        date = series.start + dt.timedelta(days=i)
        request = _request(market, i, spec, fleet, soc)
        if request is not None and oracle:
            request = msgspec.structs.replace(
                request, price_forecast_yuan_mwh=series.day_ahead_yuan_mwh[i].tolist()
            )
        strategy_bids, decisions = bidder(request) if request is not None else ([], [])
        bids = strategy_bids
        if bids and request is not None:
            bids = _risk_checked(bids, request, spec.risk_limits)
        sell = np.zeros(slots)
        buy = np.zeros(slots)
        cleared_bids = 0
        if bids:
            submission = BidSubmission(
                vpp_id=spec.vpp_id,
                market_type="SPOT",
                trading_date=date,
                bids=bids,
                idempotency_key=f"{spec.vpp_id}:{date}",
                storage=fleet.envelope(soc),
            )
            day = clear_day(
                rules, series.day_ahead_yuan_mwh[i], series.load_mw[i], {"vpp": submission}
            )
            price = day.price_yuan_mwh
            for cleared in day.result("vpp").bids:
                if cleared.cleared_kw > 1e-9:
                    cleared_bids += 1
                    if cleared.side == "sell":
                        sell[cleared.slot] += cleared.cleared_kw
                    else:
                        buy[cleared.slot] += cleared.cleared_kw
        else:
            price = series.day_ahead_yuan_mwh[i]
        net = sell - buy
        realtime = series.realtime_yuan_mwh[i]
        delivered = np.zeros(slots)
        throughput = 0.0
        net_list = net.tolist()
        for t in range(slots):
            target = net_list[t]
            if target > 0:
                out = min(target, p_dis, max(soc - e_min, 0.0) * eta_d / h)
                soc -= out * h / eta_d
            elif target < 0:
                out = -min(-target, p_ch, max(e_max - soc, 0.0) / (eta_c * h))
                soc -= out * h * eta_c
            else:
                continue
            delivered[t] = out
            throughput += abs(out) * h
        deviation = net - delivered  # kW not delivered (+: sold but not delivered)
        dev_kwh = deviation * h
        allowed = tolerance * np.abs(net) * h
        over = np.maximum(np.abs(dev_kwh) - allowed, 0.0)
        days.append(
            DayRecord(
                date=date,
                revenue_yuan=float((net * price).sum() * h / 1000),
                imbalance_yuan=float((dev_kwh * realtime).sum() / 1000),
                penalty_yuan=float(over.sum() * penalty_rate / 1000),
                degradation_yuan=throughput * spec.degradation_yuan_kwh,
                bids=len(bids),
                cleared_bids=cleared_bids,
                cleared_kwh=float((sell + buy).sum() * h),
                delivered_kwh=float(np.abs(delivered).sum() * h),
                deviation_kwh=float(np.abs(dev_kwh).sum()),
            )
        )
        if spec.keep_traces and request is not None:
            traces.append(
                DayTrace(
                    date=date,
                    request=request,
                    strategy_bids=strategy_bids,
                    bids=bids,
                    decisions=decisions,
                    cleared_kw=net_list,
                    clearing_price_yuan_mwh=np.asarray(price, dtype=float).tolist(),
                )
            )
        on_day(phase, n + 1, market.day_start_ms[i] + (slots - 1) * market.slot_ms)
    return Run(days=days, traces=traces)


def _risk_checked(
    bids: list[MarketBid], request: BidRequest, limits: RiskLimits
) -> list[MarketBid]:
    """What the trading loop would send: :func:`hub.trading.pre_trade` in trim mode."""
    decision = pre_trade(
        bids,
        limits,
        RiskContext(
            available_up_kw=request.available_up_kw,
            available_down_kw=request.available_down_kw,
            price_forecast_yuan_mwh=request.price_forecast_yuan_mwh,
            storage=request.storage,
            slot_hours=request.slot_hours,
        ),
        mode="trim",
        rules=request.rules,
    )
    return list(decision.bids)


def _strategy_bidder(bidder: StrategyBidder) -> Bidder:
    def bid(request: BidRequest) -> tuple[list[MarketBid], list[SlotDecision]]:
        bids, plan = bidder.plan(request)
        return bids, [] if plan is None else list(plan.decisions)

    return bid


def _threshold(request: BidRequest) -> tuple[list[MarketBid], list[SlotDecision]]:
    return threshold_bids(request), []


def summary(run: Run) -> dict[str, Any]:
    """``total_revenue``, ``success_rate`` and ``risk_metrics`` of a run."""
    days = run.days
    net = np.array([d.net_yuan for d in days], dtype=float)
    bids = sum(d.bids for d in days)
    cleared = sum(d.cleared_bids for d in days)
    cleared_kwh = sum(d.cleared_kwh for d in days)
    delivered = sum(d.delivered_kwh for d in days)
    cumulative = np.cumsum(net) if len(net) else np.zeros(1)
    peak = np.maximum.accumulate(np.concatenate(([0.0], cumulative)))[1:]
    if len(net):
        var_q = float(np.quantile(net, 0.05))
        tail = net[net <= var_q]
        worst = int(np.argmin(net))
        worst_day = {"date": days[worst].date.isoformat(), "net_revenue": float(net[worst])}
    else:
        var_q, tail, worst_day = 0.0, np.zeros(1), None
    total = sum(d.revenue_yuan - d.imbalance_yuan - d.penalty_yuan for d in days)
    return {
        "total_revenue": round(total, 2),
        "net_revenue": round(float(net.sum()), 2),
        "success_rate": round(cleared / bids, 4) if bids else 0.0,
        "bids_submitted": bids,
        "bids_cleared": cleared,
        "energy_cleared_kwh": round(cleared_kwh, 3),
        "energy_delivered_kwh": round(delivered, 3),
        "days": len(days),
        "risk_metrics": {
            "max_drawdown_yuan": round(float((peak - cumulative).max()) if len(net) else 0.0, 2),
            "var_95_daily_yuan": round(max(-var_q, 0.0), 2),
            "cvar_95_daily_yuan": round(max(-float(tail.mean()), 0.0), 2),
            "worst_day": worst_day,
            "deviation_penalties_yuan": round(sum(d.penalty_yuan for d in days), 2),
            "imbalance_cost_yuan": round(sum(d.imbalance_yuan for d in days), 2),
            "deviation_kwh": round(sum(d.deviation_kwh for d in days), 3),
            "degradation_cost_yuan": round(sum(d.degradation_yuan for d in days), 2),
            "daily_net_revenue_yuan": [round(float(x), 2) for x in net],
        },
    }


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    results: dict[str, Any]
    """The seed's ``results``: total_revenue, success_rate, risk_metrics,
    performance_comparison (and a few more figures)."""
    run: Run
    """The strategy's run, day by day (with traces when asked for)."""


def run_backtest(
    spec: Backtest,
    series: PriceSeries,
    *,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    forecaster: Forecaster = builtin_forecast,
) -> Outcome:
    """Run the strategy over ``spec.start..spec.end`` of ``series`` (module docstring).
    ``progress`` is told after every day, ``should_stop`` asked before every day (True:
    :class:`BacktestCancelled`). Raises ConfigError, KeyError for a day outside the series."""
    config: StrategyConfig = validate_config(spec.config, spec.strategy_type)
    market = _Market(series, spec, forecaster)
    n_days = market.last - market.first + 1
    phases: list[Phase] = ["strategy"]
    if spec.compare:
        phases += ["threshold_rule", "perfect_foresight"]
    slots = market.rules.slots_per_day
    total = n_days * slots * len(phases)

    def on_day(phase: Phase, done: int, slot_ms: int) -> None:
        if progress is not None:
            before = phases.index(phase) * n_days * slots
            slots_done = before + done * slots
            progress(
                Progress(
                    phase=phase,
                    percent=round(100.0 * slots_done / total, 2),
                    slots_done=slots_done,
                    slots_total=total,
                    slot_reached_ms=slot_ms,
                )
            )
        if should_stop is not None and should_stop():
            raise BacktestCancelled

    if should_stop is not None and should_stop():
        raise BacktestCancelled
    bidder = StrategyBidder(
        spec.strategy_type, config, degradation_yuan_kwh=spec.degradation_yuan_kwh
    )
    run = _simulate(
        market, spec, _strategy_bidder(bidder), phase="strategy", oracle=False, on_day=on_day
    )
    results = summary(run)
    if spec.compare:
        threshold = summary(
            _simulate(market, spec, _threshold, phase="threshold_rule", oracle=False, on_day=on_day)
        )
        foresight = summary(_perfect_foresight(market, spec, on_day))
        pf_net = foresight["net_revenue"]
        results["performance_comparison"] = {
            "do_nothing": {"total_revenue": 0.0, "net_revenue": 0.0},
            "threshold_rule": _brief(threshold),
            "perfect_foresight": _brief(foresight),
            "capture_ratio": round(results["net_revenue"] / pf_net, 4) if pf_net > 0 else None,
            "vs_do_nothing_yuan": results["net_revenue"],
            "vs_threshold_rule_yuan": round(results["net_revenue"] - threshold["net_revenue"], 2),
        }
    else:
        results["performance_comparison"] = {}
    results["days_without_forecast"] = sum(1 for ok in market.forecast_ok.values() if not ok)
    return Outcome(results=results, run=run)


def _perfect_foresight(
    market: _Market, spec: Backtest, on_day: Callable[[Phase, int, int], None]
) -> Run:
    """The optimiser over the whole range at once with the realised day-ahead prices (a
    price taker: the most the fleet could have earned; the state of charge carries across
    days, at least the starting SoC at the end). Revenue day by day from its plan."""
    rules, series, fleet = market.rules, market.series, spec.fleet
    slots, h = rules.slots_per_day, rules.slot_minutes / 60
    prices = series.day_ahead_yuan_mwh[market.first : market.last + 1]
    n_days = prices.shape[0]
    net = np.zeros((n_days, slots))
    throughput = np.zeros((n_days, slots))
    if fleet.energy_kwh > 0 and (fleet.max_charge_kw > 0 or fleet.max_discharge_kw > 0):
        schedule = optimise(
            DayAheadProblem(
                prices_yuan_mwh=prices.reshape(-1).tolist(),
                batteries=[
                    Battery(
                        id="fleet",
                        capacity_kwh=fleet.energy_kwh,
                        max_charge_kw=fleet.max_charge_kw,
                        max_discharge_kw=fleet.max_discharge_kw,
                        soc_pct=min(max(fleet.soc_start_pct, fleet.soc_min_pct), fleet.soc_max_pct),
                        soc_min_pct=fleet.soc_min_pct,
                        soc_max_pct=fleet.soc_max_pct,
                        eta_charge=fleet.charge_efficiency,
                        eta_discharge=fleet.discharge_efficiency,
                        degradation_yuan_kwh=spec.degradation_yuan_kwh,
                    )
                ],
                slot_hours=h,
            )
        )
        net = np.asarray(schedule.net_export_kw, dtype=float).reshape(n_days, slots)
        moved = np.asarray(schedule.charge_kw) + np.asarray(schedule.discharge_kw)
        throughput = moved.reshape(n_days, slots) * h
    days: list[DayRecord] = []
    for n in range(n_days):
        i = market.first + n
        day_net = net[n]
        days.append(
            DayRecord(
                date=series.start + dt.timedelta(days=i),
                revenue_yuan=float((day_net * prices[n]).sum() * h / 1000),
                imbalance_yuan=0.0,
                penalty_yuan=0.0,
                degradation_yuan=float(throughput[n].sum() * spec.degradation_yuan_kwh),
                bids=int((np.abs(day_net) > 1e-6).sum()),
                cleared_bids=int((np.abs(day_net) > 1e-6).sum()),
                cleared_kwh=float(np.abs(day_net).sum() * h),
                delivered_kwh=float(np.abs(day_net).sum() * h),
                deviation_kwh=0.0,
            )
        )
    for n in range(n_days):
        on_day(
            "perfect_foresight",
            n + 1,
            market.day_start_ms[market.first + n] + (slots - 1) * market.slot_ms,
        )
    return Run(days=days)


def _brief(summary_: dict[str, Any]) -> dict[str, Any]:
    risk = summary_["risk_metrics"]
    return {
        "total_revenue": summary_["total_revenue"],
        "net_revenue": summary_["net_revenue"],
        "success_rate": summary_["success_rate"],
        "max_drawdown_yuan": risk["max_drawdown_yuan"],
        "cvar_95_daily_yuan": risk["cvar_95_daily_yuan"],
    }
