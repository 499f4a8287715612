"""The agent in-process on a ManualClock with fake devices (our DeviceAdapter seam).

Control cycles, default control, schedules with the SafetyGuard, watchdog fallback,
commands, pushed config and every kind of bad input, observed through the decisions, the
fake devices' registers and the outbox.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from edge_agent import Agent, AgentConfig, Decision
from edge_agent._outbox import stored_payload
from edge_agent.devices import DeviceStatus
from lingtan.broker import Mosquitto
from protocol import (
    Command,
    DeviceLimits,
    DeviceTarget,
    DispatchInterval,
    DispatchSchedule,
    DispatchStatus,
    HubState,
    Reply,
    SiteConfig,
    SiteLimits,
    TelemetryBatch,
    decode_uplink,
    encode,
)
from protocol.clock import ManualClock
from protocol.topics import EdgeTopics
from tests.edge_agent.conftest import Harness, device_toml, fake_factory, make_config, until
from tests.edge_agent.fakes import FakeAdapter, FakeBattery, FakeSite
from tests.edge_agent.hub import HubStandIn

T = EdgeTopics("acme", "site-1")


@contextlib.asynccontextmanager
async def running(
    config: AgentConfig, site: FakeSite, clock: ManualClock
) -> AsyncIterator[tuple[Harness, dict[str, FakeAdapter]]]:
    adapters: dict[str, FakeAdapter] = {}
    async with Agent(config, clock=clock, adapter_factory=fake_factory(site, clock, adapters)) as a:
        await until(
            lambda: all(
                r.status is DeviceStatus.ONLINE
                for r in a.runners.values()
                if not adapters[r.config.id].dead
            ),
            "devices online",
        )
        yield Harness(a, clock), adapters


def two_batteries(tmp_path: Path, **kw: object) -> tuple[AgentConfig, FakeSite]:
    devices = (
        device_toml("b1", "battery", rated_w=100_000.0)
        + device_toml("b2", "battery", rated_w=50_000.0)
        + device_toml("m1", "meter")
    )
    config = make_config(tmp_path, devices=devices, **kw)
    site = FakeSite(
        load_w=60_000.0, batteries={"b1": FakeBattery(100_000.0), "b2": FakeBattery(50_000.0)}
    )
    return config, site


def dispatch(
    clock: ManualClock,
    *,
    version: int = 1,
    p: float = 30_000.0,
    device: str = "b1",
    start_in: float = 0.0,
    length: float = 600.0,
    expires_in: float = 3600.0,
    sid: str = "sched-1",
    issued_in: float = 0.0,
) -> DispatchSchedule:
    now = clock.now_ms()
    return DispatchSchedule(
        id=sid,
        version=version,
        edge="site-1",
        issued_ts_ms=now + int(issued_in * 1000),
        expires_ts_ms=now + int(expires_in * 1000),
        intervals=[
            DispatchInterval(
                start_ts_ms=now + int(start_in * 1000),
                end_ts_ms=now + int((start_in + length) * 1000),
                targets=[DeviceTarget(device=device, p_target_w=p, instruction_id="ins-7")],
            )
        ],
    )


def source(agent: Agent, device: str) -> str:
    return agent.source[device]


def status(agent: Agent, device: str) -> DeviceStatus:
    return agent.runners[device].status


async def all_statuses(agent: Agent) -> list[DispatchStatus]:
    await agent.commit()
    rows = await agent.outbox.read_after(None, agent.outbox.last_key, 100_000)
    out = []
    for row in rows:
        msg = decode_uplink(stored_payload(row.payload))
        if isinstance(msg, DispatchStatus):
            out.append(msg)
    return out


async def test_self_consumption_splits_the_meter_among_batteries(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    async with running(config, site, manual_clock) as (h, _):
        await h.cycles(1)
        # 60 kW import split 2:1 by headroom, so import goes to zero
        assert site.batteries["b1"].setpoint_w == pytest.approx(40_000.0)
        assert site.batteries["b2"].setpoint_w == pytest.approx(20_000.0)
        await h.cycles(2)
        assert site.import_w == pytest.approx(0.0)
        assert h.agent.source == {"b1": "default", "b2": "default"}


async def test_dispatch_above_device_limit_is_clamped_and_reported(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    async with running(config, site, manual_clock) as (h, _):
        sched = dispatch(manual_clock, p=250_000.0)
        h.agent.on_message(T.dispatch, encode(sched))
        await h.cycles(2)
        assert site.batteries["b1"].setpoint_w == 100_000.0  # b1's rating
        reported = await all_statuses(h.agent)
        assert [s.status for s in reported][:2] == ["accepted", "clamped"]
        clamped = reported[1]
        assert clamped.device == "b1" and clamped.p_applied_w == 100_000.0
        assert clamped.p_target_w == 250_000.0 and clamped.instruction_id == "ins-7"
        assert clamped.reason.startswith("device_max_discharge")
        # b2 is not in the schedule: it keeps following the meter (import stays at/near 0)
        assert source(h.agent, "b2") == "default"
        # reported once per state and reason, then again only when the measured power
        # moves (here: the battery reaching its setpoint) or every 15 s, not every cycle
        await h.cycles(3)
        clamps = [s for s in await all_statuses(h.agent) if s.status == "clamped"]
        assert len(clamps) == 2, clamps
        assert clamps[1].p_actual_w == 100_000.0 and clamps[1].deviation_w == 0.0
        assert clamps[1].started_ts_ms == clamps[0].started_ts_ms is not None
        await h.cycles(3)
        assert [s.status for s in await all_statuses(h.agent)].count("clamped") == 2


async def test_schedule_runs_offline_past_the_link_watchdog(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    # The schedule used to be dropped for default control once the hub had been silent
    # for watchdog_s: offline execution means until the schedule's own expiry.
    config, site = two_batteries(tmp_path, watchdog_s=30.0)
    async with running(config, site, manual_clock) as (h, _):
        h.agent.on_message(T.dispatch, encode(dispatch(manual_clock, p=-20_000.0, length=120)))
        await h.cycles(60)  # twice the watchdog without a word from the hub
        assert not h.agent.hub_fresh()
        assert source(h.agent, "b1") == "schedule"
        assert site.batteries["b1"].setpoint_w == -20_000.0
        await h.cycles(61)  # past the interval's end: default control
        assert source(h.agent, "b1") == "default"
        assert site.import_w == pytest.approx(0.0, abs=1.0)  # self-consumption again
        reported = await all_statuses(h.agent)
        assert [s.status for s in reported if s.device is None][-1] == "done"
        assert not any(s.status == "expired" for s in reported)


async def test_schedule_with_max_offline_s_stops_when_the_hub_is_silent_that_long(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path, watchdog_s=300.0)
    async with running(config, site, manual_clock) as (h, _):
        regulation = msgspec.structs.replace(dispatch(manual_clock, p=-20_000.0),
                                             max_offline_s=30.0)  # fmt: skip
        h.agent.on_message(T.dispatch, encode(regulation))
        await h.cycles(10)  # hub silent, but within max_offline_s: the schedule runs
        assert site.batteries["b1"].setpoint_w == -20_000.0
        assert source(h.agent, "b1") == "schedule"
        await h.cycles(25)  # now 35 s without a word from the hub
        assert source(h.agent, "b1") == "watchdog"
        assert source(h.agent, "b2") == "default"
        assert site.batteries["b1"].setpoint_w != -20_000.0
        assert site.import_w == pytest.approx(0.0, abs=1.0)  # self-consumption again
        reported = await all_statuses(h.agent)
        stops = [s for s in reported if s.status == "expired"]
        assert len(stops) == 1 and "max_offline_s (30 s)" in stops[0].reason
        # the hub speaks again: the schedule (still valid) is back in force
        h.agent.on_message(
            "vpp/v1/_hub/state", encode(HubState(online=True, ts_ms=manual_clock.now_ms()))
        )
        await h.cycles(1)
        assert source(h.agent, "b1") == "schedule"
        assert site.batteries["b1"].setpoint_w == -20_000.0


async def test_manual_setpoint_does_not_outlive_the_watchdog(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    # A set_power command with a long validity used to keep its setpoint through any hub
    # outage: the watchdog only ever applied to schedules.
    config, site = two_batteries(tmp_path, watchdog_s=30.0)
    async with running(config, site, manual_clock) as (h, _):
        now = manual_clock.now_ms()
        command = Command(cid="m1", device="b1", op="set_power", args={"p_w": -20_000.0},
                          ts_ms=now, reply_to=T.reply, expires_ts_ms=now + 86_400_000)  # fmt: skip
        h.agent.on_message(T.cmd("b1"), encode(command))
        await h.cycles(10)
        assert source(h.agent, "b1") == "manual"
        assert site.batteries["b1"].setpoint_w == -20_000.0
        await h.cycles(25)  # 35 s without a word from the hub
        assert source(h.agent, "b1") == "watchdog"
        assert site.import_w == pytest.approx(0.0, abs=1.0)  # self-consumption again


async def test_schedule_past_expiry_is_not_executed(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path, limits_extra="")
    async with running(config, site, manual_clock) as (h, _):
        h.agent.on_message(
            T.dispatch, encode(dispatch(manual_clock, p=-40_000.0, length=600, expires_in=5.0))
        )
        await h.cycles(3)
        assert site.batteries["b1"].setpoint_w == -40_000.0
        await h.cycles(5)
        assert source(h.agent, "b1") == "default"
        assert site.batteries["b1"].setpoint_w != -40_000.0
        reported = await all_statuses(h.agent)
        assert reported[-1].status == "expired" and reported[-1].schedule_id == "sched-1"
        # a schedule that arrives already expired is rejected outright
        h.agent.on_message(
            T.dispatch, encode(dispatch(manual_clock, version=2, expires_in=-1, issued_in=-10))
        )
        await h.cycles(1)
        last = (await all_statuses(h.agent))[-1]
        assert last.status == "rejected" and "expired" in last.reason


async def test_schedule_end_returns_to_default_and_reports_done(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    async with running(config, site, manual_clock) as (h, _):
        h.agent.on_message(T.dispatch, encode(dispatch(manual_clock, p=10_000.0, length=3.0)))
        await h.cycles(2)
        assert source(h.agent, "b1") == "schedule"
        await h.cycles(3)
        assert source(h.agent, "b1") == "default"
        assert [s.status for s in await all_statuses(h.agent)][-1] == "done"
        # a newer version supersedes the old one
        h.agent.on_message(T.dispatch, encode(dispatch(manual_clock, version=2, p=5_000.0)))
        await h.cycles(1)
        kinds = [s.status for s in await all_statuses(h.agent)]
        assert kinds[-3:] == ["superseded", "accepted", "executing"]
        assert site.batteries["b1"].setpoint_w == 5_000.0


BAD_DISPATCH = [
    (b"{not json", "malformed"),
    (b'{"kind": "dispatch.v1", "id": "x"}', "malformed"),
    (b'{"kind": "ack.v1", "edge": "site-1", "sid": 1, "seq": 1, "ts_ms": 1}', "malformed"),
]


async def test_bad_input_is_rejected_counted_and_never_touches_devices(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path, default_control='mode = "idle"')
    async with running(config, site, manual_clock) as (h, adapters):
        agent = h.agent
        h.agent.on_message(T.dispatch, encode(dispatch(manual_clock, version=5, p=1000.0)))
        await h.cycles(1)
        writes_before = {d: list(a.writes) for d, a in adapters.items()}
        rejected = 0

        def count() -> float:
            total = 0.0
            for metric in agent.metrics.rejections.collect():
                total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
            return total

        for payload, _ in BAD_DISPATCH:
            agent.on_message(T.dispatch, payload)
        stale = dispatch(manual_clock, version=4, p=90_000.0, sid="other")
        agent.on_message(T.dispatch, encode(stale))
        unknown = dispatch(manual_clock, version=6, device="ghost", p=1.0)
        agent.on_message(T.dispatch, encode(unknown))
        meter = dispatch(manual_clock, version=7, device="m1", p=1.0)
        agent.on_message(T.dispatch, encode(meter))
        wrong_edge = msgspec.structs.replace(dispatch(manual_clock, version=8), edge="elsewhere")
        agent.on_message(T.dispatch, encode(wrong_edge))
        agent.on_message(T.config, b"\x00\x01garbage")
        agent.on_message("vpp/v1/acme/site-1/nonsense/topic/here", b"{}")
        agent.on_message(
            T.ack, b'{"kind": "ack.v1", "edge": "other", "sid": 1, "seq": 1, "ts_ms": 1}'
        )
        rejected = 10
        await h.cycles(2)
        assert count() == rejected
        reported = [s for s in await all_statuses(agent) if s.status == "rejected"]
        reasons = " | ".join(s.reason for s in reported)
        assert "malformed" in reasons and "stale schedule version 4" in reasons
        assert "unknown device 'ghost'" in reasons and "cannot be controlled" in reasons
        assert "elsewhere" in reasons
        assert any("invalid field $" in s.reason for s in reported)  # names the field
        # the accepted schedule v5 is still the one in force; no write changed
        assert agent.book.schedule is not None and agent.book.schedule.version == 5
        for dev, adapter in adapters.items():
            assert {w.p_w for w in adapter.writes} <= {w.p_w for w in writes_before[dev]} | {
                0.0,
                1000.0,
            }
        assert site.batteries["b1"].setpoint_w == 1000.0


@pytest.mark.mosquitto
async def test_commands_are_idempotent_by_cid_and_stale_ones_rejected(
    tmp_path: Path, manual_clock: ManualClock, mosquitto: Mosquitto
) -> None:
    config, site = two_batteries(
        tmp_path, default_control='mode = "idle"', mqtt_port=mosquitto.port
    )
    hub = HubStandIn(mosquitto.port, "acme", "site-1")
    async with hub, running(config, site, manual_clock) as (h, _):
        agent = h.agent
        assert agent.link is not None
        await until(lambda: agent.link is not None and agent.link.connected, "mqtt connected")
        now = manual_clock.now_ms()

        async def cmd(
            cid: str,
            op: str,
            device: str = "b1",
            expires: int = 60_000,
            raw: bytes | None = None,
            **args: float | int | bool | str,
        ) -> Reply:
            count = len(hub.replies)
            payload = (
                raw
                if raw is not None
                else encode(
                    Command(
                        cid=cid,
                        device=device,
                        op=op,
                        args=args,
                        ts_ms=now,
                        reply_to=T.reply,
                        expires_ts_ms=now + expires,
                    )
                )
            )
            await hub.publish(T.cmd(device), payload)
            await until(lambda: len(hub.replies) > count, f"reply to {cid}")
            return hub.replies[-1]

        first = await cmd("c1", "set_power", p_w=500_000.0)
        await h.cycles(1)
        assert site.batteries["b1"].setpoint_w == 100_000.0  # guard applies to manual too
        assert source(agent, "b1") == "manual"
        again = await cmd("c1", "set_power", p_w=-1.0)  # same cid: the same answer, not re-run
        await h.cycles(1)
        assert first == again and first.ok
        assert site.batteries["b1"].setpoint_w == 100_000.0
        codes = [
            (await cmd("c2", "set_power", expires=-1, p_w=1.0)).code,
            (
                await cmd(
                    "c3",
                    "set_power",
                    device="b2",
                    raw=encode(
                        Command(
                            cid="c3",
                            device="b1",
                            op="set_power",
                            reply_to=T.reply,
                            ts_ms=now,
                            expires_ts_ms=now + 9000,
                        )
                    ),
                )
            ).code,
            (await cmd("c4", "ping", device="ghost")).code,
            (await cmd("c5", "set_power", device="m1", p_w=1.0)).code,
            (await cmd("c6", "reboot")).code,
            (await cmd("c7", "set_power", p_w="lots")).code,
            (await cmd("c8", "x", raw=b'{"kind": "cmd.v1"}')).code,
        ]
        assert codes == [
            "expired",
            "rejected",
            "unknown_device",
            "unsupported",
            "unsupported",
            "rejected",
            "rejected",
        ]
        await h.cycles(1)
        assert site.batteries["b1"].setpoint_w == 100_000.0  # nothing bad changed it
        ping = await cmd("c9", "ping")
        read = await cmd("c10", "read")
        release = await cmd("c11", "release")
        await h.cycles(1)
        assert ping.ok and read.ok and release.ok
        assert ping.result["status"] == "online" and "p_w" in read.result
        assert site.batteries["b1"].setpoint_w == 0.0  # idle again


@pytest.mark.mosquitto
async def test_command_with_a_wildcard_reply_to_is_answered_and_the_agent_survives(
    tmp_path: Path, manual_clock: ManualClock, mosquitto: Mosquitto
) -> None:
    # A reply_to the MQTT client cannot publish to (wildcards) once made paho raise inside
    # the publisher's task group and took the whole agent down with it.
    config, site = two_batteries(
        tmp_path, default_control='mode = "idle"', mqtt_port=mosquitto.port
    )
    hub = HubStandIn(mosquitto.port, "acme", "site-1")
    async with hub, running(config, site, manual_clock) as (h, _):
        agent = h.agent
        await until(lambda: agent.link is not None and agent.link.connected, "mqtt connected")
        now = manual_clock.now_ms()
        for n, reply_to in enumerate([T.reply + "/+", T.base + "/#", T.reply + "/a\x00b"]):
            count = len(hub.replies)
            command = Command(cid=f"w{n}", device="b1", op="ping", ts_ms=now,
                              reply_to=reply_to, expires_ts_ms=now + 60_000)  # fmt: skip
            await hub.publish(T.cmd("b1"), encode(command))
            await until(lambda c=count: len(hub.replies) > c, "reply on the edge's reply topic")  # type: ignore[misc]
            assert hub.replies[-1].cid == f"w{n}" and hub.replies[-1].ok
        await h.cycles(2)  # still running: control cycles go on
        assert agent._task is not None and not agent._task.done()
        assert agent.link is not None and agent.link.connected


async def test_a_target_for_an_uncontrollable_device_is_rejected_alone(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path, default_control='mode = "idle"')
    async with running(config, site, manual_clock) as (h, adapters):
        base = dispatch(manual_clock, p=-15_000.0)
        [interval] = base.intervals
        targets = [*interval.targets, DeviceTarget(device="m1", p_target_w=5.0)]
        mixed = msgspec.structs.replace(
            base, intervals=[msgspec.structs.replace(interval, targets=targets)]
        )
        h.agent.on_message(T.dispatch, encode(mixed))
        await h.cycles(2)
        assert h.agent.book.schedule is not None and h.agent.book.schedule.version == 1
        assert site.batteries["b1"].setpoint_w == -15_000.0  # the rest of it runs
        assert adapters["m1"].writes == []
        statuses = await all_statuses(h.agent)
        [rejected] = [s for s in statuses if s.status == "rejected"]
        assert rejected.device == "m1" and "cannot be controlled" in rejected.reason
        assert any(s.status == "accepted" and s.device is None for s in statuses)


async def test_pushed_config_is_applied_without_restart_or_rejected(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    async with running(config, site, manual_clock) as (h, adapters):
        agent = h.agent
        push = SiteConfig(
            edge="site-1",
            version=3,
            ts_ms=manual_clock.now_ms(),
            site_limits=SiteLimits(import_max_w=1e6, export_max_w=1e6),
            device_limits=[
                DeviceLimits(device="b1", p_max_discharge_w=10_000.0, p_max_charge_w=10_000.0)
            ],
        )
        agent.on_message(T.config, encode(push), True)
        await h.cycles(1)
        assert agent.config_version == 3
        assert site.batteries["b1"].setpoint_w == pytest.approx(10_000.0)  # narrowed limit
        followed = adapters["b1"].config  # the adapter follows the pushed limits too
        assert followed is not None and followed.limits.p_max_discharge_w == 10_000.0
        agent.on_message(T.config, encode(push), True)  # retained redelivery: ignored
        stale = msgspec.structs.replace(push, version=2)
        agent.on_message(T.config, encode(stale))
        ghost = msgspec.structs.replace(
            push, version=4, device_limits=[DeviceLimits(device="ghost", p_max_discharge_w=1.0)]
        )
        agent.on_message(T.config, encode(ghost))
        other = msgspec.structs.replace(push, version=5, edge="elsewhere")
        agent.on_message(T.config, encode(other))
        await h.cycles(1)
        cfg = [s for s in await all_statuses(agent) if s.schedule_id == "config"]
        assert [(s.version, s.status) for s in cfg] == [
            (3, "accepted"),
            (2, "rejected"),
            (4, "rejected"),
            (5, "rejected"),
        ]
        assert "stale config version 2" in cfg[1].reason and "ghost" in cfg[2].reason
        assert agent.config_version == 3


async def test_telemetry_batches_share_the_sequence_with_statuses(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    async with running(config, site, manual_clock) as (h, _):
        h.agent.on_message(T.dispatch, encode(dispatch(manual_clock)))
        await h.cycles(3)
        await h.agent.commit()
        rows = await h.agent.outbox.read_after(None, h.agent.outbox.last_key, 1000)
        seqs = [r.seq for r in rows]
        assert seqs == list(range(1, len(seqs) + 1))
        kinds = {type(decode_uplink(stored_payload(r.payload))) for r in rows}
        assert kinds == {TelemetryBatch, DispatchStatus}
        data = [
            m
            for r in rows
            if isinstance(m := decode_uplink(stored_payload(r.payload)), TelemetryBatch)
        ]
        names = {(p.device, p.name) for b in data for p in b.points}
        assert ("m1", "p_w") in names and ("site-1", "agent.cycle") in names


async def test_refused_writes_put_the_device_in_error_and_it_recovers(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    async with running(config, site, manual_clock) as (h, adapters):
        adapters["b1"].refuse_writes = True
        await h.cycles(2)
        assert status(h.agent, "b1") is DeviceStatus.ERROR
        assert status(h.agent, "b2") is DeviceStatus.ONLINE
        adapters["b1"].refuse_writes = False
        site.load_w = 61_000.0  # a new setpoint gets written
        await h.cycles(2)
        assert status(h.agent, "b1") is DeviceStatus.ONLINE


async def test_shutdown_releases_control_of_written_devices(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    async with running(config, site, manual_clock) as (h, adapters):
        await h.cycles(1)
        enabled_while_running = site.batteries["b1"].enabled
    assert enabled_while_running
    assert adapters["b1"].released and not site.batteries["b1"].enabled
    assert not adapters["m1"].released  # never written to: nothing to release


class BrokenOnce(Agent):
    """An agent whose first control cycle and first downlink handler hit a bug."""

    broke_cycle = False
    broke_handler = False

    def cycle(self) -> list[Decision]:
        if not self.broke_cycle:
            self.broke_cycle = True
            raise ZeroDivisionError("a bug in the cycle")
        return super().cycle()

    def on_message(self, topic: str, payload: bytes, retained: bool = False) -> None:
        if not self.broke_handler and topic.endswith("/cmd/b1"):
            self.broke_handler = True
            raise KeyError("a bug in a handler")
        super().on_message(topic, payload, retained)


@pytest.mark.mosquitto
async def test_bugs_in_a_cycle_or_a_handler_do_not_stop_the_agent(
    tmp_path: Path, manual_clock: ManualClock, mosquitto: Mosquitto
) -> None:
    config, site = two_batteries(tmp_path, mqtt_port=mosquitto.port)
    adapters: dict[str, FakeAdapter] = {}
    hub = HubStandIn(mosquitto.port, "acme", "site-1")
    agent = BrokenOnce(
        config, clock=manual_clock, adapter_factory=fake_factory(site, manual_clock, adapters)
    )
    async with hub, agent:
        await until(lambda: agent.link is not None and agent.link.connected, "connected")
        await until(lambda: status(agent, "b1") is DeviceStatus.ONLINE, "online")
        h = Harness(agent, manual_clock)
        manual_clock.advance(1.0)
        await until(lambda: agent.broke_cycle, "the broken cycle")
        await h.cycles(2)
        assert agent.cycles >= 2 and site.import_w == pytest.approx(0.0)
        now = manual_clock.now_ms()
        for cid in ("x1", "x2"):
            await hub.publish(
                T.cmd("b1"),
                encode(
                    Command(
                        cid=cid,
                        device="b1",
                        op="ping",
                        reply_to=T.reply,
                        ts_ms=now,
                        expires_ts_ms=now + 60_000,
                    )
                ),
            )
        await until(lambda: len(hub.replies) >= 1, "the second command's reply")
        assert [r.cid for r in hub.replies] == ["x2"] and agent.link is not None
        assert agent.link.connects == 1  # the connection survived the handler's bug
    errors = agent.metrics.registry.get_sample_value("vpp_agent_cycle_errors_total")
    assert errors == 1.0
