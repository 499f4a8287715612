"""Storage never stops control: the outbox on a real, small file system filled up.

A tmpfs is mounted for each test (root only; with ``CI=true`` a missing mount fails the
run), filled to the last byte by a filler file, and freed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent import Agent, Outbox, OutboxError
from edge_agent._outbox import stored_payload
from edge_agent.devices import DeviceStatus
from lingtan.broker import Mosquitto
from protocol import Point, State, TelemetryBatch, decode_as, decode_uplink
from protocol.clock import ManualClock
from tests.edge_agent.conftest import (
    Harness,
    advance_until,
    device_toml,
    fake_factory,
    make_config,
    until,
)
from tests.edge_agent.fakes import FakeAdapter, FakeBattery, FakeSite
from tests.edge_agent.hub import HubStandIn
from tests.support import service_missing

T0 = 1_767_225_600_000


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted under ``tmp_path`` (unmounted afterwards)."""
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        service_missing("mounting a small tmpfs needs root")
    where = tmp_path / "fs"
    where.mkdir()
    done = subprocess.run([mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        service_missing(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(fs: Path) -> Path:
    """Fill ``fs`` to the last byte; returns the filler file (delete it to free the space)."""
    filler = fs / "filler"
    for chunk in (b"\0" * 4096, b"\0"):  # pages, then the last odd bytes
        with contextlib.suppress(OSError), filler.open("ab", buffering=0) as f:
            while True:
                f.write(chunk)
    return filler


def failing(box: Outbox) -> OutboxError | None:
    """The outbox's storage error now (a call: type checkers do not pin it across awaits)."""
    return box.storage_error


def remount(fs: Path, mode: str) -> bool:
    done = subprocess.run(["mount", "-o", f"remount,{mode}", str(fs)], capture_output=True,
                          check=False)  # fmt: skip
    return done.returncode == 0


def batch(box: Outbox) -> TelemetryBatch:
    sid, seq = box.next_key()
    points = [Point(device="d", name="p", value=seq * 1.5, ts_ms=T0 + seq)]
    return TelemetryBatch(edge="e", sid=sid, seq=seq, ts_ms=T0 + seq, points=points)


async def test_a_full_disk_loses_only_what_it_must_and_the_floor_states_the_gap(
    small_fs: Path,
) -> None:
    async with Outbox(small_fs / "outbox.db", retain_on_error=3) as box:
        for _ in range(5):
            box.append(batch(box))
        await box.commit()
        filler = fill(small_fs)
        errors = []
        for _ in range(40):  # until the WAL cannot grow any more, then beyond
            box.append(batch(box))
            try:
                await box.commit()
            except OutboxError as exc:
                errors.append(exc.kind)
        assert errors and set(errors) == {"disk_full"}
        error = failing(box)
        assert error is not None and error.kind == "disk_full"
        assert box.pending == 3  # the newest rows are kept for the next attempt
        assert box.lost_rows > 0
        [(sid, first, last)] = box.lost_seqs  # one gap, stated as a range
        assert last - first + 1 == box.lost_rows and last == box.last_key[1] - 3
        filler.unlink()  # space comes back: storage resumes by itself
        box.append(batch(box))
        kept = await box.commit()
        assert [c.message.seq for c in kept] == list(range(last + 1, box.last_key[1] + 1))
        assert failing(box) is None
        stored = [r.seq for r in await box.read_after(None, box.last_key, 1000)]
        assert not set(range(first, last + 1)) & set(stored)  # never stored
        # While the rows before the gap are unacked the floor stays at the oldest of them;
        # once the hub acks them it jumps over the lost seqs: the hub records the gap.
        assert box.floor(sid) <= first
        box.ack(sid, first - 1)
        await box.commit()
        box.append(batch(box))
        [after] = await box.commit()
        assert after.message.floor_seq == last + 1
        replay = await box.read_after(None, box.last_key, 1)
        assert replay[0].seq == last + 1 and replay[0].floor_seq == last + 1


async def test_control_and_the_device_fail_safe_go_on_while_the_disk_is_full(
    small_fs: Path, manual_clock: ManualClock
) -> None:
    devices = device_toml("b1", "battery") + device_toml("m1", "meter")
    config = make_config(small_fs, devices=devices,
                         outbox_extra="retain_on_error = 5\ncommit_interval_s = 0")  # fmt: skip
    assert Path(config.outbox.path).parent == small_fs
    site = FakeSite(load_w=30_000.0, batteries={"b1": FakeBattery(100_000.0)})
    adapters: dict[str, FakeAdapter] = {}
    agent = Agent(config, clock=manual_clock,
                  adapter_factory=fake_factory(site, manual_clock, adapters))  # fmt: skip
    async with agent:
        await until(lambda: agent.runners["b1"].status is DeviceStatus.ONLINE, "online")
        h = Harness(agent, manual_clock)
        await h.cycles(3)
        await until(lambda: agent.outbox.committed_key == agent.outbox.last_key, "commits")
        filler = fill(small_fs)
        metric = "vpp_agent_storage_errors_total"
        labels = {"op": "commit", "kind": "disk_full"}

        def errors() -> float:
            return agent.metrics.registry.get_sample_value(metric, labels) or 0.0

        for step in range(60):  # the load moves; self-consumption keeps following it
            site.load_w = 30_000.0 + 500.0 * step
            await h.cycles(1)
            if agent.outbox.lost_rows > 10:
                break
        assert errors() > 0 and agent.outbox.lost_rows > 10
        cycles, writes = agent.cycles, len(adapters["b1"].writes)
        site.load_w = 55_000.0
        await h.cycles(5)
        assert agent.cycles == cycles + 5  # the control loop runs on
        assert site.batteries["b1"].setpoint_w == pytest.approx(55_000.0)
        assert site.import_w == pytest.approx(0.0, abs=1.0)
        fresh = adapters["b1"].writes[writes:]
        assert fresh and all(w.revert_s == 10.0 for w in fresh)  # revert timer re-armed
        health = agent.health()
        storage = health["storage"]
        assert isinstance(storage, dict) and storage["ok"] is False
        assert storage["kind"] == "disk_full" and storage["failing_op"] == "commit"
        assert storage["lost_rows"] == agent.outbox.lost_rows
        assert agent.metrics.registry.get_sample_value("vpp_agent_storage_ok") == 0
        lost = agent.outbox.lost_rows
        [(sid, first, last)] = agent.outbox.lost_seqs

        filler.unlink()
        await h.cycles(2)
        await until(lambda: agent.storage_error is None, "storage back")
        assert agent.metrics.registry.get_sample_value("vpp_agent_storage_ok") == 1
        # rows polled between the reading above and the first commit that found room are
        # lost too (the control loop runs on meanwhile): the metric counts every one
        assert agent.outbox.lost_rows >= lost
        lost_total = agent.metrics.registry.get_sample_value("vpp_agent_outbox_lost_rows_total")
        assert lost_total == agent.outbox.lost_rows
        agent.outbox.ack(sid, first - 1)  # the hub acks everything before the gap
        await agent.commit()
        assert agent.outbox.last_ack == (sid, first - 1)
        await h.cycles(1)
        await until(lambda: agent.outbox.committed_key == agent.outbox.last_key, "commits")
        rows = await agent.outbox.read_after(None, agent.outbox.last_key, 10_000)
        seqs = [r.seq for r in rows]
        assert seqs[0] == last + 1 and seqs == list(range(last + 1, seqs[-1] + 1))
        newest = decode_uplink(stored_payload(rows[-1].payload))
        assert isinstance(newest, TelemetryBatch) and newest.floor_seq == last + 1
        own = {p.name: p.value for p in newest.points if p.device == "site-1"}
        assert own["agent.outbox_lost_rows"] == lost and own["agent.storage_ok"] is True


async def test_a_read_only_file_system_is_a_storage_error_of_its_own_kind(
    small_fs: Path,
) -> None:
    async with Outbox(small_fs / "outbox.db") as box:
        box.append(batch(box))
    # (a file system cannot be remounted read-only while the outbox writes to it)
    if not await asyncio.to_thread(remount, small_fs, "ro"):
        service_missing("cannot remount the tmpfs read-only")
    try:
        with pytest.raises(OutboxError) as caught:
            async with Outbox(small_fs / "outbox.db"):
                pass
        assert caught.value.kind == "read_only", caught.value
    finally:
        await asyncio.to_thread(remount, small_fs, "rw")
    async with Outbox(small_fs / "outbox.db") as box:  # writable again, nothing lost
        assert [r.seq for r in await box.read_after(None, (1, 9), 10)] == [1]


@pytest.mark.mosquitto
async def test_the_retained_state_says_that_storage_fails_and_when_it_recovers(
    small_fs: Path, manual_clock: ManualClock, mosquitto: Mosquitto
) -> None:
    devices = device_toml("b1", "battery") + device_toml("m1", "meter")
    config = make_config(small_fs, devices=devices, mqtt_port=mosquitto.port,
                         outbox_extra="retain_on_error = 5\ncommit_interval_s = 0")  # fmt: skip
    site = FakeSite(load_w=30_000.0, batteries={"b1": FakeBattery(100_000.0)})
    adapters: dict[str, FakeAdapter] = {}
    agent = Agent(config, clock=manual_clock,
                  adapter_factory=fake_factory(site, manual_clock, adapters))  # fmt: skip
    hub = HubStandIn(mosquitto.port, "acme", "site-1")

    def states() -> list[State]:
        return [decode_as(p, State) for p in hub.retained_state]

    async with hub, agent:
        h = Harness(agent, manual_clock)
        await until(lambda: agent.link is not None and agent.link.connected, "connected")
        await until(lambda: bool(states()) and states()[-1].online, "online state")
        assert all(s.storage_error == "" for s in states())
        filler = fill(small_fs)
        assert await advance_until(h, lambda: bool(states()[-1].storage_error), 60)
        failing = states()[-1]
        assert failing.online and failing.sid == agent.outbox.sid
        assert failing.storage_error.startswith("disk_full: ")
        count = len(states())
        await h.cycles(3)  # said once, not every cycle
        assert len(states()) == count
        filler.unlink()
        assert await advance_until(h, lambda: states()[-1].storage_error == "", 30)
        assert states()[-1].online
