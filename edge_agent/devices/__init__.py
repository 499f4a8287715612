"""Device adapters: one :class:`DeviceAdapter` protocol, one module per device protocol.

``edge_agent.devices.modbus`` and ``edge_agent.devices.opcua`` are the only modules that
import pymodbus and asyncua; import them directly (they are heavy and optional).
"""

from ._base import DeviceAdapter, DeviceStatus, Reading, Setpoint, WriteResult

__all__ = ["DeviceAdapter", "DeviceStatus", "Reading", "Setpoint", "WriteResult"]
