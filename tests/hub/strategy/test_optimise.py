"""The day-ahead optimiser against an independent reference LP, on negative prices, and
within every physical limit."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from hub.strategy import (
    Battery,
    DayAheadProblem,
    EvSession,
    HvacZone,
    OptimiserError,
    PriceScenarios,
    PvPlant,
    Schedule,
    build_lp,
    derive_bids,
    optimise,
    solve_lp,
)

T = 96
DT = 0.25
Vector = npt.NDArray[np.float64]


def daily_prices(seed: int = 3, low: float = 150.0, high: float = 650.0) -> list[float]:
    rng = np.random.default_rng(seed)
    shape = np.sin((np.arange(T) - 30) / T * 4 * np.pi) * 0.5 + 0.5
    return list(low + (high - low) * shape + rng.normal(0, 25, T))


def park(prices: list[float], **overrides: Any) -> DayAheadProblem:
    pv = np.maximum(0.0, 400 * np.sin((np.arange(T) - 24) / 48 * np.pi))
    values: dict[str, Any] = {
        "prices_yuan_mwh": prices,
        "batteries": [
            Battery(id="b1", capacity_kwh=400, max_charge_kw=200, max_discharge_kw=150, soc_pct=40),
            Battery(
                id="b2",
                capacity_kwh=250,
                max_charge_kw=100,
                max_discharge_kw=120,
                soc_pct=80,
                soc_min_pct=10,
                soc_max_pct=95,
                terminal_soc_pct=50,
                eta_charge=0.92,
                eta_discharge=0.94,
                degradation_yuan_kwh=0.035,
            ),
        ],
        "pv": [
            PvPlant(id="pv1", forecast_kw=list(pv)),
            PvPlant(id="pv2", forecast_kw=list(pv / 4), curtailable=False),
        ],
        "ev": [
            EvSession(
                id="ev1",
                max_kw=60,
                arrive_slot=32,
                depart_slot=72,
                energy_min_kwh=120,
                energy_max_kwh=200,
            )
        ],
        "hvac": [
            HvacZone(
                id="hall",
                max_kw=80,
                cop=3.0,
                capacity_kwh_per_k=40,
                resistance_k_per_kw=1.5,
                temp_c=24,
                comfort_min_c=22,
                comfort_max_c=26,
                outdoor_c=list(28 + 6 * np.sin((np.arange(T) - 36) / T * 2 * np.pi)),
            )
        ],
        "base_load_kw": list(250 + 50 * np.cos(np.arange(T) / T * 2 * np.pi)),
        "import_max_kw": 900.0,
        "export_max_kw": 500.0,
    }
    values.update(overrides)
    return DayAheadProblem(**values)


# ------------------------------------------------------------- reference LP (scipy)


def reference(problem: DayAheadProblem, scenarios: PriceScenarios | None = None) -> float:
    """The same model written out slot by slot for linprog, without the net-export
    variables: returns the optimal value of ``E[revenue] - degradation - λ·CVaR``."""
    p = problem
    B, P, K, H = len(p.batteries), len(p.pv), len(p.ev), len(p.hvac)  # noqa: N806
    names: list[tuple[str, int, int]] = []
    for kind, count in (("c", B), ("d", B), ("e", B), ("g", P), ("u", K), ("q", H), ("th", H)):
        names += [(kind, i, t) for i in range(count) for t in range(T)]
    risky = scenarios is not None and scenarios.risk_weight > 0
    S = len(scenarios.prices_yuan_mwh) if scenarios is not None and risky else 0  # noqa: N806
    if S:
        names += [("eta", 0, 0)] + [("z", s, 0) for s in range(S)]
    col = {name: j for j, name in enumerate(names)}
    n = len(names)
    prices = np.asarray(p.prices_yuan_mwh)
    lam = 0.0
    if scenarios is not None:
        matrix = np.asarray(scenarios.prices_yuan_mwh)
        prob = np.full(len(matrix), 1 / len(matrix))
        prices = prob @ matrix
        lam = scenarios.risk_weight
    load = np.asarray(p.base_load_kw) if p.base_load_kw is not None else np.zeros(T)
    cost = np.zeros(n)
    bounds: list[tuple[float | None, float | None]] = [(0, None)] * n
    b_eq: list[float] = []
    b_ub: list[float] = []
    eq_rows: list[dict[int, float]] = []
    ub_rows: list[dict[int, float]] = []

    def export_terms(t: int) -> tuple[dict[int, float], float]:
        """Net export of slot t as {column: coefficient} plus a constant."""
        terms: dict[int, float] = {}
        for b in range(B):
            terms[col["d", b, t]] = 1.0
            terms[col["c", b, t]] = -1.0
        for i in range(P):
            terms[col["g", i, t]] = 1.0
        for k in range(K):
            terms[col["u", k, t]] = -1.0
        for h in range(H):
            terms[col["q", h, t]] = -1.0
        return terms, -float(load[t])

    constant = 0.0
    for t in range(T):
        terms, const = export_terms(t)
        for j, a in terms.items():
            cost[j] -= prices[t] * DT / 1000 * a
        constant -= prices[t] * DT / 1000 * const
        if p.export_max_kw is not None:
            ub_rows.append(terms)
            b_ub.append(p.export_max_kw - const)
        if p.import_max_kw is not None:
            ub_rows.append({j: -a for j, a in terms.items()})
            b_ub.append(p.import_max_kw + const)
    for b, bat in enumerate(p.batteries):
        e0 = bat.capacity_kwh * bat.soc_pct / 100
        term = (
            bat.capacity_kwh
            * (bat.terminal_soc_pct if bat.terminal_soc_pct is not None else bat.soc_pct)
            / 100
        )
        for t in range(T):
            cost[col["c", b, t]] += (1 + lam) * bat.degradation_yuan_kwh * DT
            cost[col["d", b, t]] += (1 + lam) * bat.degradation_yuan_kwh * DT
            bounds[col["c", b, t]] = (0, bat.max_charge_kw)
            bounds[col["d", b, t]] = (0, bat.max_discharge_kw)
            lo = bat.capacity_kwh * bat.soc_min_pct / 100
            if t == T - 1:
                lo = max(lo, term)
            bounds[col["e", b, t]] = (lo, bat.capacity_kwh * bat.soc_max_pct / 100)
            row = {
                col["e", b, t]: 1.0,
                col["c", b, t]: -DT * bat.eta_charge,
                col["d", b, t]: DT / bat.eta_discharge,
            }
            if t:
                row[col["e", b, t - 1]] = -1.0
            eq_rows.append(row)
            b_eq.append(e0 if t == 0 else 0.0)
    for i, pv in enumerate(p.pv):
        for t in range(T):
            bounds[col["g", i, t]] = (0 if pv.curtailable else pv.forecast_kw[t], pv.forecast_kw[t])
    for k, ev in enumerate(p.ev):
        energy: dict[int, float] = {}
        for t in range(T):
            inside = ev.arrive_slot <= t < ev.depart_slot
            bounds[col["u", k, t]] = (0, ev.max_kw if inside else 0)
            if inside:
                energy[col["u", k, t]] = DT
        ub_rows.append(energy)
        b_ub.append(ev.energy_max_kwh)
        ub_rows.append({j: -a for j, a in energy.items()})
        b_ub.append(-ev.energy_min_kwh)
    for h, z in enumerate(p.hvac):
        a = 1 - DT / (z.resistance_k_per_kw * z.capacity_kwh_per_k)
        gamma = DT * z.cop / z.capacity_kwh_per_k
        for t in range(T):
            bounds[col["q", h, t]] = (0, z.max_kw)
            bounds[col["th", h, t]] = (z.comfort_min_c, z.comfort_max_c)
            row = {col["th", h, t]: 1.0, col["q", h, t]: gamma}
            rhs = (1 - a) * z.outdoor_c[t]
            if t:
                row[col["th", h, t - 1]] = -a
            else:
                rhs += a * z.temp_c
            eq_rows.append(row)
            b_eq.append(rhs)
    if S:
        assert scenarios is not None
        alpha = scenarios.alpha
        bounds[col["eta", 0, 0]] = (None, None)
        cost[col["eta", 0, 0]] = lam
        for s, path in enumerate(scenarios.prices_yuan_mwh):
            cost[col["z", s, 0]] = lam / S / (1 - alpha)
            # z_s >= loss_s - eta, loss_s = -revenue_s (degradation weighted in the cost).
            row = {col["z", s, 0]: -1.0, col["eta", 0, 0]: -1.0}
            rhs = 0.0
            for t in range(T):
                terms, const = export_terms(t)
                for j, coef in terms.items():
                    row[j] = row.get(j, 0.0) - path[t] * DT / 1000 * coef
                rhs += path[t] * DT / 1000 * const
            ub_rows.append(row)
            b_ub.append(rhs)

    def matrix_of(rows: list[dict[int, float]]) -> sp.csr_matrix:
        m = sp.lil_matrix((len(rows), n))
        for r, entries in enumerate(rows):
            for j, v in entries.items():
                m[r, j] = v
        return m.tocsr()

    result = linprog(
        cost,
        A_ub=matrix_of(ub_rows),
        b_ub=b_ub,
        A_eq=matrix_of(eq_rows),
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
    )
    assert result.status == 0, result.message
    return -(float(result.fun) + constant)


def test_the_objective_equals_an_independent_linprog_model() -> None:
    problem = park(daily_prices())
    schedule = optimise(problem)
    assert schedule.repaired == 0
    assert schedule.objective_yuan == pytest.approx(reference(problem), rel=1e-6)
    assert schedule.objective_yuan == pytest.approx(
        schedule.revenue_yuan - schedule.degradation_yuan
    )


def test_the_risk_aware_objective_equals_the_reference_with_cvar_rows() -> None:
    rng = np.random.default_rng(7)
    base = np.asarray(daily_prices())
    paths = [list(base + rng.normal(0, 120, T)) for _ in range(6)]
    scenarios = PriceScenarios(prices_yuan_mwh=paths, risk_weight=0.8, alpha=0.9)
    problem = park(list(base))
    schedule = optimise(problem, scenarios)
    assert schedule.cvar_loss_yuan is not None
    value = schedule.objective_yuan - 0.8 * schedule.cvar_loss_yuan
    assert value == pytest.approx(reference(problem, scenarios), rel=1e-6)


def test_more_risk_weight_never_raises_the_tail_loss() -> None:
    rng = np.random.default_rng(11)
    base = np.asarray(daily_prices(seed=5))
    paths = [list(base * rng.uniform(0.3, 1.7) + rng.normal(0, 150, T)) for _ in range(8)]
    problem = park(list(base))
    results = [
        optimise(problem, PriceScenarios(prices_yuan_mwh=paths, risk_weight=w, alpha=0.9))
        for w in (0.0, 0.5, 5.0)
    ]
    tails = [r.cvar_loss_yuan for r in results]
    means = [r.objective_yuan for r in results]
    assert all(t is not None for t in tails)
    assert tails[0] >= tails[1] - 1e-6 >= tails[2] - 2e-6  # type: ignore[operator]
    assert means[0] >= means[1] - 1e-6 >= means[2] - 2e-6


def negative_day() -> DayAheadProblem:
    prices = [(-1500.0 if 40 <= t < 50 else (-85.0 if 30 <= t < 70 else 200.0)) for t in range(T)]
    fleet = [
        Battery(
            id=f"b{i}",
            capacity_kwh=200,
            max_charge_kw=100,
            max_discharge_kw=100,
            soc_pct=90,
            eta_charge=0.9,
            eta_discharge=0.9,
            degradation_yuan_kwh=0.0,
        )
        for i in range(5)
    ]
    return DayAheadProblem(prices_yuan_mwh=prices, batteries=fleet, import_max_kw=2000)


def test_no_slot_charges_and_discharges_at_once_on_a_negative_price_day() -> None:
    problem = negative_day()
    lp = build_lp(problem)
    _, relaxed = solve_lp(lp)
    n = len(problem.batteries) * T
    c, d = relaxed[:n], relaxed[n : 2 * n]
    assert np.sum((c > 1e-6) & (d > 1e-6)) > 0, "the plain LP burns energy: the guard is needed"
    schedule = optimise(problem)
    assert schedule.repaired > 0
    assert schedule.simultaneous == 0
    both = (schedule.charge_kw > 1e-6) & (schedule.discharge_kw > 1e-6)
    assert not both.any()
    assert_physical(problem, schedule)
    # It still charges when paid to: the batteries end the negative hours full.
    assert schedule.soc_kwh[:, 69].min() == pytest.approx(200, rel=1e-6)


def assert_physical(problem: DayAheadProblem, s: Schedule, tol: float = 1e-6) -> None:
    for b, bat in enumerate(problem.batteries):
        assert (s.charge_kw[b] >= -tol).all() and (s.charge_kw[b] <= bat.max_charge_kw + tol).all()
        assert (s.discharge_kw[b] >= -tol).all()
        assert (s.discharge_kw[b] <= bat.max_discharge_kw + tol).all()
        e = s.soc_kwh[b]
        lo, hi = bat.capacity_kwh * bat.soc_min_pct / 100, bat.capacity_kwh * bat.soc_max_pct / 100
        assert (e >= lo - tol).all() and (e <= hi + tol).all()
        previous = np.concatenate([[bat.capacity_kwh * bat.soc_pct / 100], e[:-1]])
        flow = DT * (bat.eta_charge * s.charge_kw[b] - s.discharge_kw[b] / bat.eta_discharge)
        np.testing.assert_allclose(e, previous + flow, atol=1e-6)
        terminal = bat.soc_pct if bat.terminal_soc_pct is None else bat.terminal_soc_pct
        assert e[-1] >= bat.capacity_kwh * terminal / 100 - tol
    load = np.zeros(T) if problem.base_load_kw is None else np.asarray(problem.base_load_kw)
    balance = s.battery_kw.sum(axis=0) + s.pv_kw.sum(axis=0) - s.ev_kw.sum(axis=0)
    balance = balance - s.hvac_kw.sum(axis=0) - load
    np.testing.assert_allclose(s.net_export_kw, balance, atol=1e-6)
    if problem.export_max_kw is not None:
        assert (s.net_export_kw <= problem.export_max_kw + tol).all()
    if problem.import_max_kw is not None:
        assert (s.net_export_kw >= -problem.import_max_kw - tol).all()
    assert s.simultaneous == 0
    assert not ((s.charge_kw > 1e-6) & (s.discharge_kw > 1e-6)).any()


def test_pv_ev_and_hvac_stay_within_forecast_window_and_comfort() -> None:
    problem = park(daily_prices())
    s = optimise(problem)
    assert_physical(problem, s)
    assert (s.pv_kw[0] <= np.asarray(problem.pv[0].forecast_kw) + 1e-6).all()
    np.testing.assert_allclose(s.pv_kw[1], problem.pv[1].forecast_kw, atol=1e-6)
    ev = s.ev_kw[0]
    assert ev[:32].max() <= 1e-9 and ev[72:].max() <= 1e-9
    assert 120 - 1e-6 <= ev.sum() * DT <= 200 + 1e-6
    assert s.temp_c.min() >= 22 - 1e-6 and s.temp_c.max() <= 26 + 1e-6


def test_pv_is_curtailed_when_prices_are_negative() -> None:
    prices = [-50.0] * T
    problem = park(prices, batteries=[], ev=[], hvac=[], export_max_kw=None, import_max_kw=None)
    s = optimise(problem)
    assert s.pv_kw[0].max() == pytest.approx(0, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    prices=st.lists(st.floats(-300, 1200), min_size=T, max_size=T),
    fleet=st.lists(
        st.tuples(
            st.floats(50, 500),  # capacity
            st.floats(0, 300),  # charge power
            st.floats(0, 300),  # discharge power
            st.floats(10, 90),  # start soc
            st.floats(0.8, 1.0),  # efficiency
            st.floats(0, 0.05),  # degradation
        ),
        min_size=1,
        max_size=4,
    ),
    limit=st.one_of(st.none(), st.floats(100, 2000)),
)
def test_plans_never_exceed_power_soc_or_site_limits(
    prices: list[float], fleet: list[tuple[float, ...]], limit: float | None
) -> None:
    batteries = [
        Battery(
            id=f"b{i}",
            capacity_kwh=cap,
            max_charge_kw=pc,
            max_discharge_kw=pd,
            soc_pct=soc,
            soc_min_pct=5,
            soc_max_pct=95,
            eta_charge=eta,
            eta_discharge=eta,
            degradation_yuan_kwh=deg,
        )
        for i, (cap, pc, pd, soc, eta, deg) in enumerate(fleet)
    ]
    problem = DayAheadProblem(
        prices_yuan_mwh=prices,
        batteries=batteries,
        base_load_kw=[50.0] * T,
        import_max_kw=None if limit is None else limit + 50,
        export_max_kw=limit,
    )
    assert_physical(problem, optimise(problem))


# ---------------------------------------------------------------------------- bids


def test_bids_follow_the_plan_in_both_market_modes() -> None:
    problem = park(daily_prices(), day_start_ms=1_000_000)
    s = optimise(problem)
    quantity = derive_bids(s, problem, "quantity_only", floor_yuan_mwh=-85, cap_yuan_mwh=1500)
    assert all(b.price_yuan_mwh is None for b in quantity)
    signed = {
        b.slot_start_ms: (b.quantity_kw if b.side == "sell" else -b.quantity_kw) for b in quantity
    }
    for t, x in enumerate(s.net_export_kw):
        assert signed.get(1_000_000 + t * 900_000, 0.0) == pytest.approx(x, abs=1e-6)
    priced = derive_bids(s, problem, "price_quantity", floor_yuan_mwh=-85, cap_yuan_mwh=1500)
    assert [b.quantity_kw for b in priced] == [b.quantity_kw for b in quantity]
    assert all(b.price_yuan_mwh is not None and -85 <= b.price_yuan_mwh <= 1500 for b in priced)
    sells = [b for b in priced if b.side == "sell" and b.price_yuan_mwh]
    buys = [b for b in priced if b.side == "buy"]
    assert sells and buys
    # A battery sale is never offered below what its energy cost through the round trip.
    charge_price = np.average(problem.prices_yuan_mwh, weights=s.charge_kw.sum(axis=0))
    assert min(b.price_yuan_mwh for b in sells) >= charge_price  # type: ignore[type-var]


# --------------------------------------------------------------------------- input


def test_impossible_days_are_refused_with_the_reason() -> None:
    with pytest.raises(OptimiserError, match="ev1"):
        optimise(
            park(
                daily_prices(),
                ev=[
                    EvSession(
                        id="ev1",
                        max_kw=10,
                        arrive_slot=0,
                        depart_slot=4,
                        energy_min_kwh=50,
                        energy_max_kwh=60,
                    )
                ],
            )
        )
    with pytest.raises(OptimiserError, match="no feasible"):
        optimise(
            DayAheadProblem(
                prices_yuan_mwh=[100.0] * T,
                batteries=[
                    Battery(
                        id="b",
                        capacity_kwh=100,
                        max_charge_kw=1,
                        max_discharge_kw=1,
                        soc_pct=10,
                        terminal_soc_pct=90,
                    )
                ],
            )
        )
    with pytest.raises(OptimiserError, match="base_load_kw"):
        optimise(DayAheadProblem(prices_yuan_mwh=[1.0] * T, base_load_kw=[1.0]))
    with pytest.raises(OptimiserError, match="probabilities"):
        optimise(
            park(daily_prices()), PriceScenarios(prices_yuan_mwh=[[1.0] * T], probabilities=[0.5])
        )
