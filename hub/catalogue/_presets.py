"""Preset resource templates shipped with the hub and loaded on first start."""

from __future__ import annotations

from typing import Any

from ._types import Category, ParamSpec


class Preset:
    __slots__ = ("category", "control_interface", "name", "parameters", "type")

    def __init__(
        self,
        name: str,
        type_: str,
        category: Category,
        parameters: dict[str, ParamSpec],
        control_interface: dict[str, Any],
    ) -> None:
        self.name = name
        self.type = type_
        self.category = category
        self.parameters = parameters
        self.control_interface = control_interface


def _n(
    unit: str,
    default: float | None = None,
    lo: float | None = 0.0,
    hi: float | None = None,
    required: bool = False,
    description: str = "",
) -> ParamSpec:
    return ParamSpec(
        type="number",
        unit=unit,
        default=default,
        min=lo,
        max=hi,
        required=required,
        description=description,
    )


def _b(default: bool, description: str = "") -> ParamSpec:
    return ParamSpec(type="boolean", default=default, description=description)


_COMMON = {
    "response_time_s": _n("s", 1.0, 0.0, 3600.0, description="time to reach a new setpoint"),
    "ramp_kw_per_s": _n("kW/s", None, 0.0, description="ramp-rate limit"),
}

PRESETS: tuple[Preset, ...] = (
    Preset(
        "Battery energy storage",
        "battery_storage",
        "STORAGE",
        {
            "rated_kw": _n("kW", required=True, description="rated charge/discharge power"),
            "rated_kwh": _n("kWh", required=True, description="usable energy"),
            "max_charge_kw": _n("kW", None),
            "max_discharge_kw": _n("kW", None),
            "charge_efficiency": _n("", 0.95, 0.0, 1.0),
            "discharge_efficiency": _n("", 0.95, 0.0, 1.0),
            "soc_min_pct": _n("%", 10.0, 0.0, 100.0),
            "soc_max_pct": _n("%", 90.0, 0.0, 100.0),
            **_COMMON,
        },
        {
            "protocol": "modbus-tcp",
            "sunspec_models": [1, 701, 702, 713, 714],
            "register_map": {"p_w": "701.W", "soc_pct": "713.SoC", "p_setpoint_w": "704.WSet"},
            "writable_setpoints": ["p_setpoint_w"],
        },
    ),
    Preset(
        "PV inverter",
        "pv_inverter",
        "GENERATION",
        {
            "rated_kw": _n("kW", required=True),
            "efficiency": _n("", 0.97, 0.0, 1.0),
            "curtailable": _b(True, "output can be limited"),
            **_COMMON,
        },
        {
            "protocol": "modbus-tcp",
            "sunspec_models": [1, 701, 704],
            "register_map": {"p_w": "701.W", "p_limit_pct": "704.WMaxLimPct"},
            "writable_setpoints": ["p_limit_pct"],
        },
    ),
    Preset(
        "EV charger",
        "ev_charger",
        "FLEXIBLE",
        {
            "rated_kw": _n("kW", required=True),
            "min_kw": _n("kW", 0.0),
            "efficiency": _n("", 0.93, 0.0, 1.0),
            **_COMMON,
        },
        {
            "protocol": "opcua",
            "node_map": {"p_w": "ns=2;s=Charger.P", "p_limit_w": "ns=2;s=Charger.PLimit"},
            "writable_setpoints": ["p_limit_w"],
        },
    ),
    Preset(
        "HVAC / chiller",
        "hvac_chiller",
        "FLEXIBLE",
        {
            "rated_kw": _n("kW", required=True),
            "min_kw": _n("kW", 0.0),
            "cop": _n("", 3.5, 0.0, 10.0),
            "temp_band_c": _n("°C", 2.0, 0.0, 10.0),
            "response_time_s": _n("s", 60.0, 0.0, 3600.0),
        },
        {
            "protocol": "opcua",
            "node_map": {"p_w": "ns=2;s=Chiller.P", "setpoint_c": "ns=2;s=Chiller.Setpoint"},
            "writable_setpoints": ["setpoint_c"],
        },
    ),
    Preset(
        "Flexible industrial load",
        "industrial_load",
        "LOAD",
        {
            "rated_kw": _n("kW", required=True),
            "min_kw": _n("kW", 0.0),
            "max_shed_duration_h": _n("h", 2.0),
            "response_time_s": _n("s", 300.0, 0.0, 3600.0),
        },
        {
            "protocol": "modbus-tcp",
            "register_map": {"p_w": "40001", "shed_level": "40010"},
            "writable_setpoints": ["shed_level"],
        },
    ),
    Preset(
        "Gas / diesel generator",
        "gas_generator",
        "GENERATION",
        {
            "rated_kw": _n("kW", required=True),
            "min_kw": _n("kW", 0.0, description="minimum stable output"),
            "efficiency": _n("", 0.38, 0.0, 1.0),
            "curtailable": _b(False),
            "start_time_s": _n("s", 120.0),
            "response_time_s": _n("s", 30.0, 0.0, 3600.0),
        },
        {
            "protocol": "modbus-tcp",
            "register_map": {"p_w": "40100", "p_setpoint_w": "40120", "run": "40121"},
            "writable_setpoints": ["p_setpoint_w", "run"],
        },
    ),
    Preset(
        "Site meter",
        "site_meter",
        "LOAD",
        {
            "rated_kw": _n("kW", required=True, description="point-of-connection rating"),
            "dispatchable": _b(False, "meters measure, they are not dispatched"),
        },
        {
            "protocol": "modbus-tcp",
            "sunspec_models": [1, 203],
            "register_map": {"p_w": "203.W", "e_import_wh": "203.TotWhImp"},
            "writable_setpoints": [],
        },
    ),
)
