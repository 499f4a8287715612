"""Strategy engine benchmarks against floors measured in the same run.

Optimiser: the day-ahead LP of a VPP with 100 batteries over 96 slots, built and solved by
``hub.strategy.optimise`` (HiGHS through highspy, with the simultaneity check), next to
``scipy.optimize.linprog(method="highs")`` solving the same LP from prebuilt sparse
matrices (the floor). Target: ours <= 1x the floor's CPU time (best of ``--repeat``,
interleaved), same objective to 1e-6.

Rules: one year of 15-minute slots (35,040) for a VPP of 100 batteries: each slot's
context comes from the gate-closure feed (prices, forecasts) and the simulated fleet (SoC
and headroom of the 100 batteries, numpy), the rule engine steps, and the decision moves
the fleet. Printed next to a bare numpy pass over the same price array (a vectorised
threshold rule). Target: the year in <= 2 s of CPU time (wall time printed too).

Backtest: the one-year rule backtest of ``hub.strategy.run_backtest`` on the reference
synthetic year (hub.markets.reference_year, 35,040 slots) for a VPP of 100 batteries:
gate-closure feed, the trading loop's request, StrategyBidder/plan_day, the market's
clear_day and delivery, next to a bare numpy pass over the same price array (market
clearing's share printed). Target: <= 2 s of CPU time.

Capture: the optimiser strategy (AI_DRIVEN) with the built-in price forecast over the
reference year, net revenue as a share of perfect foresight (the optimiser given the
realised prices over the whole year). Target: >= 80 %, judged without the price-deviation
pre-trade limit (printed with the default limits too).

    python bench/strategy.py [--repeat 5] [--no-fail]

Exits 1 when a target is missed (``--no-fail`` to only print).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as ``python bench/strategy.py``, this file's directory comes first on sys.path and
# bench/hub.py would shadow the ``hub`` package: drop that entry before importing it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import msgspec  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.optimize import linprog  # noqa: E402

from hub.markets import BidSubmission, clear_day, reference_year  # noqa: E402
from hub.strategy import (  # noqa: E402
    Battery,
    ContextFeed,
    DayAheadProblem,
    Forecasts,
    GateClosure,
    LinearProgram,
    Published,
    RuleEngine,
    Schedule,
    build_lp,
    optimise,
    validate_config,
)
from hub.strategy._backtest import Backtest, Fleet, Outcome, run_backtest  # noqa: E402
from hub.trading import RiskLimits  # noqa: E402

T = 96
YEAR = 365 * T
FLEET = 100
OPTIMISER_TARGET = 1.0
RULES_TARGET_S = 2.0
SLOT_MS = 900_000
DAY_MS = 86_400_000


def best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Least CPU time of this process over ``repeat`` calls, and the last result.

    CPU time, not wall time: the benchmark machine is shared (2 cores, several users), and
    another user's job must not count against ours. HiGHS solves on one thread here.
    """
    times, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return min(times), result


