"""Day-ahead optimiser (AI_DRIVEN / HYBRID): one LP over the 96 slots of a VPP, in HiGHS.

Variables per slot ``t`` (``dt`` hours): battery charge ``c`` and discharge ``d`` (kW) and
stored energy ``e`` (kWh, end of slot); PV output ``g`` (kW, at most the forecast: the
rest is curtailed); EV charging ``u`` (kW, only inside each session's window); HVAC
electric power ``q`` (kW) and zone temperature ``θ`` (°C); the site's net export ``x``
(kW, + = export). Constraints::

    e[t] = e[t-1] + dt·(η_c·c[t] − d[t]/η_d)                  SoC dynamics, e[-1] = E0
    E_min ≤ e[t] ≤ E_max,  e[T-1] ≥ E_terminal                SoC window, terminal SoC
    x[t] = Σd − Σc + Σg − Σu − Σq − load[t]                   site balance
    −import_max ≤ x[t] ≤ export_max                           point of connection
    E_ev_min ≤ Σ_window dt·u ≤ E_ev_max                       EV energy windows
    θ[t] = a·θ[t-1] + (1−a)·θ_out[t] ∓ γ·q[t],  θ_min ≤ θ ≤ θ_max   HVAC (1R1C), comfort

with ``a = 1 − dt/(R·C)`` and ``γ = dt·COP/C`` (− cooling, + heating). The objective is
expected revenue minus degradation: ``max Σ p̄[t]·x[t]·dt/1000 − Σ k_b·dt·(c + d)`` (prices
in yuan/MWh, ``k_b`` yuan per kWh of throughput).

**Risk-aware variant** (price scenarios ``p_s`` with probabilities ``π_s``, risk weight
``λ``, level ``α``): ``max E[R] − λ·CVaR_α(−R)`` with the Rockafellar–Uryasev rows
``z_s ≥ −R_s − η, z_s ≥ 0``, ``CVaR = η + Σ π_s z_s / (1 − α)``. Degradation is certain, so
it leaves the scenario rows (CVaR is translation invariant) and is weighted ``1 + λ``.

**No simultaneous charge and discharge**, without integer variables: the throughput cost
makes it unprofitable unless prices are very negative; after the solve, every battery slot
with both ``c > 0`` and ``d > 0`` is netted — the direction of its net energy flow is kept
and the other variable is bounded to 0 — and the LP is solved again (warm) until no such
slot is left (at most :data:`MAX_REPAIRS` rounds; :attr:`Schedule.simultaneous` reports
any left, which tests require to be zero).

The model is assembled as arrays (one COO triplet set per constraint family, vectorised
with numpy) and handed to HiGHS in one ``passModel`` call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

import highspy
import msgspec
import numpy as np
import numpy.typing as npt
from msgspec import Meta

from ._engine import Bid

MAX_REPAIRS = 20
MIN_KW = 1e-3
"""Battery power limits below this (1 W) are taken as 0."""
Vector = npt.NDArray[np.float64]
Positive = Annotated[float, Meta(gt=0)]
NonNegative = Annotated[float, Meta(ge=0)]
Efficiency = Annotated[float, Meta(gt=0, le=1)]
Percent = Annotated[float, Meta(ge=0, le=100)]


class OptimiserError(ValueError):
    """The day cannot be planned (infeasible input, or the solver failed); says why."""


class Battery(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    capacity_kwh: Positive
    max_charge_kw: NonNegative
    max_discharge_kw: NonNegative
    soc_pct: Percent
    """At the start of the day."""
    soc_min_pct: Percent = 0.0
    soc_max_pct: Percent = 100.0
    terminal_soc_pct: Percent | None = None
    """At least this at the end of the day; None = at least the starting SoC."""
    eta_charge: Efficiency = 0.95
    eta_discharge: Efficiency = 0.95
    degradation_yuan_kwh: NonNegative = 0.02
    """Cost per kWh of throughput (charged + discharged)."""


class PvPlant(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    forecast_kw: list[NonNegative]
    curtailable: bool = True


class EvSession(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    max_kw: NonNegative
    arrive_slot: Annotated[int, Meta(ge=0)]
    depart_slot: Annotated[int, Meta(ge=1)]
    """Exclusive: charging is possible in ``arrive_slot .. depart_slot - 1``."""
    energy_min_kwh: NonNegative
    energy_max_kwh: NonNegative


class HvacZone(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    max_kw: NonNegative
    cop: Positive
    capacity_kwh_per_k: Positive
    resistance_k_per_kw: Positive
    temp_c: float
    comfort_min_c: float
    comfort_max_c: float
    outdoor_c: list[float]
    mode: Literal["cool", "heat"] = "cool"


class DayAheadProblem(msgspec.Struct, frozen=True, kw_only=True):
    prices_yuan_mwh: list[float]
    """Expected price of each slot (the forecast); one entry per slot."""
    batteries: list[Battery] = []
    pv: list[PvPlant] = []
    ev: list[EvSession] = []
    hvac: list[HvacZone] = []
    base_load_kw: list[float] | None = None
    import_max_kw: NonNegative | None = None
    export_max_kw: NonNegative | None = None
    slot_hours: Positive = 0.25
    day_start_ms: int = 0


class PriceScenarios(msgspec.Struct, frozen=True, kw_only=True):
    prices_yuan_mwh: list[list[float]]
    probabilities: list[NonNegative] | None = None
    """None = equally likely."""
    risk_weight: NonNegative = 0.0
    alpha: Annotated[float, Meta(gt=0, lt=1)] = 0.95


@dataclass(frozen=True, slots=True)
class LinearProgram:
    """``min cost·v + offset`` s.t. ``row_lower ≤ A·v ≤ row_upper``, ``col_lower ≤ v ≤
    col_upper``; ``A`` as COO triplets. The same arrays feed HiGHS and the reference LP."""

    cost: Vector
    col_lower: Vector
    col_upper: Vector
    rows: npt.NDArray[np.int64]
    cols: npt.NDArray[np.int64]
    values: Vector
    row_lower: Vector
    row_upper: Vector
    offset: float
    layout: _Layout

    @property
    def num_col(self) -> int:
        return len(self.cost)

    @property
    def num_row(self) -> int:
        return len(self.row_lower)


@dataclass(frozen=True, slots=True)
class _Layout:
    T: int
    B: int
    P: int
    K: int
    H: int
    S: int
    c: int
    d: int
    e: int
    g: int
    u: int
    q: int
    th: int
    x: int
    eta: int
    z: int


class Schedule(msgspec.Struct, frozen=True, kw_only=True):
    """The optimal plan. Arrays are ``[resource, slot]`` (``[slot]`` for site totals)."""

    objective_yuan: float
    """Expected revenue minus degradation."""
    revenue_yuan: float
    degradation_yuan: float
    cvar_loss_yuan: float | None
    """CVaR_α of the day's loss over the scenarios (None without scenarios)."""
    charge_kw: Vector
    discharge_kw: Vector
    soc_kwh: Vector
    pv_kw: Vector
    ev_kw: Vector
    hvac_kw: Vector
    temp_c: Vector
    net_export_kw: Vector
    repaired: int
    """Battery slots netted after the first solve (simultaneous charge and discharge)."""
    simultaneous: int
    """Battery slots still charging and discharging at once (0 unless repair failed)."""

    @property
    def battery_kw(self) -> Vector:
        """Net battery power, generator convention (+ discharge)."""
        return self.discharge_kw - self.charge_kw


