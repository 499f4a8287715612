"""The seam between the agent and a device protocol: :class:`DeviceAdapter`.

One adapter per device connection. It is reusable but not reentrant: ``connect()`` opens
the connection, ``close()`` drops it, and the device runner calls ``connect()`` again to
reconnect. Library errors never cross this seam: every adapter raises only
:class:`~edge_agent.DeviceError` subclasses (see ``edge_agent._errors``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from protocol import MetricDef, PointValue

if TYPE_CHECKING:
    from edge_agent._config import DeviceConfig


class DeviceStatus(enum.StrEnum):
    """Device availability, logged once per change."""

    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Reading:
    """One poll of one device: named values plus the ones the control loop needs."""

    values: Mapping[str, PointValue]
    units: Mapping[str, str] = field(default_factory=dict)
    p_w: float | None = None
    """Active power, generator convention; for a meter, point-of-connection import."""
    soc_pct: float | None = None
    temp_c: float | None = None
    bms_max_charge_w: float | None = None
    bms_max_discharge_w: float | None = None
    rated_w: float | None = None
    setpoint_w: float | None = None
    """The setpoint the device reports being in force (read back), if any."""
    room_temp_c: float | None = None
    """HVAC: the building's temperature (the comfort band's reference)."""
    fresh: frozenset[str] | None = None
    """Names in ``values`` read by this poll (None: all); only these go to telemetry, the
    rest are the latest known values of slow points."""
    events: Mapping[str, int] = field(default_factory=dict)
    """Counts since the adapter was made of what it recovered from by itself (an OPC UA
    subscription the server dropped: ``subscription_drop``); the runner exports the growth."""


@dataclass(frozen=True, slots=True)
class Setpoint:
    """What to write: active power (W, generator convention), and the fail-safe period."""

    p_w: float
    revert_s: float


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What the device accepted: ``p_w`` is the value its registers hold after the write
    (scale factor, percent steps and rounding applied); ``revert_s`` is the armed device
    fail-safe (None: none offered)."""

    p_w: float
    revert_s: float | None


@runtime_checkable
class DeviceAdapter(Protocol):
    """One device connection, whatever its protocol."""

    @property
    def device(self) -> str:
        """The device id from the config."""
        ...

    @property
    def controllable(self) -> bool:
        """Whether :meth:`write` is supported (after :meth:`connect`)."""
        ...

    def configure(self, config: DeviceConfig) -> None:
        """Follow a new config of the same device (limits, revert period pushed by the hub)."""
        ...

    async def connect(self) -> None:
        """Open the connection (and discover the register map); raise DeviceError."""
        ...

    async def close(self) -> None:
        """Drop the connection; never raises."""
        ...

    async def read(self, *, slow: bool = False) -> Reading:
        """Read the fast points, plus the next slow group when ``slow``; raise DeviceError."""
        ...

    async def write(self, setpoint: Setpoint) -> WriteResult:
        """Write an active power setpoint, arming the device's fail-safe if it has one."""
        ...

    async def release(self) -> None:
        """Give control back to the device's own default (used at shutdown)."""
        ...

    def metrics(self) -> list[MetricDef]:
        """The metric catalogue for ``birth`` (after :meth:`connect`)."""
        ...


__all__ = ["DeviceAdapter", "DeviceStatus", "Reading", "Setpoint", "WriteResult"]
