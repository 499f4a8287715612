"""HVAC as a flexible load over OPC UA: a consumption cap with its setpoint offset within
the comfort band, RevertSeconds armed and refreshed, the comfort rule of the SafetyGuard,
and the rebound after an event measured and reported (simulated chiller plant)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent import Agent, ConfigError, parse_config
from edge_agent._control import limits_for
from edge_agent._hvac import Rebound, setpoint_for
from edge_agent._safety import Applied, Clamped, GuardContext, SetpointRequest, guard
from edge_agent.devices import DeviceStatus
from firmware_sims import Chiller, SimSite, load_preset
from protocol import encode
from protocol.clock import ManualClock
from tests.edge_agent.conftest import Harness, advance_until, config_text, make_config
from tests.edge_agent.test_agent import T, all_statuses
from tests.edge_agent.test_sims import online, schedule, site_devices

HVAC = (
    "\n[devices.limits]\np_max_charge_w = 200000.0\nrevert_s = 10.0\n"
    "[devices.hvac]\ncomfort_min_c = 20.0\ncomfort_max_c = 27.0\nsetpoint_c = 24.0\n"
    "setpoint_offset_max_c = 2.0\nrebound_window_s = 1800.0\n"
)


def _online(agent: Agent, *devices: str) -> bool:
    return all(agent.runners[d].status is DeviceStatus.ONLINE for d in devices)


def _devices(site: object, timeout_s: float = 0.5) -> str:
    text = site_devices(site, only={"chiller-1", "meter-1"}, timeout_s=timeout_s)  # type: ignore[arg-type]
    head, sep, tail = text.partition("\n[register_maps.evse]")
    return head + HVAC + sep + tail


async def test_a_chiller_cap_comes_with_its_setpoint_offset_and_revert_timer(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    site = SimSite(load_preset("park-a"), clock=manual_clock)
    site.step(14 * 3600.0)  # the building settles near its setpoint: partial load
    async with site:
        chiller = site.device("chiller-1")
        assert isinstance(chiller, Chiller)
        # the shipped timeout (2 s), not 0.5 s: an OPC UA read on a loaded machine (the
        # OPC UA simulator tests beside it) outlasts 0.5 s again and again
        config = make_config(tmp_path, devices=_devices(site, timeout_s=2.0))
        async with Agent(config, clock=manual_clock) as agent:
            h = Harness(agent, manual_clock)
            # A read that times out sends the runner into a backoff on the manual clock,
            # which must move for it to come back (waiting in real time would never end).
            assert await advance_until(h, lambda: _online(agent, "chiller-1", "meter-1"), 60)
            await h.cycles(2)
            baseline = chiller.p_w
            assert 0 < baseline < 150_000.0
            cap = round(baseline / 2)
            agent.on_message(T.dispatch, encode(schedule(manual_clock, {"chiller-1": -cap})))
            await h.cycles(3)
            assert chiller.power_limit_w == cap and chiller.revert.tms == 10
            share = cap / 200_000.0
            assert chiller.setpoint_c == pytest.approx(round(24.0 + 2.0 * (1 - share), 1))
            statuses = [s for s in await all_statuses(agent) if s.device == "chiller-1"]
            executing = [s for s in statuses if s.status == "executing"]
            assert executing and executing[0].p_applied_w == -cap
            # refreshed within half of RevertSeconds: the plant never reverts mid-event
            await h.cycles(600)
            assert chiller.reverts == 0 and chiller.power_limit_w == cap
            reading = agent.runners["chiller-1"].reading
            assert reading is not None and reading.values["curtailed"] is True
            assert reading.room_temp_c is not None and reading.room_temp_c > 24.0
            # the event ends (a cap at the rating): the plant draws more than before it
            agent.on_message(
                T.dispatch,
                encode(schedule(manual_clock, {"chiller-1": -200_000.0}, version=2)),
            )
            await h.cycles(120)
            assert chiller.setpoint_c == 24.0 and chiller.power_limit_w == 200_000.0
            reading = agent.runners["chiller-1"].reading
            assert reading is not None and reading.values["curtailed"] is False
            assert reading.values["rebound_active"] is True
            rebound_wh = reading.values["rebound_wh"]
            assert isinstance(rebound_wh, float) and rebound_wh > 100.0
            peak = reading.values["rebound_peak_w"]
            assert isinstance(peak, float) and peak > 0.2 * baseline
            names = {m.name for m in agent.runners["chiller-1"].adapter.metrics()}
            assert {"rebound_wh", "rebound_active", "setpoint_c"} <= names


def _hvac_limits(comfort_max: float = 27.0) -> object:
    text = config_text(Path("/tmp"), devices=(
        '\n[[devices]]\nid = "ch"\nkind = "hvac"\nprotocol = "opcua"\nport = 1\n'
        'endpoint = "opc.tcp://127.0.0.1:1/x"\n'
        "[devices.limits]\np_max_charge_w = 200000.0\n"
        f"[devices.hvac]\ncomfort_max_c = {comfort_max}\n"
    ))  # fmt: skip
    config = parse_config(text)
    return limits_for(config, config.device("ch"))


def test_no_curtailment_once_the_room_reaches_the_top_of_the_comfort_band() -> None:
    limits = _hvac_limits(26.0)
    request = SetpointRequest("ch", -50_000.0)
    cool = guard(request, limits, GuardContext(room_temp_c=25.0))  # type: ignore[arg-type]
    assert cool == Applied(-50_000.0)
    warm = guard(request, limits, GuardContext(room_temp_c=26.0))  # type: ignore[arg-type]
    assert warm == Clamped(-200_000.0, -50_000.0, "comfort_band")
    assert limits.p_max_discharge_w == 0.0  # type: ignore[attr-defined]


def test_the_setpoint_offset_stays_within_the_comfort_band() -> None:
    kw = {"rated_w": 200_000.0, "base_c": 24.0, "offset_max_c": 2.0, "comfort_max_c": 27.0}
    assert setpoint_for(cap_w=200_000.0, **kw) == 24.0
    assert setpoint_for(cap_w=100_000.0, **kw) == 25.0
    assert setpoint_for(cap_w=0.0, **kw) == 26.0
    assert setpoint_for(cap_w=0.0, **(kw | {"comfort_max_c": 25.2})) == 25.2


def test_the_rebound_ends_when_the_plants_own_revert_timer_lapses() -> None:
    rebound = Rebound(window_s=600.0)
    rebound.wrote(cap_w=50_000.0, rated_w=200_000.0, revert_s=10.0, consumption_w=80_000.0,
                  now=0.0)  # fmt: skip
    assert rebound.polled(50_000.0, 5.0)["curtailed"] is True
    points = rebound.polled(150_000.0, 20.0)  # no refresh since t=0: reverted at t=10
    assert points["curtailed"] is False and points["rebound_active"] is True
    points = rebound.polled(150_000.0, 80.0)
    assert points["rebound_wh"] == pytest.approx(70_000.0 * 60 / 3600, abs=0.1)
    assert points["rebound_peak_w"] == 70_000.0
    points = rebound.polled(70_000.0, 200.0)  # back at the baseline, settled: over
    assert points["rebound_active"] is False and rebound.rebound_wh > 1_000.0
    assert rebound.events == 1


def test_a_comfort_band_that_is_empty_is_refused() -> None:
    base = (
        '\n[[devices]]\nid = "ch"\nkind = "hvac"\nprotocol = "opcua"\nport = 1\n'
        'endpoint = "opc.tcp://127.0.0.1:1/x"\n[devices.hvac]\n'
    )
    with pytest.raises(ConfigError, match="comfort_min_c"):
        parse_config(config_text(Path("/tmp"), devices=base + "comfort_min_c = 27.0\n"
                                 "comfort_max_c = 22.0\n"))  # fmt: skip
    with pytest.raises(ConfigError, match="setpoint_c"):
        parse_config(config_text(Path("/tmp"), devices=base + "setpoint_c = 30.0\n"))


async def test_a_chiller_that_is_slow_fails_or_drops_its_subscription_is_handled(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    """OPC UA completeness: a slow plant times out, one answering BadDeviceFailure is in
    error (through its subscription too), both recover when cleared; a subscription the
    server drops while keeping the session is counted and made again in that session."""
    from edge_agent import Agent
    from edge_agent.devices import DeviceStatus
    from edge_agent.devices.opcua import OpcUaAdapter
    from tests.edge_agent.conftest import advance_until, until

    site = SimSite(load_preset("park-a"), clock=manual_clock)
    async with site:
        devices = _devices(site).replace("timeout_s = 0.5", "timeout_s = 0.5\nslow_every = 2")
        config = make_config(tmp_path, devices=devices)
        async with Agent(config, clock=manual_clock) as agent:
            await online(agent, "chiller-1", "meter-1")
            runner = agent.runners["chiller-1"]
            adapter = runner.adapter
            assert isinstance(adapter, OpcUaAdapter) and adapter.subscribed
            h = Harness(agent, manual_clock)

            def status() -> DeviceStatus:
                return runner.status

            for kind, params, error in (
                ("slow", {"delay_s": 2.0}, "timeout"),
                ("exception", {}, "protocol"),
            ):
                before = runner.errors[error]
                site.set_fault("chiller-1", kind, **params)
                await advance_until(h, lambda: status() is DeviceStatus.ERROR, 30)
                assert status() is DeviceStatus.ERROR, kind
                assert runner.errors[error] > before, (kind, dict(runner.errors))
                assert agent.runners["meter-1"].status is DeviceStatus.ONLINE
                site.clear_fault("chiller-1")
                await advance_until(h, lambda: status() is DeviceStatus.ONLINE, 60)
                assert status() is DeviceStatus.ONLINE, f"{kind} recovery"

            adapter = runner.adapter
            assert isinstance(adapter, OpcUaAdapter) and adapter.subscribed
            assert await site.drop_subscriptions("chiller-1") >= 1
            await advance_until(h, lambda: runner.errors["subscription_drop"] >= 1, 20)
            assert runner.errors["subscription_drop"] == 1
            assert status() is DeviceStatus.ONLINE, "restored in its session: no reconnect"
            dropped = agent.metrics.registry.get_sample_value(
                "vpp_agent_device_events_total",
                {"device": "chiller-1", "event": "subscription_drop"},
            )
            assert dropped == 1.0
            latest = adapter._latest  # the notifications the new subscription brings
            assert latest is not None
            arrived = latest.notifications
            chiller = site.device("chiller-1")
            assert isinstance(chiller, Chiller)
            chiller.write_setpoint(25.5)  # a value that changes (a steady plant sends nothing)
            await h.cycles(2)  # the sim publishes it on its next tick
            # the server publishes on its own (real-time) interval: wait for it, bounded
            await until(lambda: latest.notifications > arrived, "the new subscription delivers")
            assert latest.values.get("Setpoint") == 25.5
