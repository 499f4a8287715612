"""Test doubles at our own seam: a :class:`DeviceAdapter` over a tiny site model.

Nothing here patches a library: ``FakeSite`` is a physics toy (load, batteries that follow
their setpoint, PV, a meter at the point of connection) and ``FakeAdapter`` implements our
``DeviceAdapter`` protocol over it, on the test's clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_agent import DeviceConfig, DeviceProtocolError, DeviceTimeout
from edge_agent.devices import Reading, Setpoint, WriteResult
from protocol import MetricDef
from protocol.clock import Clock


@dataclass
class FakeBattery:
    rated_w: float = 100_000.0
    soc_pct: float = 50.0
    setpoint_w: float = 0.0
    enabled: bool = False
    revert_s: float | None = None
    temp_c: float = 25.0


@dataclass
class FakeSite:
    """Load, batteries, PV and a meter: ``import = load - batteries - pv``."""

    load_w: float = 50_000.0
    pv_w: float = 0.0
    batteries: dict[str, FakeBattery] = field(default_factory=dict)
    pv_cap_w: dict[str, float] = field(default_factory=dict)

    def battery_w(self, name: str) -> float:
        b = self.batteries[name]
        return b.setpoint_w if b.enabled else 0.0

    @property
    def import_w(self) -> float:
        pv = sum(min(self.pv_w, cap) for cap in self.pv_cap_w.values()) if self.pv_cap_w else 0
        return self.load_w - sum(self.battery_w(n) for n in self.batteries) - pv


class FakeAdapter:
    """A ``DeviceAdapter`` for one device of a :class:`FakeSite`.

    ``dead``: connecting takes ``timeout_s`` of clock time and then fails (a device that
    does not answer). ``fail_reads``: reads raise a protocol error.
    """

    def __init__(self, name: str, kind: str, site: FakeSite, clock: Clock,
                 *, timeout_s: float = 2.0) -> None:  # fmt: skip
        self.name, self.kind, self.site, self.clock = name, kind, site, clock
        self.timeout_s = timeout_s
        self.dead = False
        self.fail_reads = False
        self.refuse_writes = False
        self.buggy = False
        """Reads raise an exception that is not a DeviceError (a bug in an adapter)."""
        self.connected = False
        self.connects = 0
        self.reads = 0
        self.writes: list[Setpoint] = []
        self.released = False
        self.config: DeviceConfig | None = None

    @property
    def device(self) -> str:
        return self.name

    @property
    def controllable(self) -> bool:
        return self.kind in {"battery", "pv"}

    def configure(self, config: DeviceConfig) -> None:
        self.config = config

    async def connect(self) -> None:
        self.connects += 1
        if self.dead:
            await self.clock.sleep(self.timeout_s)
            raise DeviceTimeout(f"{self.name}: no answer")
        self.connected = True

    async def close(self) -> None:
        self.connected = False

    async def read(self, *, slow: bool = False) -> Reading:
        if self.dead:
            await self.clock.sleep(self.timeout_s)
            raise DeviceTimeout(f"{self.name}: no answer")
        if self.fail_reads:
            raise DeviceProtocolError(f"{self.name}: exception code 4")
        if self.buggy:
            raise IndexError("list index out of range")
        self.reads += 1
        site = self.site
        if self.kind == "meter":
            return Reading(values={"p_w": site.import_w}, units={"p_w": "W"}, p_w=site.import_w)
        if self.kind == "battery":
            b = site.batteries[self.name]
            p = site.battery_w(self.name)
            return Reading(
                values={"p_w": p, "soc_pct": b.soc_pct},
                p_w=p,
                soc_pct=b.soc_pct,
                temp_c=b.temp_c,
                bms_max_charge_w=b.rated_w,
                bms_max_discharge_w=b.rated_w,
            )
        cap = site.pv_cap_w.get(self.name, 0.0)
        return Reading(values={"p_w": min(site.pv_w, cap)}, p_w=min(site.pv_w, cap))

    async def write(self, setpoint: Setpoint) -> WriteResult:
        if self.refuse_writes:
            raise DeviceProtocolError(f"{self.name}: write refused (code 4)")
        self.writes.append(setpoint)
        if self.kind == "battery":
            b = self.site.batteries[self.name]
            b.setpoint_w, b.enabled, b.revert_s = setpoint.p_w, True, setpoint.revert_s
        elif self.kind == "pv":
            self.site.pv_cap_w[self.name] = setpoint.p_w
        return WriteResult(setpoint.p_w, setpoint.revert_s)

    async def release(self) -> None:
        self.released = True
        if self.kind == "battery":
            self.site.batteries[self.name].enabled = False

    def metrics(self) -> list[MetricDef]:
        return [MetricDef(name="p_w", unit="W")]
