"""Device physics: pure, deterministic state machines stepped by simulated seconds.

Nothing here does I/O or reads a clock: every model keeps its own simulated time ``t``
(Unix seconds) and moves only through ``step(dt)``. Randomness comes from
:class:`Weather`, which derives every random draw from ``(seed, what, slot)`` so results do
not depend on the step size or the order devices are stepped in.

Sign conventions follow :mod:`protocol`: generator convention (battery discharge > 0,
charge < 0, PV > 0); the site meter reports import at the point of connection as > 0.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from dataclasses import dataclass, field
from typing import ClassVar, Final

from ._errors import SimError

SECONDS_PER_DAY: Final = 86_400.0
PHASE_V: Final = 230.0
PHASES: Final = 3


class WriteRejected(SimError):  # noqa: N818 - it is an outcome, named like one
    """A control write outside what the device allows (Modbus illegal data value)."""


def _clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def _rng(seed: int, *key: object) -> random.Random:
    digest = hashlib.blake2b(repr((seed, *key)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))  # noqa: S311 - simulation, not crypto


@dataclass
class RevertTimer:
    """SunSpec ``*RvrtTms`` semantics: re-armed by every accepted write, lapses once."""

    tms: int = 0
    deadline: float | None = None

    def arm(self, now: float) -> None:
        self.deadline = now + self.tms if self.tms > 0 else None

    def remaining(self, now: float) -> int:
        if self.deadline is None:
            return 0
        return max(0, math.ceil(self.deadline - now - 1e-9))

    def lapsed(self, now: float) -> bool:
        if self.deadline is not None and now >= self.deadline - 1e-9:
            self.deadline = None
            return True
        return False


# --------------------------------------------------------------------------- weather


class Weather:
    """Irradiance, outdoor temperature and base load of one site, deterministic per seed.

    Irradiance: Haurwitz clear-sky global horizontal irradiance from the solar zenith
    angle (declination by Cooper's formula, local solar time from longitude) times a seeded
    cloud factor that changes every 10 minutes and is interpolated in between.
    """

    CLOUD_SLOT_S: Final = 600.0
    LOAD_SLOT_S: Final = 900.0

    def __init__(
        self,
        seed: int,
        latitude_deg: float = 31.2,
        longitude_deg: float = 121.5,
        cloudiness: float = 0.3,
        temp_mean_c: float = 27.0,
        temp_amplitude_c: float = 6.0,
    ) -> None:
        self.seed = seed
        self.lat = math.radians(latitude_deg)
        self.lon_deg = longitude_deg
        self.cloudiness = _clamp(cloudiness, 0.0, 1.0)
        self.temp_mean_c = temp_mean_c
        self.temp_amplitude_c = temp_amplitude_c

    def solar_hour(self, t: float) -> float:
        return ((t / 3600.0) + self.lon_deg / 15.0) % 24.0

    def clear_sky_ghi(self, t: float) -> float:
        """Haurwitz clear-sky GHI in W/m²."""
        day = time.gmtime(t).tm_yday - 1
        decl = math.radians(23.45) * math.sin(2 * math.pi * (284 + day + 1) / 365.0)
        hour_angle = math.radians(15.0 * (self.solar_hour(t) - 12.0))
        cos_z = math.sin(self.lat) * math.sin(decl) + math.cos(self.lat) * math.cos(
            decl
        ) * math.cos(hour_angle)
        if cos_z <= 0.01:
            return 0.0
        return 1098.0 * cos_z * math.exp(-0.059 / cos_z)

    def _cloud_slot(self, slot: int) -> float:
        rng = _rng(self.seed, "cloud", slot)
        if rng.random() < self.cloudiness:
            return rng.uniform(0.25, 0.85)
        return rng.uniform(0.95, 1.0)

    def cloud_factor(self, t: float) -> float:
        """Fraction of clear-sky irradiance reaching the panels (0.25..1)."""
        x = t / self.CLOUD_SLOT_S
        slot = math.floor(x)
        frac = x - slot
        return (1 - frac) * self._cloud_slot(slot) + frac * self._cloud_slot(slot + 1)

    def ghi(self, t: float) -> float:
        return self.clear_sky_ghi(t) * self.cloud_factor(t)

    def outdoor_c(self, t: float) -> float:
        """Daily sine, warmest at 15:00 solar time."""
        phase = 2 * math.pi * (self.solar_hour(t) - 15.0) / 24.0
        return self.temp_mean_c + self.temp_amplitude_c * math.cos(phase)

    def load_w(self, t: float, peak_w: float) -> float:
        """Industrial park base load: night floor, working-day plateau, ±5 % seeded noise."""
        h = self.solar_hour(t)
        shape = 0.35 + 0.65 * _clamp(min(h - 6.5, 19.0 - h) / 1.5, 0.0, 1.0)
        noise = _rng(self.seed, "load", int(t // self.LOAD_SLOT_S)).uniform(-0.05, 0.05)
        return peak_w * shape * (1 + noise)


# --------------------------------------------------------------------------- battery


@dataclass(kw_only=True)
class WMaxLimControl:
    """SunSpec 704 ``WMaxLimPct`` with its revert timer, as every DER model here has it.

    A write re-arms the timer; when it lapses without a refresh the limit and its enable
    return to ``wmaxlim_rvrt_pct`` / ``wmaxlim_ena_rvrt`` and ``reverts`` counts it.
    """

    t: float = 0.0
    wmaxlim_ena: int = 0
    wmaxlim_pct: float = 100.0
    wmaxlim_rvrt_pct: float = 100.0
    wmaxlim_ena_rvrt: int = 0
    wmaxlim_timer: RevertTimer = field(default_factory=RevertTimer)
    reverts: int = 0

    def write_wmaxlim_pct(self, pct: float) -> None:
        self.wmaxlim_pct = pct
        self.wmaxlim_timer.arm(self.t)
        self.reverts = 0

    def write_wmaxlim_ena(self, ena: int) -> None:
        self.wmaxlim_ena = ena
        self.wmaxlim_timer.arm(self.t)
        self.reverts = 0

    def write_wmaxlim_rvrt_tms(self, tms: int) -> None:
        self.wmaxlim_timer.tms = tms
        self.wmaxlim_timer.arm(self.t)

    def _reset_wmaxlim(self) -> None:
        """Power-on defaults of the 704 limit: disabled, 100 %, revert timer off."""
        self.wmaxlim_ena, self.wmaxlim_pct = 0, 100.0
        self.wmaxlim_rvrt_pct, self.wmaxlim_ena_rvrt = 100.0, 0
        self.wmaxlim_timer = RevertTimer()
        self.reverts = 0

    def _step_wmaxlim(self) -> None:
        if self.wmaxlim_timer.lapsed(self.t):
            self.wmaxlim_pct, self.wmaxlim_ena = self.wmaxlim_rvrt_pct, self.wmaxlim_ena_rvrt
            self.reverts += 1


@dataclass
class Battery(WMaxLimControl):
    """A battery storage system with SunSpec 704 controls (generator convention).

    * ``wset_w`` applies while ``wset_ena``; the revert timer (``WSetRvrtTms``) restores
      ``wset_rvrt_w`` / ``wset_ena_rvrt`` (defaults 0 W / disabled) when it lapses.
    * ``wmaxlim_pct`` caps |power| at that percentage of ``rated_w`` while enabled, with its
      own revert timer.
    * Allowed discharge/charge power shrink linearly over the last ``taper_pct`` of SoC
      before ``soc_min_pct`` / ``soc_max_pct`` and from ``derate_start_c`` to
      ``derate_end_c`` of cell temperature. A WSet beyond them is rejected; if they
      shrink under an accepted setpoint, the power is limited (never the setpoint).
    """

    rated_w: float
    capacity_wh: float
    soc_pct: float = 50.0
    soc_min_pct: float = 5.0
    soc_max_pct: float = 95.0
    taper_pct: float = 5.0
    eta_charge: float = 0.96
    eta_discharge: float = 0.96
    ramp_pct_per_s: float = 10.0
    self_discharge_pct_per_day: float = 0.5
    ambient_c: float = 25.0
    temp_c: float = 25.0
    heat_rise_c: float = 20.0
    thermal_tau_s: float = 1800.0
    derate_start_c: float = 40.0
    derate_end_c: float = 50.0
    dc_v: float = 700.0
    p_w: float = 0.0
    wset_ena: int = 0
    wset_w: float = 0.0
    wset_rvrt_w: float = 0.0
    wset_ena_rvrt: int = 0
    wset_timer: RevertTimer = field(default_factory=RevertTimer)
    wh_injected: float = 0.0
    wh_absorbed: float = 0.0
    cycles: float = 0.0
    alarm: bool = False
    heartbeat: int = 0

    @property
    def soc_wh(self) -> float:
        return self.capacity_wh * self.soc_pct / 100.0

    @property
    def active_setpoint_w(self) -> float:
        """The setpoint in force now (0 when WSet is disabled)."""
        return self.wset_w if self.wset_ena else 0.0

    @property
    def reverted(self) -> bool:
        """True once a revert timer has lapsed since the last accepted control write."""
        return self.reverts > 0

    def _temp_factor(self) -> float:
        span = self.derate_end_c - self.derate_start_c
        return _clamp((self.derate_end_c - self.temp_c) / span, 0.0, 1.0)

    @property
    def allowed_discharge_w(self) -> float:
        soc_f = _clamp((self.soc_pct - self.soc_min_pct) / self.taper_pct, 0.0, 1.0)
        return 0.0 if self.alarm else self.rated_w * soc_f * self._temp_factor()

    @property
    def allowed_charge_w(self) -> float:
        soc_f = _clamp((self.soc_max_pct - self.soc_pct) / self.taper_pct, 0.0, 1.0)
        return 0.0 if self.alarm else self.rated_w * soc_f * self._temp_factor()

    @property
    def wh_available(self) -> float:
        return max(0.0, self.capacity_wh * (self.soc_pct - self.soc_min_pct) / 100.0)

    def target_w(self) -> float:
        target = self.active_setpoint_w
        if self.wmaxlim_ena:
            cap = self.rated_w * self.wmaxlim_pct / 100.0
            target = _clamp(target, -cap, cap)
        return _clamp(target, -self.allowed_charge_w, self.allowed_discharge_w)

    # -- control writes (validated; raise WriteRejected) --

    def check_wset(self, w: float) -> None:
        if not -self.allowed_charge_w - 1e-6 <= w <= self.allowed_discharge_w + 1e-6:
            raise WriteRejected(
                f"WSet {w:.0f} W outside allowed range "
                f"[{-self.allowed_charge_w:.0f}, {self.allowed_discharge_w:.0f}] W"
            )

    def write_wset(self, w: float) -> None:
        self.check_wset(w)
        self.wset_w = w
        self.wset_timer.arm(self.t)
        self.reverts = 0

    def write_wset_ena(self, ena: int) -> None:
        self.wset_ena = ena
        self.wset_timer.arm(self.t)
        self.reverts = 0

    def write_wset_rvrt_tms(self, tms: int) -> None:
        self.wset_timer.tms = tms
        self.wset_timer.arm(self.t)

    def power_on_reset(self) -> None:
        """A restart: control points back to their defaults, revert timers disabled; the
        power electronics start from 0 W (the cells keep their charge)."""
        self._reset_wmaxlim()
        self.wset_ena, self.wset_w = 0, 0.0
        self.wset_rvrt_w, self.wset_ena_rvrt = 0.0, 0
        self.wset_timer = RevertTimer()
        self.p_w = 0.0

    # -- physics --

    def step(self, dt: float) -> None:
        self.t += dt
        if self.wset_timer.lapsed(self.t):
            self.wset_w, self.wset_ena = self.wset_rvrt_w, self.wset_ena_rvrt
            self.reverts += 1
        self._step_wmaxlim()
        target = self.target_w()
        max_delta = self.rated_w * self.ramp_pct_per_s / 100.0 * dt
        self.p_w = _clamp(target, self.p_w - max_delta, self.p_w + max_delta)
        # never leave the limits, whatever the ramp says
        self.p_w = _clamp(self.p_w, -self.allowed_charge_w, self.allowed_discharge_w)
        hours = dt / 3600.0
        if hours > 0:  # never integrate past the SoC window within one step
            headroom_wh = self.capacity_wh * (self.soc_max_pct - self.soc_pct) / 100.0
            reserve_wh = self.capacity_wh * (self.soc_pct - self.soc_min_pct) / 100.0
            max_charge = max(0.0, headroom_wh) / (self.eta_charge * hours)
            max_discharge = max(0.0, reserve_wh) * self.eta_discharge / hours
            self.p_w = _clamp(self.p_w, -max_charge, max_discharge)
        if self.p_w >= 0:
            dc_wh = self.p_w * hours / self.eta_discharge
            self.wh_injected += self.p_w * hours
        else:
            dc_wh = self.p_w * hours * self.eta_charge
            self.wh_absorbed += -self.p_w * hours
        dc_wh += self.capacity_wh * self.self_discharge_pct_per_day / 100.0 * dt / SECONDS_PER_DAY
        self.cycles += abs(dc_wh) / (2 * self.capacity_wh)
        self.soc_pct = _clamp(self.soc_pct - 100.0 * dc_wh / self.capacity_wh, 0.0, 100.0)
        heat_target = self.ambient_c + self.heat_rise_c * abs(self.p_w) / self.rated_w
        self.temp_c += (heat_target - self.temp_c) * min(1.0, dt / self.thermal_tau_s)
        self.heartbeat = (self.heartbeat + 1) & 0xFFFF


# --------------------------------------------------------------------------- PV


@dataclass
class PVInverter(WMaxLimControl):
    """A PV inverter: DC power follows irradiance; WMaxLimPct curtails it (with revert)."""

    rated_w: float
    weather: Weather
    dc_ratio: float = 1.1
    temp_coeff_per_c: float = -0.004
    p_w: float = 0.0
    wh_injected: float = 0.0
    alarm: bool = False

    @property
    def available_w(self) -> float:
        ghi = self.weather.ghi(self.t)
        cell_c = self.weather.outdoor_c(self.t) + ghi / 800.0 * 25.0
        derate = 1.0 + self.temp_coeff_per_c * (cell_c - 25.0)
        dc = self.rated_w * self.dc_ratio * ghi / 1000.0 * derate
        return 0.0 if self.alarm else _clamp(dc * 0.98, 0.0, self.rated_w)

    @property
    def limit_w(self) -> float:
        return self.rated_w * self.wmaxlim_pct / 100.0 if self.wmaxlim_ena else self.rated_w

    @property
    def curtailed(self) -> bool:
        return self.available_w > self.limit_w + 1.0

    @property
    def reverted(self) -> bool:
        return self.reverts > 0

    def power_on_reset(self) -> None:
        """A restart: no power limit, revert timer disabled."""
        self._reset_wmaxlim()

    def step(self, dt: float) -> None:
        self.t += dt
        self._step_wmaxlim()
        self.p_w = min(self.available_w, self.limit_w)
        self.wh_injected += self.p_w * dt / 3600.0


# --------------------------------------------------------------------------- EV charger


@dataclass(frozen=True)
class EVSession:
    arrival: float
    departure: float
    need_wh: float
    max_w: float


@dataclass
class EVCharger:
    """A three-phase AC charger with a current limit, a watchdog and daily seeded sessions.

    The current limit (``limit_a``; 0 pauses charging) is the control. When the watchdog
    (``watchdog_s`` > 0) sees no control write or heartbeat for ``watchdog_s`` seconds, the
    limit falls back to ``fallback_a`` (default: the charger's rated current, i.e.
    uncontrolled charging, as chargers do when their energy manager disappears).
    """

    max_a: float
    seed: int
    index: int
    tz_offset_s: float = 0.0
    """Local solar time minus UTC (arrivals are drawn in local time)."""
    min_a: float = 6.0
    presence_probability: float = 0.85
    t: float = 0.0
    p_w: float = 0.0
    limit_a: float = -1.0
    fallback_a: float = -1.0
    watchdog_s: int = 0
    last_heartbeat: float = 0.0
    heartbeat: int = 0
    watchdog_tripped: bool = False
    session_wh: float = 0.0
    total_wh: float = 0.0
    alarm: bool = False
    _session: EVSession | None = None
    _session_started: float = -1.0

    def __post_init__(self) -> None:
        if self.limit_a < 0:
            self.limit_a = self.max_a
        if self.fallback_a < 0:
            self.fallback_a = self.max_a

    @property
    def rated_w(self) -> float:
        return self.max_a * PHASE_V * PHASES

    def session_for_day(self, day: int) -> EVSession | None:
        rng = _rng(self.seed, "ev", self.index, day)
        if rng.random() > self.presence_probability:
            return None
        arrival = day * SECONDS_PER_DAY - self.tz_offset_s + rng.uniform(6.5, 10.0) * 3600.0
        departure = arrival + rng.uniform(4.0, 10.0) * 3600.0
        return EVSession(
            arrival,
            departure,
            rng.uniform(8_000.0, 45_000.0),
            rng.choice([7_400.0, 11_000.0, 22_000.0]),
        )

    @property
    def session(self) -> EVSession | None:
        return self._session

    @property
    def connected(self) -> bool:
        return self._session is not None

    @property
    def need_wh(self) -> float:
        return 0.0 if self._session is None else max(0.0, self._session.need_wh - self.session_wh)

    @property
    def status(self) -> int:
        """0 available, 1 connected/idle, 2 charging, 3 paused by limit, 4 fault."""
        if self.alarm:
            return 4
        if self._session is None:
            return 0
        if self.p_w > 0:
            return 2
        if self.limit_a < self.min_a and self.need_wh > 0:
            return 3
        return 1

    def write_limit_a(self, amps: float) -> None:
        if not (amps == 0 or self.min_a <= amps <= self.max_a):
            raise WriteRejected(
                f"current limit {amps} A: must be 0 or {self.min_a}..{self.max_a} A"
            )
        self.limit_a = amps
        self.feed_watchdog()

    def write_fallback_a(self, amps: float) -> None:
        if not (amps == 0 or self.min_a <= amps <= self.max_a):
            raise WriteRejected(
                f"fallback current {amps} A: must be 0 or {self.min_a}..{self.max_a} A"
            )
        self.fallback_a = amps

    def power_on_reset(self) -> None:
        """A restart: full current limit and fallback, watchdog disabled."""
        self.limit_a = self.fallback_a = self.max_a
        self.watchdog_s = 0
        self.watchdog_tripped = False

    def write_watchdog_s(self, seconds: int) -> None:
        self.watchdog_s = seconds
        self.feed_watchdog()

    def feed_watchdog(self) -> None:
        self.last_heartbeat = self.t
        self.heartbeat = (self.heartbeat + 1) & 0xFFFF
        self.watchdog_tripped = False

    @property
    def watchdog_remaining_s(self) -> int:
        if self.watchdog_s <= 0 or self.watchdog_tripped:
            return 0
        return max(0, math.ceil(self.last_heartbeat + self.watchdog_s - self.t))

    def _update_session(self) -> None:
        day = int((self.t + self.tz_offset_s) // SECONDS_PER_DAY)
        if self._session is not None and self.t >= self._session.departure:
            self._session = None
        if self._session is None:
            for d in (day - 1, day):
                s = self.session_for_day(d)
                if (
                    s is not None
                    and s.arrival <= self.t < s.departure
                    and (self._session_started != s.arrival)
                ):
                    self._session = s
                    self._session_started = s.arrival
                    self.session_wh = 0.0

    def step(self, dt: float) -> None:
        self.t += dt
        expired = self.t - self.last_heartbeat >= self.watchdog_s
        if self.watchdog_s > 0 and not self.watchdog_tripped and expired:
            self.watchdog_tripped = True
            self.limit_a = self.fallback_a
        self._update_session()
        if self._session is None or self.alarm or self.limit_a < self.min_a:
            self.p_w = 0.0
            return
        charge_dt = min(dt, self.t - self._session.arrival)
        p = min(self.limit_a * PHASE_V * PHASES, self._session.max_w)
        if charge_dt > 0:
            p = min(p, self.need_wh * 3600.0 / charge_dt)
        self.p_w = max(0.0, p)
        wh = self.p_w * max(0.0, charge_dt) / 3600.0
        self.session_wh += wh
        self.total_wh += wh


# --------------------------------------------------------------------------- HVAC


@dataclass
class Chiller:
    """A chiller plant cooling a building modelled as one RC node.

    ``C dT/dt = (T_out - T)/R + Q_internal - Q_cool`` with ``Q_cool = COP * P``. A
    proportional controller runs the compressor between 0 and ``min(power_limit, rated)``
    to hold ``setpoint_c``. Writes to the setpoint or the power limit re-arm the revert
    timer (``revert_s``; 0 = never); when it lapses both return to their defaults.
    """

    rated_w: float
    weather: Weather
    default_setpoint_c: float = 24.0
    room_c: float = 26.0
    cop_nominal: float = 5.0
    tau_s: float = 3 * 3600.0
    t: float = 0.0
    p_w: float = 0.0
    cop: float = 5.0
    supply_c: float = 7.0
    setpoint_c: float = 24.0
    power_limit_w: float = -1.0
    revert: RevertTimer = field(default_factory=RevertTimer)
    alarm: bool = False
    reverts: int = 0
    wh_consumed: float = 0.0

    SETPOINT_RANGE: ClassVar[tuple[float, float]] = (16.0, 30.0)

    def __post_init__(self) -> None:
        if self.power_limit_w < 0:
            self.power_limit_w = self.rated_w
        cooling_w = self.rated_w * self.cop_nominal
        self.internal_gain_w = 0.35 * cooling_w
        self.r_k_per_w = 11.0 / (0.45 * cooling_w)
        self.c_j_per_k = self.tau_s / self.r_k_per_w

    @property
    def reverted(self) -> bool:
        return self.reverts > 0

    def write_setpoint(self, celsius: float) -> None:
        lo, hi = self.SETPOINT_RANGE
        if not lo <= celsius <= hi:
            raise WriteRejected(f"Setpoint {celsius} °C outside {lo}..{hi} °C")
        self.setpoint_c = celsius
        self.revert.arm(self.t)
        self.reverts = 0

    def write_power_limit_w(self, watts: float) -> None:
        if not 0 <= watts <= self.rated_w:
            raise WriteRejected(f"PowerLimit {watts} W outside 0..{self.rated_w} W")
        self.power_limit_w = watts
        self.revert.arm(self.t)
        self.reverts = 0

    def write_revert_s(self, seconds: int) -> None:
        if not 0 <= seconds <= 86_400:
            raise WriteRejected(f"RevertSeconds {seconds} outside 0..86400")
        self.revert.tms = seconds
        self.revert.arm(self.t)

    def power_on_reset(self) -> None:
        """A restart: default setpoint, no power limit, revert timer disabled."""
        self.setpoint_c, self.power_limit_w = self.default_setpoint_c, self.rated_w
        self.revert = RevertTimer()
        self.reverts = 0

    def step(self, dt: float) -> None:
        self.t += dt
        if self.revert.lapsed(self.t):
            self.setpoint_c, self.power_limit_w = self.default_setpoint_c, self.rated_w
            self.reverts += 1
        t_out = self.weather.outdoor_c(self.t)
        self.cop = _clamp(self.cop_nominal - 0.1 * (t_out - 25.0), 2.0, 7.0)
        limit = 0.0 if self.alarm else min(self.power_limit_w, self.rated_w)
        # The controller and the thermal node advance together in sub-steps of at most a
        # minute, so a long step stays what many short ones would give.
        sub = max(1, math.ceil(dt / 60.0))
        sub_dt = dt / sub
        for _ in range(sub):
            demand = _clamp((self.room_c - self.setpoint_c + 1.0) / 2.0, 0.0, 1.0)
            wanted = demand * self.rated_w
            self.p_w = min(wanted, limit)
            unmet = 0.0 if wanted <= 0 else 1.0 - self.p_w / wanted
            self.supply_c = 7.0 + 8.0 * unmet
            q_cool = self.cop * self.p_w
            flow = (t_out - self.room_c) / self.r_k_per_w + self.internal_gain_w - q_cool
            self.room_c += flow * sub_dt / self.c_j_per_k
            self.wh_consumed += self.p_w * sub_dt / 3600.0


# --------------------------------------------------------------------------- meter


@dataclass
class Meter:
    """The site meter: import at the point of connection is positive."""

    t: float = 0.0
    import_w: float = 0.0
    wh_imported: float = 0.0
    wh_exported: float = 0.0
    alarm: bool = False

    def power_on_reset(self) -> None:
        """A restart: a meter has no control points (its energy registers persist)."""

    def step(self, dt: float, import_w: float) -> None:
        self.t += dt
        self.import_w = import_w
        if import_w >= 0:
            self.wh_imported += import_w * dt / 3600.0
        else:
            self.wh_exported += -import_w * dt / 3600.0