def synthetic_prices(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    daily = 350 + 250 * np.sin((t % T - 30) / T * 4 * np.pi)
    seasonal = 1 + 0.25 * np.cos(t / n * 2 * np.pi)
    prices = daily * seasonal + rng.normal(0, 60, n)
    prices[rng.random(n) < 0.02] -= 500  # negative-price episodes
    return prices


# ------------------------------------------------------------------------ optimiser


def fleet_problem() -> DayAheadProblem:
    rng = np.random.default_rng(2)
    batteries = [
        Battery(
            id=f"b{i}",
            capacity_kwh=float(rng.uniform(100, 400)),
            max_charge_kw=float(rng.uniform(50, 200)),
            max_discharge_kw=float(rng.uniform(50, 200)),
            soc_pct=float(rng.uniform(20, 80)),
            soc_min_pct=5,
            soc_max_pct=95,
            eta_charge=float(rng.uniform(0.9, 0.97)),
            eta_discharge=float(rng.uniform(0.9, 0.97)),
            degradation_yuan_kwh=float(rng.uniform(0.01, 0.04)),
        )
        for i in range(FLEET)
    ]
    return DayAheadProblem(
        prices_yuan_mwh=list(synthetic_prices(T)),
        batteries=batteries,
        base_load_kw=[2000.0] * T,
        import_max_kw=12_000,
        export_max_kw=8_000,
    )


def linprog_arrays(lp: LinearProgram) -> dict[str, object]:
    a = sp.coo_matrix((lp.values, (lp.rows, lp.cols)), shape=(lp.num_row, lp.num_col)).tocsr()
    eq = lp.row_lower == lp.row_upper
    upper = ~eq & np.isfinite(lp.row_upper)
    lower = ~eq & np.isfinite(lp.row_lower)
    return {
        "c": lp.cost,
        "A_ub": sp.vstack([a[np.flatnonzero(upper)], -a[np.flatnonzero(lower)]]).tocsr(),
        "b_ub": np.concatenate([lp.row_upper[upper], -lp.row_lower[lower]]),
        "A_eq": a[np.flatnonzero(eq)],
        "b_eq": lp.row_lower[eq],
        "bounds": np.column_stack([lp.col_lower, lp.col_upper]),
        "method": "highs",
    }


def bench_optimiser(repeat: int) -> bool:
    problem = fleet_problem()
    arrays = linprog_arrays(build_lp(problem))
    optimise(problem)  # warm both paths once (imports, first allocations)
    linprog(**arrays)
    ours_s = floor_s = float("inf")
    for _ in range(repeat):  # interleaved, so both see the same machine load
        t, schedule = best(lambda: optimise(problem), 1)
        ours_s = min(ours_s, t)
        t, result = best(lambda: linprog(**arrays), 1)
        floor_s = min(floor_s, t)
    assert isinstance(schedule, Schedule)
    ours_obj = schedule.objective_yuan
    floor_obj = -float(result.fun)  # type: ignore[attr-defined]
    ratio = ours_s / floor_s
    same = abs(ours_obj - floor_obj) <= 1e-6 * max(1.0, abs(floor_obj))
    ok = ratio <= OPTIMISER_TARGET and same
    print(f"optimiser: {FLEET} batteries x {T} slots, {len(arrays['c'])} columns")  # type: ignore[arg-type]
    print(
        f"  ours (build + HiGHS + check)  {ours_s * 1000:9.1f} ms CPU  objective {ours_obj:12.4f}"
    )
    print(
        f"  linprog (same LP, floor)      {floor_s * 1000:9.1f} ms CPU  objective {floor_obj:12.4f}"
    )
    verdict = "ok" if ok else "MISSED"
    print(f"  ratio {ratio:.2f}x  <= {OPTIMISER_TARGET}x, objectives equal: {same}  {verdict}")
    return ok


# ---------------------------------------------------------------------------- rules

RULES = {
    "rules": [
        {
            "name": "evening peak",
            "priority": 10,
            "conditions": [
                {"field": "price_forecast", "operator": ">", "value": 550},
                {
                    "operator": "or",
                    "conditions": [
                        {
                            "field": "time_of_day",
                            "operator": "between",
                            "value": ["17:00", "22:00"],
                        },
                        {"field": "day_type", "operator": "in", "value": ["weekend", "holiday"]},
                    ],
                },
                {"field": "soc", "operator": ">", "value": 20},
            ],
            "actions": [
                {"type": "discharge", "parameters": {"power_kw": 8000}},
                {"type": "bid", "parameters": {"quantity_kw": "available", "price_yuan_mwh": 500}},
            ],
        },
        {
            "name": "cheap energy",
            "priority": 5,
            "conditions": [
                {"field": "price_forecast", "operator": "<", "value": 150},
                {"operator": "not", "condition": {"field": "soc", "operator": ">=", "value": 90}},
            ],
            "actions": [
                {"type": "charge", "parameters": {"power_kw": 8000}},
                {"type": "bid", "parameters": {"side": "buy", "quantity_kw": "available"}},
            ],
        },
        {
            "name": "price turned negative",
            "conditions": [{"field": "price", "operator": "crosses_below", "value": 0}],
            "actions": [{"type": "notify", "parameters": {"message": "negative prices"}}],
        },
        {
            "name": "low SoC guard",
            "priority": 20,
            "conditions": [{"field": "soc", "operator": "crosses_below", "value": 10}],
            "actions": [
                {"type": "charge", "parameters": {"power_kw": 2000}},
                {"type": "notify", "parameters": {"message": "SoC low", "level": "warning"}},
            ],
        },
    ]
}


def bench_rules() -> bool:
    prices = synthetic_prices(YEAR, seed=3)
    start_ms = 20_454 * DAY_MS - 480 * 60_000  # 2026-01-01 00:00 in UTC+8
    starts = start_ms + np.arange(YEAR, dtype=np.int64) * SLOT_MS
    gate = GateClosure()
    feed = ContextFeed(
        gate,
        price=Published((starts + SLOT_MS).tolist(), prices.tolist()),
        price_forecast=Forecasts(
            [gate.for_slot(int(s)) - 3_600_000 for s in starts],
            starts.tolist(),
            (prices + np.random.default_rng(4).normal(0, 40, YEAR)).tolist(),
        ),
    )
    engine = RuleEngine(validate_config(RULES, "RULE_BASED").rules)
    rng = np.random.default_rng(5)
    capacity = rng.uniform(100, 400, FLEET)
    p_max = rng.uniform(50, 200, FLEET)
    slot_starts = starts.tolist()

    lo, hi, total_capacity = 0.05 * capacity, 0.95 * capacity, float(capacity.sum())

    def year() -> tuple[int, int]:
        energy = capacity * 0.5
        state = engine.initial_state()
        fired = bids = 0
        for s in slot_starts:
            up = np.minimum(p_max, (energy - lo) * 4)
            down = np.minimum(p_max, (hi - energy) * 4)
            np.maximum(up, 0, out=up)
            np.maximum(down, 0, out=down)
            up_kw, down_kw = float(up.sum()), float(down.sum())
            ctx = msgspec.structs.replace(
                feed.context(s),
                soc_pct=float(energy.sum()) / total_capacity * 100,
                available_up_kw=up_kw,
                available_down_kw=down_kw,
            )
            decision, state = engine.step(state, ctx)
            fired += len(decision.fired)
            bids += decision.bid is not None
            power = decision.battery_kw
            if power:
                share, room = (up, up_kw) if power > 0 else (down, down_kw)
                if room > 0:
                    energy -= share * (power * 0.25 / room)
        return fired, bids

    def floor() -> float:
        # The same price array through a vectorised threshold rule with its energy sum.
        power = np.where(prices > 550, 1.0, np.where(prices < 150, -1.0, 0.0)) * p_max.sum()
        return float(np.cumsum(power)[-1])

    wall = time.perf_counter()
    ours_s, counts = best(year, 1)
    wall = time.perf_counter() - wall
    floor_s, _ = best(floor, 3)
    ok = ours_s <= RULES_TARGET_S
    print(f"rules: {YEAR} slots (one year) x {FLEET} batteries, {len(RULES['rules'])} rules")
    print(
        f"  rule engine + feed + fleet   {ours_s:8.3f} s CPU ({ours_s / YEAR * 1e6:.1f} us/slot),"
        f" {wall:.3f} s wall"
    )
    ratio = ours_s / max(floor_s, 1e-6)
    print(f"  bare numpy pass (floor)      {floor_s:8.4f} s CPU  ratio {ratio:,.0f}x")
    print(f"  rules fired, bids: {counts}")
    print(f"  target <= {RULES_TARGET_S} s  {'ok' if ok else 'MISSED'}")
    return ok


# ---------------------------------------------------------------------------- backtest

BACKTEST_TARGET_S = 2.0
CAPTURE_TARGET = 0.80


def backtest_fleet() -> Fleet:
    rng = np.random.default_rng(7)
    return Fleet.aggregate(
        [
            Fleet(
                energy_kwh=float(rng.uniform(200, 800)),
                max_charge_kw=float(rng.uniform(100, 250)),
                max_discharge_kw=float(rng.uniform(100, 250)),
                soc_start_pct=50.0,
                soc_min_pct=10.0,
                soc_max_pct=90.0,
                resources=1,
            )
            for _ in range(FLEET)
        ]
    )


BACKTEST_RULES = {
    "rules": [
        {
            "name": "evening peak",
            "priority": 10,
            "conditions": [
                {"field": "price_forecast", "operator": ">", "value": 520},
                {"field": "soc", "operator": ">", "value": 20},
            ],
            "actions": [
                {
                    "type": "bid",
                    "parameters": {
                        "side": "sell",
                        "quantity_kw": "available",
                        "price_yuan_mwh": 480,
                    },
                }
            ],
        },
        {
            "name": "cheap energy",
            "priority": 5,
            "conditions": [{"field": "price_forecast", "operator": "<", "value": 260}],
            "actions": [
                {
                    "type": "bid",
                    "parameters": {
                        "side": "buy",
                        "quantity_kw": "available",
                        "price_yuan_mwh": 300,
                    },
                },
                {"type": "notify", "parameters": {"message": "cheap"}},
            ],
        },
    ]
}


def bench_backtest(repeat: int) -> bool:
    series = reference_year()
    fleet = backtest_fleet()
    start, end = series.start, series.end - dt.timedelta(days=1)
    spec = Backtest(
        strategy_type="RULE_BASED",
        config=BACKTEST_RULES,
        fleet=fleet,
        start=start,
        end=end,
        compare=False,
    )
    wall = time.perf_counter()
    ours_s, outcome = best(lambda: run_backtest(spec, series), max(1, repeat // 2))
    wall = time.perf_counter() - wall
    assert isinstance(outcome, Outcome)
    # Market clearing alone on the same bids (the share of hub.markets.clear_day).
    traced = run_backtest(msgspec.structs.replace(spec, keep_traces=True), series)
    submissions = [
        (
            series.index(t.date),
            BidSubmission(
                vpp_id="v",
                market_type="SPOT",
                trading_date=t.date,
                bids=t.bids,
                idempotency_key=str(t.date),
                storage=t.request.storage,
            ),
        )
        for t in traced.run.traces
        if t.bids
    ]

    def clearing() -> None:
        for i, submission in submissions:
            clear_day(
                series.rules,
                series.day_ahead_yuan_mwh[i],
                series.load_mw[i],
                {"v": submission},
            )

    clear_s, _ = best(clearing, 1)
    prices = series.flat_day_ahead()
    power = fleet.max_discharge_kw

    def floor() -> float:
        action = np.where(prices > 520, power, np.where(prices < 260, -power, 0.0))
        return float((action * prices).sum())

    floor_s, _ = best(floor, 3)
    slots = len(prices)
    ok = ours_s <= BACKTEST_TARGET_S
    r = outcome.results
    print(
        f"backtest: {slots} slots (reference year) x {fleet.resources} batteries, "
        f"{len(BACKTEST_RULES['rules'])} rules, {r['bids_submitted']} bids"
    )
    print(
        f"  run_backtest (rules)         {ours_s:8.3f} s CPU ({ours_s / slots * 1e6:.1f} us/slot),"
        f" {wall:.3f} s wall; of which clear_day {clear_s:.3f} s"
    )
    ratio = ours_s / max(floor_s, 1e-6)
    print(f"  bare numpy pass (floor)      {floor_s:8.4f} s CPU  ratio {ratio:,.0f}x")
    print(f"  total revenue {r['total_revenue']:,.0f} yuan, success rate {r['success_rate']:.1%}")
    print(f"  target <= {BACKTEST_TARGET_S} s  {'ok' if ok else 'MISSED'}")
    return ok


def bench_capture() -> bool:
    """Judged without the price-deviation pre-trade limit (the optimiser's break-even limits
    can lie far from the slot's forecast); printed with the default limits too, as live."""
    series = reference_year()
    spec = Backtest(
        strategy_type="AI_DRIVEN",
        config={},
        fleet=backtest_fleet(),
        start=series.start,
        end=series.end - dt.timedelta(days=1),
        risk_limits=RiskLimits(max_price_deviation=None),
    )
    cpu = time.process_time()
    outcome = run_backtest(spec, series)
    cpu = time.process_time() - cpu
    comparison = outcome.results["performance_comparison"]
    capture = comparison["capture_ratio"] or 0.0
    default = run_backtest(
        msgspec.structs.replace(spec, risk_limits=RiskLimits(), compare=False), series
    )
    default_net = default.results["net_revenue"]
    pf = comparison["perfect_foresight"]["net_revenue"]
    ok = capture >= CAPTURE_TARGET
    print("capture: optimiser (AI_DRIVEN) with the built-in forecast, reference year")
    print(
        f"  net revenue {outcome.results['net_revenue']:,.0f} yuan; perfect foresight "
        f"{pf:,.0f}; threshold rule {comparison['threshold_rule']['net_revenue']:,.0f}"
        f"  ({cpu:.1f} s CPU, 3 runs)"
    )
    print(
        f"  with the default pre-trade limits (max_price_deviation 1.0, as live): "
        f"{default_net:,.0f} yuan, {default_net / pf:.1%} of perfect foresight"
    )
    print(
        f"  capture ratio {capture:.1%}  target >= {CAPTURE_TARGET:.0%}  {'ok' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-fail", action="store_true")
    args = parser.parse_args()
    ok = bench_optimiser(args.repeat)
    ok &= bench_rules()
    ok &= bench_backtest(args.repeat)
    ok &= bench_capture()
    return 0 if ok or args.no_fail else 1


if __name__ == "__main__":
    sys.exit(main())