def _vec(values: list[float] | None, n: int, name: str) -> Vector:
    if values is None:
        return np.zeros(n)
    if len(values) != n:
        raise OptimiserError(f"{name} has {len(values)} values for {n} slots")
    return np.asarray(values, dtype=np.float64)


class _Triplets:
    def __init__(self) -> None:
        self.rows: list[npt.NDArray[np.int64]] = []
        self.cols: list[npt.NDArray[np.int64]] = []
        self.vals: list[Vector] = []

    def add(self, rows: npt.ArrayLike, cols: npt.ArrayLike, vals: npt.ArrayLike) -> None:
        r = np.asarray(rows, dtype=np.int64).ravel()
        c = np.asarray(cols, dtype=np.int64).ravel()
        v = np.broadcast_to(np.asarray(vals, dtype=np.float64), r.shape).ravel()
        self.rows.append(r)
        self.cols.append(c)
        self.vals.append(v)

    def arrays(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Vector]:
        return np.concatenate(self.rows), np.concatenate(self.cols), np.concatenate(self.vals)


def build_lp(  # noqa: PLR0912, PLR0915
    problem: DayAheadProblem, scenarios: PriceScenarios | None = None
) -> LinearProgram:
    """The LP of :mod:`this module <hub.strategy._optimise>` as arrays."""
    p = problem
    T = len(p.prices_yuan_mwh)  # noqa: N806 (the model's notation)
    if T == 0:
        raise OptimiserError("no slots: prices_yuan_mwh is empty")
    dt = p.slot_hours
    B, P, K, H = len(p.batteries), len(p.pv), len(p.ev), len(p.hvac)  # noqa: N806
    risk = scenarios is not None and scenarios.risk_weight > 0
    S = len(scenarios.prices_yuan_mwh) if scenarios is not None and risk else 0  # noqa: N806
    c0 = 0
    lay = _Layout(
        T=T, B=B, P=P, K=K, H=H, S=S,
        c=c0, d=c0 + B * T, e=c0 + 2 * B * T, g=3 * B * T, u=3 * B * T + P * T,
        q=3 * B * T + (P + K) * T, th=3 * B * T + (P + K + H) * T,
        x=3 * B * T + (P + K + 2 * H) * T, eta=3 * B * T + (P + K + 2 * H + 1) * T,
        z=3 * B * T + (P + K + 2 * H + 1) * T + (1 if S else 0),
    )  # fmt: skip
    n = lay.z + S
    cost = np.zeros(n)
    lower = np.zeros(n)
    upper = np.full(n, np.inf)

    prices = _vec(p.prices_yuan_mwh, T, "prices_yuan_mwh")
    weight = 1.0
    probabilities: Vector | None = None
    if scenarios is not None:
        matrix = np.asarray(scenarios.prices_yuan_mwh, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != T or matrix.shape[0] == 0:
            raise OptimiserError(f"scenarios must be a non-empty list of {T}-slot price lists")
        m = matrix.shape[0]
        probabilities = (
            np.full(m, 1.0 / m)
            if scenarios.probabilities is None
            else np.asarray(scenarios.probabilities, dtype=np.float64)
        )
        if len(probabilities) != m or not math.isclose(probabilities.sum(), 1.0, rel_tol=1e-9):
            raise OptimiserError("scenario probabilities must be one per scenario and sum to 1")
        prices = probabilities @ matrix
        if risk:
            weight = 1.0 + scenarios.risk_weight

    trip = _Triplets()
    row = 0
    row_lower: list[Vector] = []
    row_upper: list[Vector] = []
    t_idx = np.arange(T)

    # Batteries: bounds, throughput cost, SoC dynamics.
    if B:
        bt = np.arange(B * T)
        cap = np.array([b.capacity_kwh for b in p.batteries])
        e_min = cap * np.array([b.soc_min_pct for b in p.batteries]) / 100
        e_max = cap * np.array([b.soc_max_pct for b in p.batteries]) / 100
        e0 = cap * np.array([b.soc_pct for b in p.batteries]) / 100
        e_term = cap * np.array(
            [b.soc_pct if b.terminal_soc_pct is None else b.terminal_soc_pct for b in p.batteries]
        ) / 100  # fmt: skip
        if (
            np.any(e_min > e_max)
            or np.any(e_term > e_max + 1e-9)
            or np.any(e0 > e_max + 1e-9)
            or np.any(e0 < e_min - 1e-9)
        ):
            bad = next(
                b.id
                for b, lo, hi, s0, st in zip(p.batteries, e_min, e_max, e0, e_term, strict=True)
                if lo > hi or st > hi + 1e-9 or not lo - 1e-9 <= s0 <= hi + 1e-9
            )
            raise OptimiserError(f"battery {bad}: SoC start/terminal outside its SoC window")
        eta_c = np.repeat([b.eta_charge for b in p.batteries], T)
        eta_d = np.repeat([b.eta_discharge for b in p.batteries], T)
        deg = np.repeat([b.degradation_yuan_kwh for b in p.batteries], T) * dt * weight
        upper[lay.c + bt] = np.repeat([b.max_charge_kw for b in p.batteries], T)
        upper[lay.d + bt] = np.repeat([b.max_discharge_kw for b in p.batteries], T)
        lower[lay.e + bt] = np.repeat(e_min, T)
        upper[lay.e + bt] = np.repeat(e_max, T)
        last = lay.e + np.arange(B) * T + T - 1
        lower[last] = np.maximum(e_min, e_term)
        cost[lay.c + bt] = deg
        cost[lay.d + bt] = deg
        rows = row + bt
        trip.add(rows, lay.e + bt, 1.0)
        later = bt[bt % T != 0]
        trip.add(row + later, lay.e + later - 1, -1.0)
        trip.add(rows, lay.c + bt, -dt * eta_c)
        trip.add(rows, lay.d + bt, dt / eta_d)
        rhs = np.zeros(B * T)
        rhs[np.arange(B) * T] = e0
        row_lower.append(rhs)
        row_upper.append(rhs)
        row += B * T

    # PV: output up to the forecast (fixed at it when not curtailable).
    for i, plant in enumerate(p.pv):
        forecast = _vec(plant.forecast_kw, T, f"pv[{i}].forecast_kw")
        cols = lay.g + i * T + t_idx
        upper[cols] = forecast
        lower[cols] = 0.0 if plant.curtailable else forecast

    # EV sessions: charging only inside the window, energy within [min, max].
    for k, session in enumerate(p.ev):
        window = (t_idx >= session.arrive_slot) & (t_idx < session.depart_slot)
        cols = lay.u + k * T + t_idx
        upper[cols] = np.where(window, session.max_kw, 0.0)
        if session.energy_min_kwh > session.max_kw * dt * window.sum() + 1e-9:
            raise OptimiserError(f"ev {session.id}: energy_min_kwh cannot be charged in its window")
        if session.energy_min_kwh > session.energy_max_kwh:
            raise OptimiserError(f"ev {session.id}: energy_min_kwh above energy_max_kwh")
        trip.add(np.full(int(window.sum()), row), cols[window], dt)
        row_lower.append(np.array([session.energy_min_kwh]))
        row_upper.append(np.array([session.energy_max_kwh]))
        row += 1

    # HVAC zones: 1R1C thermal model inside the comfort band.
    for h, zone in enumerate(p.hvac):
        outdoor = _vec(zone.outdoor_c, T, f"hvac[{h}].outdoor_c")
        rc = zone.resistance_k_per_kw * zone.capacity_kwh_per_k
        if dt >= rc:
            raise OptimiserError(f"hvac {zone.id}: time constant R·C must exceed the slot length")
        if zone.comfort_min_c > zone.comfort_max_c:
            raise OptimiserError(f"hvac {zone.id}: comfort_min_c above comfort_max_c")
        a = 1 - dt / rc
        gamma = dt * zone.cop / zone.capacity_kwh_per_k * (1 if zone.mode == "cool" else -1)
        qc = lay.q + h * T + t_idx
        thc = lay.th + h * T + t_idx
        upper[qc] = zone.max_kw
        lower[thc], upper[thc] = zone.comfort_min_c, zone.comfort_max_c
        rows = row + t_idx
        trip.add(rows, thc, 1.0)
        trip.add(rows[1:], thc[:-1], -a)
        trip.add(rows, qc, gamma)
        rhs = (1 - a) * outdoor
        rhs[0] += a * zone.temp_c
        row_lower.append(rhs)
        row_upper.append(rhs.copy())
        row += T

    # Site balance and the point of connection.
    load = _vec(p.base_load_kw, T, "base_load_kw")
    rows = row + t_idx
    trip.add(rows, lay.x + t_idx, 1.0)
    if B:
        rb = np.tile(rows, B)
        bt = np.arange(B * T)
        trip.add(rb, lay.c + bt, 1.0)
        trip.add(rb, lay.d + bt, -1.0)
    for block, count, sign in ((lay.g, P, -1.0), (lay.u, K, 1.0), (lay.q, H, 1.0)):
        if count:
            trip.add(np.tile(rows, count), block + np.arange(count * T), sign)
    row_lower.append(-load)
    row_upper.append(-load)
    row += T
    xc = lay.x + t_idx
    lower[xc] = -np.inf if p.import_max_kw is None else -p.import_max_kw
    upper[xc] = np.inf if p.export_max_kw is None else p.export_max_kw
    cost[xc] = -prices * dt / 1000

    # CVaR rows: z_s + eta + R_s >= 0 with R_s = Σ p_s·x·dt/1000.
    if S:
        assert scenarios is not None
        assert probabilities is not None
        matrix = np.asarray(scenarios.prices_yuan_mwh, dtype=np.float64)
        lam, alpha = scenarios.risk_weight, scenarios.alpha
        lower[lay.eta] = -np.inf
        cost[lay.eta] = lam
        cost[lay.z + np.arange(S)] = lam * probabilities / (1 - alpha)
        rs = row + np.repeat(np.arange(S), T)
        trip.add(rs, np.tile(xc, S), (matrix * dt / 1000).ravel())
        trip.add(row + np.arange(S), np.full(S, lay.eta), 1.0)
        trip.add(row + np.arange(S), lay.z + np.arange(S), 1.0)
        row_lower.append(np.zeros(S))
        row_upper.append(np.full(S, np.inf))
        row += S

    # Limits below a watt are noise to the solver (and to the devices): zero them.
    upper[(upper > 0) & (upper < MIN_KW) & (np.arange(n) < lay.e)] = 0.0
    r, c, v = trip.arrays()
    return LinearProgram(
        cost=cost,
        col_lower=lower,
        col_upper=upper,
        rows=r,
        cols=c,
        values=v,
        row_lower=np.concatenate(row_lower),
        row_upper=np.concatenate(row_upper),
        offset=0.0,
        layout=lay,
    )


def _highs(lp: LinearProgram) -> highspy.Highs:
    order = np.lexsort((lp.rows, lp.cols))
    counts = np.bincount(lp.cols, minlength=lp.num_col)
    model = highspy.HighsLp()
    model.num_col_ = lp.num_col
    model.num_row_ = lp.num_row
    model.col_cost_ = lp.cost
    model.col_lower_ = lp.col_lower
    model.col_upper_ = lp.col_upper
    model.row_lower_ = lp.row_lower
    model.row_upper_ = lp.row_upper
    model.offset_ = lp.offset
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    model.a_matrix_.index_ = lp.rows[order].astype(np.int32)
    model.a_matrix_.value_ = lp.values[order]
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("presolve", "off")
    h.passModel(model)
    return h


def _run(h: highspy.Highs) -> Vector:
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        # Solved without presolve (these models are lean already; it also misjudged models
        # whose bounds sit near its tolerances): ask once more with it before calling the
        # day infeasible.
        h.setOptionValue("presolve", "on")
        h.run()
        h.setOptionValue("presolve", "off")
        status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise OptimiserError(f"no feasible day-ahead plan: {h.modelStatusToString(status)}")
    return np.asarray(h.getSolution().col_value, dtype=np.float64)


def solve_lp(lp: LinearProgram) -> tuple[float, Vector]:
    """Objective value and solution of the LP (HiGHS), no repair."""
    h = _highs(lp)
    x = _run(h)
    return float(lp.cost @ x + lp.offset), x


def _simultaneous(lp: LinearProgram, x: Vector) -> npt.NDArray[np.int64]:
    lay = lp.layout
    n = lay.B * lay.T
    c, d = x[lay.c : lay.c + n], x[lay.d : lay.d + n]
    tol = 1e-7  # kW: anything above solver noise counts
    return np.flatnonzero((c > tol) & (d > tol))


def _cvar(losses: Vector, probabilities: Vector, alpha: float) -> float:
    """Discrete CVaR_α (Rockafellar–Uryasev): min over η of η + E[(L − η)+]/(1 − α)."""
    return float(
        min(eta + probabilities @ np.maximum(losses - eta, 0) / (1 - alpha) for eta in losses)
    )


def optimise(problem: DayAheadProblem, scenarios: PriceScenarios | None = None) -> Schedule:
    """Plan the day: solve, net any simultaneous charge/discharge, solve again."""
    lp = build_lp(problem, scenarios)
    lay = lp.layout
    h = _highs(lp)
    x = _run(h)
    repaired = 0
    for _ in range(MAX_REPAIRS):
        both = _simultaneous(lp, x)
        if not len(both):
            break
        b = both // lay.T
        eta_c = np.array([problem.batteries[i].eta_charge for i in b])
        eta_d = np.array([problem.batteries[i].eta_discharge for i in b])
        net = eta_c * x[lay.c + both] - x[lay.d + both] / eta_d
        cols = np.where(net >= 0, lay.d + both, lay.c + both).astype(np.int32)
        h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.zeros(len(cols)))
        repaired += len(cols)
        x = _run(h)
    left = len(_simultaneous(lp, x))

    T, B, dt = lay.T, lay.B, problem.slot_hours  # noqa: N806

    def block(start: int, count: int) -> Vector:
        return x[start : start + count * T].reshape(count, T).copy()

    charge, discharge = block(lay.c, B), block(lay.d, B)
    net_export = x[lay.x : lay.x + T].copy()
    degradation = float(
        sum(
            bat.degradation_yuan_kwh * dt * (charge[i].sum() + discharge[i].sum())
            for i, bat in enumerate(problem.batteries)
        )
    )
    cvar: float | None = None
    if scenarios is not None:
        matrix = np.asarray(scenarios.prices_yuan_mwh, dtype=np.float64)
        m = matrix.shape[0]
        probabilities = (
            np.full(m, 1.0 / m)
            if scenarios.probabilities is None
            else np.asarray(scenarios.probabilities, dtype=np.float64)
        )
        expected = probabilities @ matrix
        losses = degradation - matrix @ net_export * dt / 1000
        cvar = _cvar(losses, probabilities, scenarios.alpha)
    else:
        expected = np.asarray(problem.prices_yuan_mwh, dtype=np.float64)
    revenue = float(expected @ net_export * dt / 1000)
    return Schedule(
        objective_yuan=revenue - degradation,
        revenue_yuan=revenue,
        degradation_yuan=degradation,
        cvar_loss_yuan=cvar,
        charge_kw=charge,
        discharge_kw=discharge,
        soc_kwh=block(lay.e, B),
        pv_kw=block(lay.g, lay.P),
        ev_kw=block(lay.u, lay.K),
        hvac_kw=block(lay.q, lay.H),
        temp_c=block(lay.th, lay.H),
        net_export_kw=net_export,
        repaired=repaired,
        simultaneous=left,
    )


