"""Simulated park devices (SunSpec Modbus TCP, OPC UA) for tests, benchmarks and demos.

* Sites: :class:`SimSite` runs a :class:`SiteSpec` (from :func:`load_preset` or
  :func:`load_site_config`); :func:`plan_endpoints` says where each device will answer
  (:class:`DeviceEndpoint`) without starting anything.
* Single devices: :func:`run_modbus_device` with :class:`BatteryRegisters`,
  :class:`PVRegisters`, :class:`MeterRegisters` or :class:`EVRegisters` over a physics
  model (:class:`Battery`, :class:`PVInverter`, :class:`Meter`, :class:`EVCharger`).
* Single OPC UA device: ``OpcUaDeviceServer(name, Chiller(...), FaultSet()).serve(host, port)``.
* Faults: :class:`FaultKind`, ``SimSite.set_fault`` / ``clear_fault``, or over the control
  server with :func:`send_control`.
* Errors: :class:`SimError` (root), :class:`SimConfigError`, :class:`SimControlError`.

Imports only :mod:`protocol` of ours; pymodbus and asyncua are imported when a server
starts. Register and node maps: ``docs/sims.md``.
"""

from ._control import send_control
from ._errors import SimConfigError, SimControlError, SimError
from ._faults import FaultKind, FaultSet
from ._modbus import ModbusBusServer, ModbusDeviceServer, run_modbus_device
from ._opcua import NAMESPACE_URI, OpcUaDeviceServer
from ._physics import Battery, Chiller, EVCharger, Meter, PVInverter, Weather, WriteRejected
from ._registers import (
    EV_SIZE,
    BatteryRegisters,
    EVReg,
    EVRegisters,
    ExcCode,
    MeterRegisters,
    PVRegisters,
)
from ._site import (
    DEFAULT_HOST,
    DEFAULT_PORT_BASE,
    PRESET_NAMES,
    BatterySpec,
    DeviceEndpoint,
    DeviceSpec,
    EVChargerSpec,
    FaultSpec,
    HVACSpec,
    MeterSpec,
    PVSpec,
    SimSite,
    SiteSpec,
    load_preset,
    load_site_config,
    parse_site_config,
    plan_endpoints,
)
from ._sunspec import SUNS_BASE, SunSpecMap

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT_BASE",
    "EV_SIZE",
    "NAMESPACE_URI",
    "PRESET_NAMES",
    "SUNS_BASE",
    "Battery",
    "BatteryRegisters",
    "BatterySpec",
    "Chiller",
    "DeviceEndpoint",
    "DeviceSpec",
    "EVCharger",
    "EVChargerSpec",
    "EVReg",
    "EVRegisters",
    "ExcCode",
    "FaultKind",
    "FaultSet",
    "FaultSpec",
    "HVACSpec",
    "Meter",
    "MeterRegisters",
    "MeterSpec",
    "ModbusBusServer",
    "ModbusDeviceServer",
    "OpcUaDeviceServer",
    "PVInverter",
    "PVRegisters",
    "PVSpec",
    "SimConfigError",
    "SimControlError",
    "SimError",
    "SimSite",
    "SiteSpec",
    "SunSpecMap",
    "Weather",
    "WriteRejected",
    "load_preset",
    "load_site_config",
    "parse_site_config",
    "plan_endpoints",
    "run_modbus_device",
    "send_control",
]
