"""Fixtures and helpers of the edge agent tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge_agent import Agent, AgentConfig, DeviceConfig, parse_config
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
                                    if r.status is DeviceStatus.ONLINE),
                        "device writes")  # fmt: skip


async def advance_until(h: Harness, condition: Callable[[], bool], max_cycles: int) -> bool:
    """Run control cycles until ``condition()`` holds (at most ``max_cycles``).

    Between cycles the test yields briefly to real network I/O (a reconnect to a simulator
    needs a few loop turns that the manual clock cannot provide); the outcome is checked
    by the caller, never the time it took.
    """
    for _ in range(max_cycles):
        if condition():
            return True
        await h.cycles(1)
        await asyncio.sleep(0.02)
    return condition()


def fake_factory(
    site: FakeSite, clock: ManualClock | Clock, adapters: dict[str, FakeAdapter]
) -> Callable[[DeviceConfig], FakeAdapter]:
    def create(dev: DeviceConfig) -> FakeAdapter:
        adapter = FakeAdapter(dev.id, dev.kind, site, clock, timeout_s=dev.timeout_s)
        adapters[dev.id] = adapter
        return adapter

    return create


def status_of(agent: Agent, device: str) -> DeviceStatus:
    """A device's status (a call, so type checkers do not pin it between awaits)."""
    return agent.runners[device].status


def spawn_agent(config_path: Path) -> subprocess.Popen[bytes]:
    """``python -m edge_agent run`` in its own process, logging next to its config."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with (config_path.parent / "agent.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "edge_agent", "run", "--config", str(config_path)],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
