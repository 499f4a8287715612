"""OPC UA adapter (asyncua): subscription where the server supports it, reads otherwise.

The only module of the agent that imports asyncua. Library errors are translated in
:func:`map_opcua_exceptions`.

Node layout: one object per device, variables ``ns=<idx>;s=<object>.<Name>`` in namespace
``opcua_namespace`` (``urn:lingtan:sims`` by default), ``<object>`` being ``opcua_object``
or the device id. Readings: ``Power`` (consumption > 0, reported as ``p_w`` < 0 in the
generator convention), ``SupplyTemp``, ``RoomTemp``, ``COP``, ``EnergyConsumed``, ``Alarm``.

Subscription: the agent subscribes to data changes at the poll interval in callback mode;
the callback only stores the latest value per node (a dict, nothing queued on our side),
so there is no client queue to overflow; the server-side queue size is 1 (latest value
wins, which is what a poller wants). ``notifications`` counts what arrived; a value that
arrives with a bad status (``BadDeviceFailure``...) puts the device in ``error`` until a good
one follows. A slow poll also reads every node directly, which checks the session is alive,
and asks the server whether the subscription still exists (SetPublishingMode): one it dropped
while keeping the session is counted (``subscription_drops``, the runner's
``subscription_drop`` events) and made again in the same session; a lost session is a
reconnect, with a new session, subscription and revert timer. When the server refuses the
subscription the adapter falls back to reading every poll.

Control (a flexible load): a setpoint is a consumption cap. One Write request carries
``RevertSeconds`` (after every connect), ``PowerLimit`` (the cap, W) and ``Setpoint`` (the
room setpoint raised with the curtailed share, within the comfort band: see
``edge_agent._hvac``), so the plant returns to its own defaults by itself if the agent
stops. The rebound after each event is measured and added to the readings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any, Final

from asyncua import ua as _ua
from asyncua.client.client import Client
from asyncua.ua.uaerrors import UaError

from edge_agent._config import DeviceConfig
from edge_agent._errors import DeviceProtocolError, DeviceTimeout
from edge_agent._hvac import Rebound, setpoint_for
from protocol import MetricDef, PointValue
from protocol.clock import Clock, RealClock

from ._base import Reading, Setpoint, WriteResult

_log = logging.getLogger(__name__)
ua: Any = _ua  # its stubs type NodeId's arguments as wrapper classes it also accepts as str/int
NAMESPACE: Final = "urn:lingtan:sims"
READ: Final = {
    "Power": ("p_w", "W"),
    "SupplyTemp": ("supply_temp_c", "C"),
    "RoomTemp": ("room_temp_c", "C"),
    "COP": ("cop", ""),
    "EnergyConsumed": ("e_in_wh", "Wh"),
    "Alarm": ("alarm", ""),
    "Setpoint": ("setpoint_c", "C"),
    "PowerLimit": ("power_limit_w", "W"),
}
REBOUND_POINTS: Final = (
    ("curtailed", ""), ("rebound_active", ""), ("rebound_wh", "Wh"), ("rebound_peak_w", "W"),
)  # fmt: skip
DEFAULT_SETPOINT_C: Final = 24.0


@contextlib.contextmanager
def map_opcua_exceptions(device: str) -> Iterator[None]:
    """Translate asyncua and socket errors into :class:`DeviceError` subclasses."""
    try:
        yield
    except (TimeoutError, ConnectionError, OSError) as exc:
        raise DeviceTimeout(f"{device}: {str(exc) or type(exc).__name__}") from exc
    except UaError as exc:
        raise DeviceProtocolError(f"{device}: {exc}") from exc


class _Latest:
    """asyncua data-change handler: keeps the latest good value per node, counts arrivals,
    remembers which nodes last came with a bad status and whether the server ended the
    subscription (a status-change notification)."""

    def __init__(self, names: dict[Any, str]) -> None:
        self._names = names
        self.values: dict[str, Any] = {}
        self.notifications = 0
        self.bad: dict[str, str] = {}
        self.status_changes = 0

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        name = self._names.get(node.nodeid)
        if name is None:
            return
        self.notifications += 1
        status = getattr(getattr(getattr(data, "monitored_item", None), "Value", None),
                         "StatusCode", None)  # fmt: skip
        if status is not None and not status.is_good():
            self.bad[name] = str(status.name)
            return
        self.bad.pop(name, None)
        self.values[name] = val

    def status_change_notification(self, status: Any) -> None:
        self.status_changes += 1


class OpcUaAdapter:
    """A :class:`~edge_agent.devices.DeviceAdapter` for one OPC UA device."""

    def __init__(self, config: DeviceConfig, *, clock: Clock | None = None) -> None:
        self._cfg = config
        self._clock: Clock = clock or RealClock()
        self._base_c: float | None = config.hvac.setpoint_c
        """The setpoint outside events: configured, else the plant's own at first connect."""
        self._rated_w: float | None = None
        self.rebound = Rebound(window_s=config.hvac.rebound_window_s)
        self._client: Client | None = None
        self._nodes: dict[str, Any] = {}
        self._latest: _Latest | None = None
        self._subscription: Any = None
        self._armed: float | None = None
        self.subscribed = False
        self.subscription_drops = 0
        """Subscriptions the server dropped while the session lived (each restored)."""
        self._status_seen = 0

    @property
    def device(self) -> str:
        return self._cfg.id

    @property
    def controllable(self) -> bool:
        return "PowerLimit" in self._nodes

    def configure(self, config: DeviceConfig) -> None:
        """Follow a new config of the same device (used from the next request on)."""
        self._cfg = config

    async def connect(self) -> None:
        await self.close()
        self._armed = None  # a restarted plant has its revert timer at its default again
        cfg = self._cfg
        client = Client(cfg.endpoint, timeout=cfg.timeout_s)
        self._client = client
        with map_opcua_exceptions(self.device):
            async with asyncio.timeout(cfg.timeout_s * 2):
                await client.connect()
                idx = await client.get_namespace_index(cfg.opcua_namespace)
        obj = cfg.opcua_object or cfg.id
        self._nodes = {
            name: client.get_node(ua.NodeId(f"{obj}.{name}", idx))
            for name in (*READ, "RevertSeconds", "RatedPower")
        }
        self._latest = _Latest({node.nodeid: name for name, node in self._nodes.items()})
        await self._subscribe(client)
        await self._read_all()
        assert self._latest is not None
        if self._base_c is None:
            base = self._latest.values.get("Setpoint")
            if isinstance(base, int | float) and not isinstance(base, bool):
                self._base_c = float(base)
            else:
                self._base_c = DEFAULT_SETPOINT_C
        with contextlib.suppress(DeviceProtocolError, DeviceTimeout, TimeoutError):
            with map_opcua_exceptions(self.device):
                async with asyncio.timeout(cfg.timeout_s):
                    rated = await self._nodes["RatedPower"].read_value()
            if isinstance(rated, int | float) and rated > 0:
                self._rated_w = float(rated)

    async def _subscribe(self, client: Client) -> None:
        """Subscribe to the readings (in callback mode); reads every poll if refused."""
        cfg, latest = self._cfg, self._latest
        assert latest is not None
        self._status_seen = latest.status_changes
        try:
            with map_opcua_exceptions(self.device):
                async with asyncio.timeout(cfg.timeout_s * 2):
                    sub = await client.create_subscription(cfg.poll_interval_s * 1000, latest)
                    await sub.subscribe_data_change([self._nodes[n] for n in READ], queuesize=1)
            self._subscription, self.subscribed = sub, True
        except DeviceProtocolError:
            self._subscription, self.subscribed = None, False

    async def _check_subscription(self) -> None:
        """On slow polls: is the subscription still there? A server may drop it and keep
        the session (restarted behind a gateway, short of resources), and asyncua then
        stops publishing without a word. SetPublishingMode answers per subscription; a
        dropped one is counted and made again in the same session."""
        client, sub, latest = self._client, self._subscription, self._latest
        if client is None or sub is None or latest is None:
            return
        alive = latest.status_changes == self._status_seen
        if alive:
            try:
                with map_opcua_exceptions(self.device):
                    async with asyncio.timeout(self._cfg.timeout_s):
                        codes = await sub.set_publishing_mode(True)
                alive = all(code.is_good() for code in codes)
            except DeviceProtocolError:
                alive = False
        if alive:
            return
        self.subscription_drops += 1
        _log.warning("%s: the server dropped its subscription; subscribing again", self.device)
        self._status_seen = latest.status_changes
        try:  # asyncua's own restore: the same monitored items and handles, a new id
            with map_opcua_exceptions(self.device):
                async with asyncio.timeout(self._cfg.timeout_s * 2):
                    await sub.recreate()
        except DeviceProtocolError:
            self._subscription, self.subscribed = None, False  # read every poll instead

    async def close(self) -> None:
        client, self._client = self._client, None
        self._subscription, self.subscribed = None, False
        if client is not None:
            protocol = getattr(client.uaclient, "protocol", None)
            if protocol is None or getattr(protocol.state, "value", None) != "open":
                # The server is gone already: closing the session would only make asyncua
                # log a traceback (``close_session raised during disconnect``).
                with contextlib.suppress(Exception):
                    client.disconnect_socket()
                return
            with contextlib.suppress(Exception):  # the session may go meanwhile
                async with asyncio.timeout(2.0):
                    await client.disconnect()

    async def _read_all(self) -> None:
        client, latest = self._client, self._latest
        if client is None or latest is None:
            raise DeviceTimeout(f"{self.device}: not connected")
        names = list(READ)
        with map_opcua_exceptions(self.device):
            async with asyncio.timeout(self._cfg.timeout_s):
                results = await client.read_attributes(
                    [self._nodes[n] for n in names], attr=ua.AttributeIds.Value
                )
        # asyncua's read_values hands a bad status back as a None value: check each one
        bad = [
            f"{name} {status.name}"
            for name, r in zip(names, results, strict=True)
            if (status := r.StatusCode) is not None and not status.is_good()
        ]
        if bad:
            raise DeviceProtocolError(f"{self.device}: bad quality: {', '.join(bad)}")
        latest.values.update(
            (name, r.Value.Value if r.Value is not None else None)
            for name, r in zip(names, results, strict=True)
        )

    async def read(self, *, slow: bool = False) -> Reading:
        if slow and self.subscribed:
            await self._check_subscription()
        if slow or not self.subscribed:
            await self._read_all()
        latest = self._latest
        assert latest is not None
        if latest.bad:
            detail = ", ".join(f"{n} {code}" for n, code in sorted(latest.bad.items()))
            raise DeviceProtocolError(f"{self.device}: bad quality: {detail}")
        values: dict[str, PointValue] = {}
        units: dict[str, str] = {}
        for node, (name, unit) in READ.items():
            raw = latest.values.get(node)
            value: PointValue
            if isinstance(raw, bool):
                value = raw
            elif isinstance(raw, int | float):
                value = -float(raw) if node == "Power" else float(raw)
            else:
                value = None
            values[name] = value
            if unit:
                units[name] = unit
        if values.get("alarm") is True:
            raise DeviceProtocolError(f"{self.device}: plant alarm")
        p = values.get("p_w")
        temp = values.get("supply_temp_c")
        room = values.get("room_temp_c")
        if isinstance(p, float):
            values.update(self.rebound.polled(-p, self._clock.monotonic()))
            units.update({n: u for n, u in REBOUND_POINTS if u})
        return Reading(
            values=values,
            units=units,
            p_w=float(p) if isinstance(p, float) else None,
            temp_c=float(temp) if isinstance(temp, float) else None,
            room_temp_c=float(room) if isinstance(room, float) else None,
            events={"subscription_drop": self.subscription_drops},
        )

    def rated_w(self) -> float:
        """The plant's rating: configured ``p_max_charge_w``, else its ``RatedPower``."""
        configured = self._cfg.limits.p_max_charge_w
        return configured if configured > 0 else (self._rated_w or 0.0)

    async def write(self, setpoint: Setpoint) -> WriteResult:
        client = self._client
        if client is None:
            raise DeviceTimeout(f"{self.device}: not connected")
        rated = self.rated_w()
        limit = max(0.0, -setpoint.p_w)  # consumption limit, W
        if rated > 0:
            limit = min(limit, rated)
        seconds = max(1, round(setpoint.revert_s))
        hvac = self._cfg.hvac
        setpoint_c = setpoint_for(
            cap_w=limit, rated_w=rated, base_c=self._base_c or DEFAULT_SETPOINT_C,
            offset_max_c=hvac.setpoint_offset_max_c, comfort_max_c=hvac.comfort_max_c,
        )  # fmt: skip
        nodes = [self._nodes["PowerLimit"], self._nodes["Setpoint"]]
        values = [ua.Variant(limit, ua.VariantType.Double),
                  ua.Variant(setpoint_c, ua.VariantType.Double)]  # fmt: skip
        if self._armed != seconds:  # first, so the writes after it arm the new period
            nodes.insert(0, self._nodes["RevertSeconds"])
            values.insert(0, ua.Variant(seconds, ua.VariantType.UInt32))
        consumption = self._latest.values.get("Power") if self._latest else None
        with map_opcua_exceptions(self.device):
            async with asyncio.timeout(self._cfg.timeout_s):
                await client.write_values(nodes, values)
        self._armed = float(seconds)
        self.rebound.wrote(
            cap_w=limit, rated_w=rated, revert_s=float(seconds),
            consumption_w=float(consumption) if isinstance(consumption, int | float) else 0.0,
            now=self._clock.monotonic(),
        )  # fmt: skip
        return WriteResult(0.0 - limit, float(seconds))

    async def release(self) -> None:
        """Nothing to write: the chiller's revert timer restores its defaults."""
        self._armed = None

    def metrics(self) -> list[MetricDef]:
        return [MetricDef(name=name, unit=unit) for name, unit in (*READ.values(), *REBOUND_POINTS)]


__all__ = ["OpcUaAdapter", "map_opcua_exceptions"]
