"""Register maps: device models rendered into Modbus register images, writes validated.

A :class:`RegisterDevice` owns a register image starting at ``base``. ``refresh()``
re-renders it from the model when the model moved; ``write()`` validates a write request
against the model and applies it, returning a Modbus exception code or ``None``.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Callable
from typing import Final, Protocol

from ._physics import (
    PHASE_V,
    PHASES,
    Battery,
    EVCharger,
    Meter,
    PVInverter,
    WMaxLimControl,
    WriteRejected,
)
from ._sunspec import SUNS_BASE, SunSpecMap, scale_for

MANUFACTURER: Final = "Lingtan"
MAX_RVRT_TMS: Final = 86_400
"""Largest accepted ``*RvrtTms`` (seconds); larger values get illegal data value."""


class ExcCode(enum.IntEnum):
    """Modbus exception codes (the values pymodbus' ``ExcCodes`` use on the wire)."""

    ILLEGAL_FUNCTION = 0x01
    ILLEGAL_ADDRESS = 0x02
    ILLEGAL_VALUE = 0x03
    DEVICE_FAILURE = 0x04
    ACKNOWLEDGE = 0x05
    DEVICE_BUSY = 0x06


class RegisterDevice(Protocol):
    """What the Modbus server needs from a device."""

    base: int
    image: list[int]
    writable: frozenset[int]

    def mark_dirty(self) -> None: ...

    def refresh(self) -> None: ...

    def write(self, address: int, values: list[int]) -> ExcCode | None: ...


def _enum01(value: float) -> int:
    if value not in (0, 1):
        raise WriteRejected(f"must be 0 (disabled) or 1 (enabled), got {value:g}")
    return int(value)


def _pct(value: float) -> float:
    if not 0 <= value <= 100:
        raise WriteRejected(f"must be 0..100 %, got {value:g}")
    return value


def _tms(value: float) -> int:
    if not 0 <= value <= MAX_RVRT_TMS:
        raise WriteRejected(f"must be 0..{MAX_RVRT_TMS} s, got {value:g}")
    return int(value)


Handler = Callable[[float], Callable[[], None]]
"""Validate a decoded value (raise WriteRejected) and return the action that applies it."""


class SunSpecDevice:
    """A SunSpec device: a :class:`SunSpecMap` plus a model rendered into it."""

    base = SUNS_BASE

    def __init__(self, smap: SunSpecMap, common: dict[str, str | int]) -> None:
        self.smap = smap
        self.image = list(smap.template)
        self._common = common
        self._handlers: dict[tuple[int, str], Handler] = self.handlers()
        self.writable = frozenset(
            smap.point(model, name).address + k
            for (model, name) in self._handlers
            for k in range(smap.point(model, name).size)
        )
        self._dirty = True
        self._points = [(smap.point(m, n), v) for (m, n), v in self._constants().items()]
        for p, v in self._points:
            smap.put(self.image, p, v)
        self.refresh()

    def _constants(self) -> dict[tuple[int, str], float | str | None]:
        out: dict[tuple[int, str], float | str | None] = {
            (1, "Mn"): MANUFACTURER,
            (1, "Opt"): "sim",
            (1, "Vr"): "1.0.0",
        }
        for name, value in self._common.items():
            out[(1, name)] = value
        return out

    def handlers(self) -> dict[tuple[int, str], Handler]:
        return {}

    def values(self) -> dict[tuple[int, str], float | str | None]:
        return {}

    def mark_dirty(self) -> None:
        self._dirty = True

    def refresh(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        smap, image = self.smap, self.image
        for (model, name), value in self.values().items():
            smap.put(image, smap.point(model, name), value)

    def write(self, address: int, values: list[int]) -> ExcCode | None:
        self._dirty = True
        self.refresh()
        new = list(self.image)
        i = address - self.base
        new[i : i + len(values)] = values
        end = address + len(values)
        actions: list[Callable[[], None]] = []
        for (model, name), handler in self._handlers.items():
            p = self.smap.point(model, name)
            if p.address >= end or p.address + p.size <= address:
                continue
            raw = self.smap.raw(new, p)
            lo, hi = p.limits()
            if not lo <= raw <= hi:
                return ExcCode.ILLEGAL_VALUE
            value = raw * 10.0 ** self.smap.scale(p)
            try:
                actions.append(handler(value))
            except WriteRejected:
                return ExcCode.ILLEGAL_VALUE
        for action in actions:
            action()
        self._dirty = True
        return None


def _inverter_sf(rated_w: float) -> dict[tuple[int, str], int]:
    w_sf = scale_for(rated_w * 1.2)
    a_sf = scale_for(rated_w / (math.sqrt(3) * 400.0) * 1.2)
    return {
        (701, "A_SF"): a_sf,
        (701, "V_SF"): -1,
        (701, "Hz_SF"): -2,
        (701, "W_SF"): w_sf,
        (701, "PF_SF"): -3,
        (701, "VA_SF"): w_sf,
        (701, "Var_SF"): w_sf,
        (701, "TotWh_SF"): 0,
        (701, "TotVarh_SF"): 0,
        (701, "Tmp_SF"): -1,
        (702, "W_SF"): w_sf,
        (702, "PF_SF"): -3,
        (702, "VA_SF"): w_sf,
        (702, "Var_SF"): w_sf,
        (702, "V_SF"): -1,
        (702, "A_SF"): a_sf,
        (702, "S_SF"): 0,
        (704, "PF_SF"): -3,
        (704, "WMaxLimPct_SF"): -1,
        (704, "WSet_SF"): 0,
        (704, "WSetPct_SF"): -1,
        (704, "VarSet_SF"): 0,
        (704, "VarSetPct_SF"): -1,
    }


def _ac_values(
    p_w: float,
    rated_w: float,
    wh_inj: float,
    wh_abs: float,
    temp_c: float,
    alarm_bits: int,
    inv_st: int,
) -> dict[tuple[int, str], float | str | None]:
    amps = abs(p_w) / (math.sqrt(3) * 400.0)
    return {
        (701, "ACType"): 2,
        (701, "St"): 1,
        (701, "InvSt"): inv_st,
        (701, "ConnSt"): 1,
        (701, "Alrm"): alarm_bits,
        (701, "DERMode"): 0,
        (701, "W"): p_w,
        (701, "VA"): abs(p_w),
        (701, "Var"): 0,
        (701, "PF"): 1.0,
        (701, "A"): amps,
        (701, "LLV"): 400.0,
        (701, "LNV"): PHASE_V,
        (701, "Hz"): 50.0,
        (701, "TotWhInj"): wh_inj,
        (701, "TotWhAbs"): wh_abs,
        (701, "TotVarhInj"): 0,
        (701, "TotVarhAbs"): 0,
        (701, "TmpCab"): temp_c,
        (701, "WL1"): p_w / 3,
        (701, "WL2"): p_w / 3,
        (701, "WL3"): p_w / 3,
        (701, "AL1"): amps,
        (701, "AL2"): amps,
        (701, "AL3"): amps,
        (701, "VL1"): PHASE_V,
        (701, "VL2"): PHASE_V,
        (701, "VL3"): PHASE_V,
        (701, "ThrotPct"): 100.0 if rated_w else 0,
    }


def _capacity_values(
    rated_w: float, wcha: float, wdischa: float
) -> dict[tuple[int, str], float | str | None]:
    return {
        (702, "WMaxRtg"): rated_w,
        (702, "VAMaxRtg"): rated_w,
        (702, "WChaRteMaxRtg"): wcha and rated_w,
        (702, "WDisChaRteMaxRtg"): wdischa and rated_w,
        (702, "VNomRtg"): 400.0,
        (702, "VMaxRtg"): 440.0,
        (702, "VMinRtg"): 360.0,
        (702, "AMaxRtg"): rated_w / (math.sqrt(3) * 400.0),
        (702, "WMax"): rated_w,
        (702, "VAMax"): rated_w,
        (702, "VNom"): 400.0,
    }


def wmaxlim_handlers(m: WMaxLimControl) -> dict[tuple[int, str], Handler]:
    """Write handlers of SunSpec 704 ``WMaxLimPct*`` for any model with that control."""

    def ena(v: float) -> Callable[[], None]:
        e = _enum01(v)
        return lambda: m.write_wmaxlim_ena(e)

    def lim(v: float) -> Callable[[], None]:
        pct = _pct(v)
        return lambda: m.write_wmaxlim_pct(pct)

    def lim_rvrt(v: float) -> Callable[[], None]:
        pct = _pct(v)
        return lambda: setattr(m, "wmaxlim_rvrt_pct", pct)

    def ena_rvrt(v: float) -> Callable[[], None]:
        e = _enum01(v)
        return lambda: setattr(m, "wmaxlim_ena_rvrt", e)

    def tms(v: float) -> Callable[[], None]:
        s = _tms(v)
        return lambda: m.write_wmaxlim_rvrt_tms(s)

    return {
        (704, "WMaxLimPctEna"): ena,
        (704, "WMaxLimPct"): lim,
        (704, "WMaxLimPctRvrt"): lim_rvrt,
        (704, "WMaxLimPctEnaRvrt"): ena_rvrt,
        (704, "WMaxLimPctRvrtTms"): tms,
    }


class BatteryRegisters(SunSpecDevice):
    """Battery storage: models 1, 701, 702, 704, 713, 802."""

    MODELS: Final = [1, 701, 702, 704, 713, 802]

    def __init__(self, model: Battery, common: dict[str, str | int]) -> None:
        self.model = model
        sf = _inverter_sf(model.rated_w)
        wh_sf = max(0, scale_for(model.capacity_wh * 1.2, bits=17))
        dc_a = model.rated_w / model.dc_v
        sf.update(
            {
                (713, "WH_SF"): wh_sf,
                (713, "Pct_SF"): -1,
                (802, "AHRtg_SF"): max(0, scale_for(model.capacity_wh / model.dc_v, bits=17)),
                (802, "WHRtg_SF"): wh_sf,
                (802, "WChaDisChaMax_SF"): sf[(701, "W_SF")],
                (802, "DisChaRte_SF"): -1,
                (802, "SoC_SF"): -1,
                (802, "DoD_SF"): -1,
                (802, "SoH_SF"): -1,
                (802, "V_SF"): -1,
                (802, "CellV_SF"): -3,
                (802, "A_SF"): scale_for(dc_a * 1.2),
                (802, "AMax_SF"): scale_for(dc_a * 1.2),
                (802, "W_SF"): sf[(701, "W_SF")],
            }
        )
        self._sf = sf
        super().__init__(SunSpecMap(self.MODELS, sf), common)

    def _constants(self) -> dict[tuple[int, str], float | str | None]:
        m = self.model
        out = super()._constants()
        out.update(_capacity_values(m.rated_w, m.rated_w, m.rated_w))
        out.update(
            {
                (704, "WSetMod"): 1,
                (704, "WRmp"): m.ramp_pct_per_s,
                (704, "WRmpRef"): 1,
                (713, "WHRtg"): m.capacity_wh,
                (713, "SoH"): 100.0,
                (802, "AHRtg"): m.capacity_wh / m.dc_v,
                (802, "WHRtg"): m.capacity_wh,
                (802, "WChaRteMax"): m.rated_w,
                (802, "WDisChaRteMax"): m.rated_w,
                (802, "SoCMax"): m.soc_max_pct,
                (802, "SoCMin"): m.soc_min_pct,
                (802, "SoH"): 100.0,
                (802, "LocRemCtl"): 0,
                (802, "Typ"): 4,
                (802, "Evt2"): 0,
                (802, "EvtVnd2"): 0,
                (802, "VMax"): m.dc_v * 1.15,
                (802, "VMin"): m.dc_v * 0.85,
            }
        )
        return out

    def handlers(self) -> dict[tuple[int, str], Handler]:
        m = self.model

        def wset(v: float) -> Callable[[], None]:
            m.check_wset(v)  # beyond the allowed power: illegal data value
            return lambda: m.write_wset(v)

        def wset_rvrt(v: float) -> Callable[[], None]:
            if abs(v) > m.rated_w:
                raise WriteRejected(f"WSetRvrt {v:g} W beyond rating")
            return lambda: setattr(m, "wset_rvrt_w", v)

        def wset_mod(v: float) -> Callable[[], None]:
            if v != 1:
                raise WriteRejected("only WSetMod=1 (WATTS) is supported")
            return lambda: None

        def enum_set(attr: str) -> Handler:
            def h(v: float) -> Callable[[], None]:
                ena = _enum01(v)
                return lambda: setattr(m, attr, ena)

            return h

        def ena_w(v: float) -> Callable[[], None]:
            ena = _enum01(v)
            return lambda: m.write_wset_ena(ena)

        def tms_w(v: float) -> Callable[[], None]:
            s = _tms(v)
            return lambda: m.write_wset_rvrt_tms(s)

        return {
            (704, "WSetEna"): ena_w,
            (704, "WSetMod"): wset_mod,
            (704, "WSet"): wset,
            (704, "WSetRvrt"): wset_rvrt,
            (704, "WSetEnaRvrt"): enum_set("wset_ena_rvrt"),
            (704, "WSetRvrtTms"): tms_w,
            **wmaxlim_handlers(m),
        }

    def _floor(self, value: float, sf_point: tuple[int, str]) -> float:
        step = 10.0 ** self._sf[sf_point]
        return math.floor(value / step + 1e-9) * step

    def values(self) -> dict[tuple[int, str], float | str | None]:
        m = self.model
        over_temp = m.temp_c >= m.derate_end_c
        alarm_bits = (1 << 7 if over_temp else 0) | (1 << 16 if m.alarm else 0)
        inv_st = 6 if m.alarm else (3 if abs(m.p_w) > 0.5 else 7)
        out = _ac_values(
            m.p_w, m.rated_w, m.wh_injected, m.wh_absorbed, m.temp_c, alarm_bits, inv_st
        )
        soc_low = m.soc_pct <= m.soc_min_pct + 1e-9
        soc_high = m.soc_pct >= m.soc_max_pct - 1e-9
        if m.p_w > 0.5:
            cha_st = 3
        elif m.p_w < -0.5:
            cha_st = 4
        else:
            cha_st = 2 if soc_low else 5 if soc_high else 6
        evt1 = (
            (1 << 1 if over_temp else 0)
            | (1 << 2 if m.temp_c >= m.derate_start_c else 0)
            | (1 << 14 if soc_low else 0)
            | (1 << 16 if soc_high else 0)
        )
        out.update(
            {
                # floored to the register's resolution: a client may write what it reads
                (702, "WChaRteMax"): self._floor(m.allowed_charge_w, (702, "W_SF")),
                (702, "WDisChaRteMax"): self._floor(m.allowed_discharge_w, (702, "W_SF")),
                (704, "WMaxLimPctEna"): m.wmaxlim_ena,
                (704, "WMaxLimPct"): m.wmaxlim_pct,
                (704, "WMaxLimPctRvrt"): m.wmaxlim_rvrt_pct,
                (704, "WMaxLimPctEnaRvrt"): m.wmaxlim_ena_rvrt,
                (704, "WMaxLimPctRvrtTms"): m.wmaxlim_timer.tms,
                (704, "WMaxLimPctRvrtRem"): m.wmaxlim_timer.remaining(m.t),
                (704, "WSetEna"): m.wset_ena,
                (704, "WSet"): m.wset_w,
                (704, "WSetRvrt"): m.wset_rvrt_w,
                (704, "WSetEnaRvrt"): m.wset_ena_rvrt,
                (704, "WSetRvrtTms"): m.wset_timer.tms,
                (704, "WSetRvrtRem"): m.wset_timer.remaining(m.t),
                (713, "WHAvail"): m.wh_available,
                (713, "SoC"): m.soc_pct,
                (713, "Sta"): 2 if m.alarm else (1 if over_temp else 0),
                (802, "SoC"): m.soc_pct,
                (802, "DoD"): 100.0 - m.soc_pct,
                (802, "NCyc"): int(m.cycles),
                (802, "ChaSt"): cha_st,
                (802, "Hb"): m.heartbeat,
                (802, "State"): 99 if m.alarm else (5 if soc_low or soc_high else 3),
                (802, "Evt1"): evt1,
                (802, "EvtVnd1"): 1 if m.alarm else 0,
                (802, "V"): m.dc_v,
                (802, "CellVAvg"): 3.2 + 0.2 * m.soc_pct / 100.0,
                (802, "A"): m.p_w / m.dc_v,
                (802, "AChaMax"): self._floor(m.allowed_charge_w / m.dc_v, (802, "AMax_SF")),
                (802, "ADisChaMax"): self._floor(m.allowed_discharge_w / m.dc_v, (802, "AMax_SF")),
                (802, "W"): m.p_w,
            }
        )
        return out


class PVRegisters(SunSpecDevice):
    """PV inverter: models 1, 701, 702, 704 (curtailment through WMaxLimPct)."""

    MODELS: Final = [1, 701, 702, 704]

    def __init__(self, model: PVInverter, common: dict[str, str | int]) -> None:
        self.model = model
        super().__init__(SunSpecMap(self.MODELS, _inverter_sf(model.rated_w)), common)

    def _constants(self) -> dict[tuple[int, str], float | str | None]:
        out = super()._constants()
        out.update(_capacity_values(self.model.rated_w, 0, 0))
        out.update({(704, "WSetEna"): 0})
        return out

    def handlers(self) -> dict[tuple[int, str], Handler]:
        m = self.model

        return wmaxlim_handlers(m)

    def values(self) -> dict[tuple[int, str], float | str | None]:
        m = self.model
        inv_st = 6 if m.alarm else (4 if m.curtailed else 3 if m.p_w > 0 else 1)
        out = _ac_values(
            m.p_w,
            m.rated_w,
            m.wh_injected,
            0.0,
            m.weather.outdoor_c(m.t) + 10.0,
            1 << 16 if m.alarm else 0,
            inv_st,
        )
        out.update(
            {
                (701, "ThrotPct"): m.limit_w / m.rated_w * 100.0,
                (701, "ThrotSrc"): 1 if m.curtailed else 0,
                (704, "WMaxLimPctEna"): m.wmaxlim_ena,
                (704, "WMaxLimPct"): m.wmaxlim_pct,
                (704, "WMaxLimPctRvrt"): m.wmaxlim_rvrt_pct,
                (704, "WMaxLimPctEnaRvrt"): m.wmaxlim_ena_rvrt,
                (704, "WMaxLimPctRvrtTms"): m.wmaxlim_timer.tms,
                (704, "WMaxLimPctRvrtRem"): m.wmaxlim_timer.remaining(m.t),
            }
        )
        return out


class MeterRegisters(SunSpecDevice):
    """Site meter: models 1 and 203 (three-phase wye); W > 0 is import."""

    MODELS: Final = [1, 203]

    def __init__(self, model: Meter, common: dict[str, str | int], max_w: float) -> None:
        self.model = model
        w_sf = scale_for(max_w * 1.5)
        sf = {
            (203, "A_SF"): scale_for(max_w * 1.5 / PHASE_V),  # total A = 3 x phase A
            (203, "V_SF"): -1,
            (203, "Hz_SF"): -2,
            (203, "W_SF"): w_sf,
            (203, "VA_SF"): w_sf,
            (203, "VAR_SF"): w_sf,
            (203, "PF_SF"): -2,
            (203, "TotWh_SF"): 0,
            (203, "TotVAh_SF"): 0,
            (203, "TotVArh_SF"): 0,
        }
        super().__init__(SunSpecMap(self.MODELS, sf), common)

    def values(self) -> dict[tuple[int, str], float | str | None]:
        m = self.model
        w = m.import_w
        amps = abs(w) / (PHASES * PHASE_V)
        out: dict[tuple[int, str], float | str | None] = {
            (203, "A"): amps * PHASES,
            (203, "PhV"): PHASE_V,
            (203, "PPV"): 400.0,
            (203, "Hz"): 50.0,
            (203, "W"): w,
            (203, "VA"): abs(w),
            (203, "VAR"): 0,
            (203, "PF"): 100.0,
            (203, "TotWhExp"): int(m.wh_exported) % (1 << 32),
            (203, "TotWhImp"): int(m.wh_imported) % (1 << 32),
            (203, "Evt"): 1 << 14 if m.alarm else 0,
        }
        for ph in "ABC":
            out[(203, f"Aph{ph}")] = amps
            out[(203, f"PhVph{ph}")] = PHASE_V
            out[(203, f"Wph{ph}")] = w / 3
            out[(203, f"VAph{ph}")] = abs(w) / 3
            out[(203, f"PFph{ph}")] = 100.0
        for pair in ("AB", "BC", "CA"):
            out[(203, f"PhVph{pair}")] = 400.0
        return out


# --------------------------------------------------------------------------- EV charger

EV_BASE: Final = 0
EV_MAP_VERSION: Final = 1


class EVReg(enum.IntEnum):
    """The EV charger's holding registers (documented in docs/sims.md)."""

    MAP_VERSION = 0
    STATUS = 1
    POWER_W = 2  # uint32, 2 registers
    SESSION_WH = 4  # uint32
    TOTAL_WH = 6  # uint32
    MAX_CURRENT_DA = 8
    MIN_CURRENT_DA = 9
    CURRENT_LIMIT_DA = 10  # RW
    FALLBACK_CURRENT_DA = 11  # RW
    WATCHDOG_S = 12  # RW
    HEARTBEAT = 13  # RW
    WATCHDOG_REMAINING_S = 14
    WATCHDOG_TRIPPED = 15
    ENERGY_NEED_WH = 16  # uint32
    DEPARTURE_UNIX_S = 18  # uint32
    PHASES = 20
    VOLTAGE_V = 21
    ALARM = 22
    ACTUAL_CURRENT_DA = 23


EV_SIZE: Final = 24
EV_WATCHDOG_MAX_S: Final = 3600


class EVRegisters:
    """The EV charger's custom map (holding registers from 0)."""

    base = EV_BASE

    def __init__(self, model: EVCharger) -> None:
        self.model = model
        self.image = [0] * EV_SIZE
        self.writable: frozenset[int] = frozenset(
            int(r)
            for r in (
                EVReg.CURRENT_LIMIT_DA,
                EVReg.FALLBACK_CURRENT_DA,
                EVReg.WATCHDOG_S,
                EVReg.HEARTBEAT,
            )
        )
        self._dirty = True
        self.refresh()

    def mark_dirty(self) -> None:
        self._dirty = True

    def _put32(self, reg: EVReg, value: float) -> None:
        v = max(0, min(int(value), 0xFFFFFFFF))
        self.image[reg] = v >> 16
        self.image[reg + 1] = v & 0xFFFF

    def refresh(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        m, img = self.model, self.image
        img[EVReg.MAP_VERSION] = EV_MAP_VERSION
        img[EVReg.STATUS] = m.status
        self._put32(EVReg.POWER_W, round(m.p_w))
        self._put32(EVReg.SESSION_WH, m.session_wh)
        self._put32(EVReg.TOTAL_WH, m.total_wh)
        img[EVReg.MAX_CURRENT_DA] = round(m.max_a * 10)
        img[EVReg.MIN_CURRENT_DA] = round(m.min_a * 10)
        img[EVReg.CURRENT_LIMIT_DA] = round(m.limit_a * 10)
        img[EVReg.FALLBACK_CURRENT_DA] = round(m.fallback_a * 10)
        img[EVReg.WATCHDOG_S] = m.watchdog_s
        img[EVReg.HEARTBEAT] = m.heartbeat
        img[EVReg.WATCHDOG_REMAINING_S] = m.watchdog_remaining_s
        img[EVReg.WATCHDOG_TRIPPED] = int(m.watchdog_tripped)
        self._put32(EVReg.ENERGY_NEED_WH, m.need_wh)
        session = m.session
        self._put32(EVReg.DEPARTURE_UNIX_S, 0 if session is None else session.departure)
        img[EVReg.PHASES] = PHASES
        img[EVReg.VOLTAGE_V] = round(PHASE_V)
        img[EVReg.ALARM] = int(m.alarm)
        img[EVReg.ACTUAL_CURRENT_DA] = round(m.p_w / (PHASE_V * PHASES) * 10)

    def write(self, address: int, values: list[int]) -> ExcCode | None:
        m = self.model
        actions: list[Callable[[], None]] = []
        try:
            for k, raw in enumerate(values):
                reg = address + k
                if reg == EVReg.CURRENT_LIMIT_DA:
                    amps = raw / 10.0
                    if not (amps == 0 or m.min_a <= amps <= m.max_a):
                        raise WriteRejected("current limit")
                    actions.append(functools.partial(m.write_limit_a, amps))
                elif reg == EVReg.FALLBACK_CURRENT_DA:
                    amps = raw / 10.0
                    if not (amps == 0 or m.min_a <= amps <= m.max_a):
                        raise WriteRejected("fallback current")
                    actions.append(functools.partial(m.write_fallback_a, amps))
                elif reg == EVReg.WATCHDOG_S:
                    if raw > EV_WATCHDOG_MAX_S:
                        raise WriteRejected("watchdog")
                    actions.append(functools.partial(m.write_watchdog_s, raw))
                elif reg == EVReg.HEARTBEAT:
                    actions.append(m.feed_watchdog)
        except WriteRejected:
            return ExcCode.ILLEGAL_VALUE
        for action in actions:
            action()
        self._dirty = True
        self.refresh()
        return None