# -------------------------------------------------------------------------- bids

MarketMode = Literal["price_quantity", "quantity_only"]


def derive_bids(
    schedule: Schedule,
    problem: DayAheadProblem,
    mode: MarketMode,
    *,
    floor_yuan_mwh: float,
    cap_yuan_mwh: float,
    min_quantity_kw: float = 1e-6,
) -> list[Bid]:
    """One bid per slot for the planned net position (sell = export, buy = import).

    Quantity-only markets get quantities. In price-quantity markets each bid carries the
    limit price at which the plan still pays, from the plan itself: a sell the batteries
    serve is offered at the average price of the energy they charged divided by the
    round-trip efficiency, plus the throughput cost; a buy that charges them bids the
    average price they sell at times the round-trip efficiency, minus that cost. A sell
    of PV alone is offered at 0 (curtailing is free); a buy for load alone bids the cap
    (the load needs it). Limits are clipped to ``[floor, cap]``.
    """
    prices = np.asarray(problem.prices_yuan_mwh, dtype=np.float64)
    fleet_c = schedule.charge_kw.sum(axis=0)
    fleet_d = schedule.discharge_kw.sum(axis=0)
    sell_limit, buy_limit = floor_yuan_mwh, cap_yuan_mwh
    if problem.batteries:
        weights = np.array([b.capacity_kwh for b in problem.batteries])
        eta = float(
            np.average([b.eta_charge * b.eta_discharge for b in problem.batteries], weights=weights)
        )
        deg = float(
            np.average([b.degradation_yuan_kwh for b in problem.batteries], weights=weights)
        )
        deg_mwh = deg * 1000 * (1 + 1 / eta)
        if fleet_c.sum() > 0:
            sell_limit = float(prices @ fleet_c / fleet_c.sum()) / eta + deg_mwh
        if fleet_d.sum() > 0:
            buy_limit = float(prices @ fleet_d / fleet_d.sum()) * eta - deg_mwh
    bids = []
    step_ms = round(problem.slot_hours * 3_600_000)
    for t, x in enumerate(schedule.net_export_kw):
        if abs(x) < min_quantity_kw:
            continue
        side: Literal["sell", "buy"] = "sell" if x > 0 else "buy"
        price: float | None = None
        if mode == "price_quantity":
            if side == "sell":
                price = sell_limit if fleet_d[t] > min_quantity_kw else 0.0
            else:
                price = buy_limit if fleet_c[t] > min_quantity_kw else cap_yuan_mwh
            price = min(max(price, floor_yuan_mwh), cap_yuan_mwh)
        bids.append(
            Bid(
                slot_start_ms=problem.day_start_ms + t * step_ms,
                side=side,
                quantity_kw=float(abs(x)),
                price_yuan_mwh=price,
            )
        )
    return bids
