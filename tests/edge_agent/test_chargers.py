"""EV chargers under control: a power cap written as a current limit (0 or min..max A),
the charger's watchdog armed after every connect and refreshed, SafetyGuard rules for
chargers, and execution status with the value the charger holds (simulated EVSE)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent import Agent, ConfigError, parse_config
from edge_agent._control import limits_for
from edge_agent._init import EVSE_MAP_LINES, charger_lines
from edge_agent._safety import Applied, Clamped, GuardContext, Limits, SetpointRequest, guard
from edge_agent._sessions import PLAN_SHARE, EvSession
from firmware_sims import EVCharger, SimSite, load_preset
from protocol import Command, encode
from protocol.clock import ManualClock
from tests.edge_agent.conftest import Harness, advance_until, config_text, make_config
from tests.edge_agent.test_agent import T, all_statuses
from tests.edge_agent.test_sims import online, park, schedule, site_devices
from tests.edge_agent.test_sims_status import of


def _evse_toml(port: int, *, fallback: str = "", name: str = "evse-1") -> str:
    lines = [
        "", "[[devices]]", f'id = "{name}"', 'kind = "ev_charger"', f"port = {port}",
        'register_map = "lingtan-evse"', "timeout_s = 0.5", "backoff_max_s = 2.0",
        *charger_lines(phases=3, voltage_v=230.0, min_current_a=6.0, max_current_a=32.0,
                       revert_s=10.0),
        fallback,
    ]  # fmt: skip
    return "\n".join(lines)


def _devices(site: object, port: int, fallback: str = "") -> str:
    base = site_devices(site, only={"bess-1", "meter-1"})  # type: ignore[arg-type]
    return base + _evse_toml(port, fallback=fallback) + "\n".join(EVSE_MAP_LINES) + "\n"


async def test_a_charger_follows_a_cap_as_a_current_limit_with_its_watchdog_armed(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    async with park(manual_clock) as site:
        port = site.endpoint("evse-1").port
        config = make_config(tmp_path, devices=_devices(site, port, "fallback_current_a = 8.0"))
        charger = site.device("evse-1")
        assert isinstance(charger, EVCharger)
        async with Agent(config, clock=manual_clock) as agent:
            await online(agent, "bess-1", "meter-1", "evse-1")
            agent.on_message(T.dispatch, encode(schedule(manual_clock, {"evse-1": -10_000.0})))
            h = Harness(agent, manual_clock)
            await h.cycles(3)
            # 10 kW over 3 x 230 V = 14.49 A: 14.4 A in the 0.1 A register (never above)
            assert charger.limit_a == pytest.approx(14.4)
            assert (charger.watchdog_s, charger.fallback_a) == (10, 8.0)
            statuses = of(await all_statuses(agent), "evse-1")
            executing = [s for s in statuses if s.status == "executing"]
            assert executing and executing[0].p_applied_w == pytest.approx(-9936.0)
            assert executing[0].p_target_w == -10_000.0
            # the unchanged limit is re-written within half the watchdog: it never trips
            fed = charger.heartbeat
            await h.cycles(25)
            assert charger.heartbeat >= fed + 4 and not charger.watchdog_tripped
            assert charger.watchdog_remaining_s > 0
            # a reboot: watchdog back at 0 (disabled); re-armed before the limit again
            site.set_fault("evse-1", "reboot")
            assert charger.watchdog_s == 0 and charger.limit_a == 32.0
            rearmed = await advance_until(
                h, lambda: charger.watchdog_s == 10 and charger.limit_a < 15, 30
            )
            assert rearmed, (charger.watchdog_s, charger.limit_a)
            status = agent.health()["device_status"]
            evse = status["evse-1"]  # type: ignore[index]
            assert evse["source"] == "schedule" and evse["setpoint_w"] == pytest.approx(-9936.0)
        # the agent stopped: the charger is back at the current its watchdog falls back to
        assert charger.limit_a == 8.0


async def test_a_cap_below_the_minimum_current_pauses_the_charger(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    async with park(manual_clock) as site:
        port = site.endpoint("evse-1").port
        config = make_config(tmp_path, devices=_devices(site, port))
        charger = site.device("evse-1")
        assert isinstance(charger, EVCharger)
        async with Agent(config, clock=manual_clock) as agent:
            await online(agent, "bess-1", "meter-1", "evse-1")
            agent.on_message(T.dispatch, encode(schedule(manual_clock, {"evse-1": -3_000.0})))
            h = Harness(agent, manual_clock)
            await h.cycles(3)
            assert charger.limit_a == 0.0  # 3 kW is 4.3 A: below 6 A, so 0 A
            clamped = [s for s in of(await all_statuses(agent), "evse-1") if s.status == "clamped"]
            assert clamped and clamped[0].p_applied_w == 0.0
            assert clamped[0].reason.startswith("ev_min_current")
            # above the charger's rating: 32 A, 22 080 W
            agent.on_message(
                T.dispatch, encode(schedule(manual_clock, {"evse-1": -50_000.0}, version=2))
            )
            await h.cycles(3)
            assert charger.limit_a == 32.0
            clamped = [s for s in of(await all_statuses(agent), "evse-1") if s.status == "clamped"]
            assert clamped[-1].p_applied_w == pytest.approx(-22_080.0)
        # no fallback configured: released to its rated current
        assert charger.limit_a == 32.0


def _charger_limits(phases: int, min_a: float = 6.0) -> Limits:
    text = config_text(Path("/tmp"), devices=(
        '\n[[devices]]\nid = "ev"\nkind = "ev_charger"\nport = 1\nregister_map = "m"\n'
        "[devices.limits]\np_max_charge_w = 50000.0\n"
        f"[devices.charger]\nphases = {phases}\nmin_current_a = {min_a}\nmax_current_a = 16.0\n"
        '[register_maps.m]\npoints = [{ name = "c", address = 0, role = "current_limit_a" }]\n'
    ))  # fmt: skip
    config = parse_config(text)
    return limits_for(config, config.device("ev"))


def test_charger_limits_follow_its_phases_and_current_range() -> None:
    three, one = _charger_limits(3), _charger_limits(1)
    assert three.p_max_charge_w == 16 * 3 * 230 and three.p_max_discharge_w == 0.0
    assert one.p_max_charge_w == 16 * 230 and one.min_consumption_w == 6 * 230
    ctx = GuardContext()
    upward = guard(SetpointRequest("ev", 5_000.0), one, ctx)
    assert upward == Clamped(0.0, 5_000.0, "device_max_discharge")
    slow = guard(SetpointRequest("ev", -1_000.0), one, ctx)
    assert slow == Clamped(0.0, -1_000.0, "ev_min_current")
    assert guard(SetpointRequest("ev", -2_000.0), one, ctx) == Applied(-2_000.0)


@given(st.floats(min_value=-1e5, max_value=1e5, allow_nan=False), st.sampled_from([1, 3]))
def test_a_charger_setpoint_is_zero_or_within_its_current_range(p: float, phases: int) -> None:
    limits = _charger_limits(phases)
    result = guard(SetpointRequest("ev", p), limits, GuardContext())
    assert isinstance(result, Applied | Clamped)
    w = result.p_w
    assert w == 0.0 or 6 * 230 * phases <= -w <= 16 * 230 * phases
    assert w <= 0.0 and (w >= p or p > 0)  # a cap: never more consumption than asked


def test_a_charger_config_needs_a_point_to_write_and_a_sane_current_range() -> None:
    base = '\n[[devices]]\nid = "ev"\nkind = "ev_charger"\nport = 1\nregister_map = "m"\n'
    ro = '[register_maps.m]\npoints = [{ name = "p", address = 0, role = "p_w" }]\n'
    with pytest.raises(ConfigError, match="no current_limit_a"):
        parse_config(config_text(Path("/tmp"), devices=base + "[devices.limits]\n"
                                 "p_max_charge_w = 1000.0\n" + ro))  # fmt: skip
    parse_config(config_text(Path("/tmp"), devices=base + ro))  # read-only: fine
    with pytest.raises(ConfigError, match="min_current_a"):
        parse_config(config_text(Path("/tmp"), devices=base + "[devices.charger]\n"
                                 "min_current_a = 20.0\nmax_current_a = 16.0\n" + ro))  # fmt: skip
    with pytest.raises(ConfigError, match="fallback_current_a"):
        parse_config(config_text(Path("/tmp"), devices=base + "[devices.charger]\n"
                                 "fallback_current_a = 3.0\n" + ro))  # fmt: skip


async def test_the_modbus_request_gap_is_kept_on_the_agents_clock(
    manual_clock: ManualClock,
) -> None:
    import asyncio
    import itertools

    from edge_agent import DeviceConfig
    from edge_agent.devices.modbus import ModbusAdapter
    from tests.support import SAFETY_TIMEOUT

    async with park(manual_clock) as site:
        ep = site.endpoint("meter-1")
        config = DeviceConfig(id="meter-1", kind="meter", port=ep.port, min_request_gap_s=30.0)
        adapter = ModbusAdapter(config, clock=manual_clock)
        connecting = asyncio.ensure_future(adapter.connect())
        try:
            async with asyncio.timeout(SAFETY_TIMEOUT):
                while not connecting.done():  # each request waits 30 s of clock time
                    await asyncio.sleep(0.01)
                    if manual_clock.pending:
                        manual_clock.advance(30.0)
            await connecting
            stamps = list(adapter.request_times)
            assert len(stamps) >= 3
            assert all(b - a >= 30.0 for a, b in itertools.pairwise(stamps))
        finally:
            connecting.cancel()
            await adapter.close()


def _cmd(clock: ManualClock, cid: str, op: str, **args: float | int) -> bytes:
    now = clock.now_ms()
    return encode(Command(cid=cid, device="evse-1", op=op, args=dict(args), reply_to=T.reply,
                          ts_ms=now, expires_ts_ms=now + 60_000))  # fmt: skip


async def test_a_session_target_lifts_a_curtailment_only_when_its_slack_runs_out(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    """The VPP pauses the charger (a cap below the minimum current); the car must have
    about 1.1 kWh in 5 minutes: the pause holds while there is slack, then the session's
    floor lifts the cap (clamp reason ev_session), and the pause is back once it ends."""
    site = SimSite(load_preset("park-s"), clock=manual_clock)
    charger = site.device("evse-1")
    assert isinstance(charger, EVCharger)
    day = next(d for d in range(30) if charger.session_for_day(d) is not None)
    car = charger.session_for_day(day)
    assert car is not None
    site.step(car.arrival + 60.0)  # a car is plugged in and wants energy
    async with site:
        port = site.endpoint("evse-1").port
        config = make_config(tmp_path, devices=_devices(site, port))
        async with Agent(config, clock=manual_clock) as agent:
            await online(agent, "bess-1", "meter-1", "evse-1")
            h = Harness(agent, manual_clock)
            agent.on_message(T.dispatch, encode(schedule(manual_clock, {"evse-1": -3_000.0})))
            await h.cycles(3)
            assert charger.limit_a == 0.0 and charger.connected
            energy = round(PLAN_SHARE * 22_080 * 200 / 3600)  # 200 s of charging: 100 s slack
            departure = manual_clock.now_ms() + 300_000
            agent.on_message(T.cmd("evse-1"), _cmd(manual_clock, "s1", "ev_session",
                             energy_wh=energy, departure_ts_ms=departure))  # fmt: skip
            assert agent._replies["s1"].ok
            await h.cycles(60)
            assert charger.limit_a == 0.0, "slack left: the VPP's pause holds"
            lifted = await advance_until(h, lambda: charger.limit_a > 0, 120)
            assert lifted and charger.limit_a >= 6.0  # at least the minimum current
            evse = agent.health()["device_status"]["evse-1"]  # type: ignore[index]
            assert evse["source"] == "ev_session" and evse["requested_w"] == -3_000.0
            assert evse["session"]["energy_wh"] == energy
            statuses = of(await all_statuses(agent), "evse-1")
            assert any(
                s.status == "clamped" and s.reason.startswith("ev_session") for s in statuses
            )
            await advance_until(h, lambda: "evse-1" not in agent.sessions, 200)
            assert "evse-1" not in agent.sessions, "ended: delivered, or the car has left"
            await h.cycles(3)
            assert charger.limit_a == 0.0, "the VPP's pause is back"
            assert charger.session_wh > 0


@pytest.mark.parametrize(
    ("device", "args", "code", "words"),
    [
        ("evse-1", {"energy_wh": 0}, "rejected", "energy_wh must be > 0"),
        ("evse-1", {"energy_wh": 5_000.0}, "rejected", "departure_ts_ms must be an integer"),
        ("evse-1", {"energy_wh": 5_000.0, "departure_ts_ms": 1}, "rejected", "next 7 days"),
        ("bess-1", {"energy_wh": 5_000.0}, "unsupported", "not a controllable EV charger"),
    ],
)
async def test_a_bad_session_is_refused_naming_the_argument(
    tmp_path: Path, manual_clock: ManualClock, device: str, args: dict[str, float],
    code: str, words: str,
) -> None:  # fmt: skip
    async with park(manual_clock) as site:
        port = site.endpoint("evse-1").port
        config = make_config(tmp_path, devices=_devices(site, port))
        async with Agent(config, clock=manual_clock) as agent:
            now = manual_clock.now_ms()
            command = Command(cid="bad", device=device, op="ev_session", args=dict(args),
                              reply_to=T.reply, ts_ms=now, expires_ts_ms=now + 60_000)  # fmt: skip
            agent.on_message(T.cmd(device), encode(command))
            rep = agent._replies["bad"]
            assert not rep.ok and rep.code == code and words in rep.message
            assert not agent.sessions
            agent.on_message(T.cmd("evse-1"), _cmd(manual_clock, "end", "ev_session_end"))
            assert agent._replies["end"].code == "rejected"


@given(
    st.floats(min_value=0.05, max_value=1.0),
    st.integers(min_value=120, max_value=7200),
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=50),
)
def test_following_the_floor_meets_any_target_the_charger_can_meet(
    share: float, duration_s: int, vpp: list[float]
) -> None:
    """Whatever the VPP allows each minute, drawing max(floor, allowed) delivers the
    target by the departure when it fits in PLAN_SHARE of the charger's maximum."""
    max_w, dt = 22_080.0, 60.0
    energy = share * PLAN_SHARE * max_w * duration_s / 3600
    s = EvSession("ev", energy_wh=energy, departure_ms=duration_s * 1000, cid="c", accepted_ms=0)
    s.observe(0, 0.0)
    t = 0
    while t < duration_s * 1000 and not s.done(t):
        allowed = vpp[(t // 60_000) % len(vpp)] * max_w
        draw = min(max_w, max(s.floor_w(t, max_w, dt), allowed))
        t += int(dt * 1000)
        s.observe(t, -draw)  # consumption is negative
    assert s.delivered_wh >= energy - 1e-6
