"""Fixtures and helpers of the edge agent tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge_agent import AdapterFactory, Agent, AgentConfig, DeviceConfig, parse_config
from edge_agent.devices import DeviceStatus
from protocol.clock import Clock, ManualClock
from tests.edge_agent.fakes import FakeAdapter, FakeSite
from tests.support import SAFETY_TIMEOUT


def make_config(tmp_path: Path, **kw: Any) -> AgentConfig:
    """A config for tests (through the real TOML parser)."""
    return parse_config(config_text(tmp_path, **kw))


def config_text(
    tmp_path: Path,
    *,
    mqtt_port: int = 1,
    devices: str = "",
    site_extra: str = "",
    limits_extra: str = "",
    default_control: str = 'mode = "self_consumption"',
    outbox_extra: str = "",
    control_period_s: float = 1.0,
    watchdog_s: float = 300.0,
    edge: str = "site-1",
) -> str:
    """The TOML text of a test config."""
    return f"""
[site]
tenant = "acme"
edge = "{edge}"
control_period_s = {control_period_s}
watchdog_s = {watchdog_s}
{site_extra}

[site.limits]
import_max_w = 1000000.0
export_max_w = 1000000.0
{limits_extra}

[site.default_control]
{default_control}

[hub]
url = "mqtt://127.0.0.1:{mqtt_port}"
reconnect_max_s = 0.5

[outbox]
path = "{tmp_path / "outbox.db"}"
{outbox_extra}

[metrics]
port = 0
{devices}
"""


def device_toml(name: str, kind: str, *, port: int = 1, rated_w: float = 100_000.0,
                extra: str = "", limits: str = "") -> str:  # fmt: skip
    lim = ""
    if kind in {"battery", "pv"}:
        charge = rated_w if kind == "battery" else 0.0
        lim = f"\n[devices.limits]\np_max_discharge_w = {rated_w}\np_max_charge_w = {charge}\n"
        lim += limits
    return f'\n[[devices]]\nid = "{name}"\nkind = "{kind}"\nport = {port}\n{extra}{lim}'


async def until(condition: Callable[[], bool], what: str = "condition") -> None:
    """Wait (real time, deadlock guard only) until ``condition()`` holds."""
    try:
        async with asyncio.timeout(SAFETY_TIMEOUT):
            while not condition():  # noqa: ASYNC110 - conditions span several components
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


class Harness:
    """Drives an in-process agent on a ManualClock, one control cycle at a time."""

    def __init__(self, agent: Agent, clock: ManualClock) -> None:
        self.agent, self.clock = agent, clock

    async def cycles(self, n: int = 1, dt: float | None = None) -> None:
        period = dt if dt is not None else self.agent.config.site.control_period_s
        for _ in range(n):
            target = self.agent.cycles + 1
            self.clock.advance(period)
            await until(lambda t=target: self.agent.cycles >= t, "a control cycle")  # type: ignore[misc]
            # let the device runners write what the cycle handed them
            await until(lambda: all(r._pending is None for r in self.agent.runners.values()
                                    if r.status is not DeviceStatus.OFFLINE),
                        "device writes")  # fmt: skip


def fake_factory(site: FakeSite, clock: ManualClock | Clock,
                 adapters: dict[str, FakeAdapter]) -> AdapterFactory:  # fmt: skip
    def create(dev: DeviceConfig) -> FakeAdapter:
        adapter = FakeAdapter(dev.id, dev.kind, site, clock, timeout_s=dev.timeout_s)
        adapters[dev.id] = adapter
        return adapter

    return create
