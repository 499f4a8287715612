"""Schedule book, default controls and per-cycle decisions (pure, no I/O)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from edge_agent import (
    Applied,
    Clamped,
    ConfigError,
    CycleInput,
    DefaultControlConfig,
    DeviceView,
    ScheduleBook,
    SiteLimitsConfig,
    decide,
    default_targets,
    merge_site_config,
)
from edge_agent._control import ManualOverride
from edge_agent.devices import DeviceStatus, Reading, WriteResult
from protocol import (
    DefaultControl,
    DeviceLimits,
    DeviceTarget,
    DispatchInterval,
    DispatchSchedule,
    SiteConfig,
    SiteLimits,
)
from tests.edge_agent.conftest import device_toml, make_config

T0 = 1_767_225_600_000


def schedule(version: int = 1, *, device: str = "b1", p: float = 50_000.0,
             start: int = T0, end: int = T0 + 60_000, expires: int = T0 + 3_600_000,
             sid: str = "s1") -> DispatchSchedule:  # fmt: skip
    return DispatchSchedule(
        id=sid,
        version=version,
        edge="site-1",
        issued_ts_ms=T0 - 1000,
        expires_ts_ms=expires,
        intervals=[
            DispatchInterval(start_ts_ms=start, end_ts_ms=end,
                             targets=[DeviceTarget(device=device, p_target_w=p,
                                                   instruction_id="i-1")])
        ],
    )  # fmt: skip


def view(dev: str, p: float = 0.0, soc: float | None = 50.0,
         status: DeviceStatus = DeviceStatus.ONLINE) -> DeviceView:  # fmt: skip
    return DeviceView(dev, status, Reading(values={}, p_w=p, soc_pct=soc), 0.0, None)


def test_book_accepts_newer_and_rejects_stale_unknown_and_expired() -> None:
    book = ScheduleBook()
    known, ctrl = {"b1", "m1"}, {"b1": None}
    kw = {"edge": "site-1", "controllable": ctrl, "known": known, "now_ms": T0}
    assert book.check(schedule(1), **kw).accepted  # type: ignore[arg-type]
    book.accept(schedule(2))
    assert book.check(schedule(2), **kw).duplicate  # type: ignore[arg-type]
    stale = book.check(schedule(1, sid="other"), **kw)  # type: ignore[arg-type]
    assert not stale.accepted and "stale" in stale.reason
    unknown = book.check(schedule(3, device="zz"), **kw)  # type: ignore[arg-type]
    assert "unknown device" in unknown.reason
    meter = book.check(schedule(3, device="m1"), **kw)  # type: ignore[arg-type]
    assert "cannot be controlled" in meter.reason
    old = book.check(schedule(3, expires=T0 - 1), **kw)  # type: ignore[arg-type]
    assert "expired" in old.reason
    other = book.check(schedule(3), **{**kw, "edge": "x"})  # type: ignore[arg-type]
    assert "edge" in other.reason


def test_book_answers_what_is_in_force_when() -> None:
    book = ScheduleBook()
    assert book.targets_at(T0) is None and book.finished(T0) == "none"
    book.accept(schedule(1, start=T0 + 10_000, end=T0 + 20_000, expires=T0 + 30_000))
    assert book.targets_at(T0) is None
    assert book.targets_at(T0 + 10_000) == (T0 + 10_000, {"b1": (50_000.0, "i-1")})
    assert book.targets_at(T0 + 20_000) is None
    assert book.finished(T0 + 25_000) == "done"
    assert book.finished(T0 + 30_000) == "expired"
    book.clear()
    assert book.schedule is None


@pytest.mark.parametrize(
    ("mode", "poc", "batt_now", "expected"),
    [
        ("self_consumption", 30_000.0, 0.0, 30_000.0),
        ("self_consumption", -20_000.0, 0.0, -20_000.0),
        ("zero_export", 30_000.0, 0.0, 0.0),
        ("zero_export", -20_000.0, 0.0, -20_000.0),
        ("peak_shaving", 80_000.0, 0.0, 30_000.0),
        ("peak_shaving", 20_000.0, 0.0, -30_000.0),
        ("idle", 80_000.0, 10_000.0, 0.0),
    ],
)
def test_default_controls(mode: str, poc: float, batt_now: float, expected: float) -> None:
    control = DefaultControlConfig(mode=mode, peak_limit_w=50_000.0)  # type: ignore[arg-type]
    out = default_targets(control, batteries={"b1": (-100_000.0, 100_000.0)}, pv={},
                          views={"b1": view("b1", batt_now)}, poc_import_w=poc)  # fmt: skip
    assert out["b1"] == pytest.approx(expected)


def test_zero_export_curtails_pv_when_batteries_cannot_absorb() -> None:
    control = DefaultControlConfig(mode="zero_export")
    out = default_targets(control, batteries={"b1": (-10_000.0, 10_000.0)},
                          pv={"pv1": 100_000.0}, views={"pv1": view("pv1", 60_000.0)},
                          poc_import_w=-30_000.0)  # fmt: skip
    assert out["b1"] == pytest.approx(-10_000.0)
    assert out["pv1"] == pytest.approx(40_000.0)  # 60 kW produced, 20 kW still exported


def test_no_meter_reading_means_batteries_idle() -> None:
    out = default_targets(DefaultControlConfig(), batteries={"b1": (-1.0, 1.0)}, pv={"p": 5.0},
                          views={}, poc_import_w=None)  # fmt: skip
    assert out == {"b1": 0.0, "p": 5.0}


def test_a_schedule_runs_to_its_expiry_whatever_the_link(tmp_path: Path) -> None:
    # A schedule used to stop after watchdog_s (300 s) of hub silence: a market award
    # must be delivered through a cloud outage.
    devices = device_toml("b1", "battery") + device_toml("m1", "meter")
    config = make_config(tmp_path, devices=devices, watchdog_s=300.0)
    book = ScheduleBook()
    book.accept(schedule(1, p=250_000.0, end=T0 + 7_200_000, expires=T0 + 7_200_000))
    views = {"b1": view("b1"), "m1": view("m1", 40_000.0)}
    [d] = decide(config, book, CycleInput(now_ms=T0, views=views, hub_silent_s=0.0, dt_s=1.0))
    assert d.source == "schedule" and d.schedule_id == "s1" and d.instruction_id == "i-1"
    assert d.result == Clamped(100_000.0, 250_000.0, "device_max_discharge")
    later = T0 + 3_600_000
    [o] = decide(config, book, CycleInput(now_ms=later, views=views, hub_silent_s=3600.0,
                                          dt_s=1.0))  # fmt: skip
    assert o.source == "schedule" and o.result == d.result  # an hour offline: still followed
    assert not book.offline_stopped(3600.0)
    [e] = decide(config, book, CycleInput(now_ms=T0 + 7_200_000, views=views,
                                          hub_silent_s=7200.0, dt_s=1.0))  # fmt: skip
    assert e.source == "default" and e.result == Applied(40_000.0)  # expired: self-consumption


def test_a_schedule_with_max_offline_s_stops_when_the_hub_is_silent_that_long(
    tmp_path: Path,
) -> None:
    devices = (
        device_toml("b1", "battery") + device_toml("b2", "battery") + device_toml("m1", "meter")
    )
    config = make_config(tmp_path, devices=devices, watchdog_s=300.0)
    book = ScheduleBook()
    book.accept(msgspec.structs.replace(schedule(1, p=-20_000.0), max_offline_s=30.0))
    views = {"b1": view("b1"), "b2": view("b2"), "m1": view("m1", 30_000.0)}

    def at(silent: float) -> dict[str, tuple[str, float]]:
        out = decide(config, book, CycleInput(T0 + 10_000, views, silent, 1.0))
        return {d.device: (d.source, d.result.p_w) for d in out}  # type: ignore[union-attr]

    # within max_offline_s (and below watchdog_s) the schedule runs; b2 is on default
    assert at(30.0) == {"b1": ("schedule", -20_000.0), "b2": ("default", 30_000.0)}
    # beyond it the schedule stops, well before the link watchdog: default control, and
    # only b1 (whose target was ended) says the watchdog did it
    sources = at(30.5)
    assert sources["b1"][0] == "watchdog" and sources["b2"][0] == "default"
    assert sources["b1"][1] + sources["b2"][1] == pytest.approx(30_000.0)  # self-consumption
    assert book.offline_stopped(30.5) and not book.offline_stopped(30.0)


def test_the_link_watchdog_ends_a_manual_command_and_the_schedule_takes_over(
    tmp_path: Path,
) -> None:
    devices = device_toml("b1", "battery") + device_toml("m1", "meter")
    config = make_config(tmp_path, devices=devices, watchdog_s=60.0)
    views = {"b1": view("b1"), "m1": view("m1", 40_000.0)}
    manual = {"b1": ManualOverride(-50_000.0, T0 + 86_400_000, "c1")}
    empty = ScheduleBook()
    [m] = decide(config, empty, CycleInput(T0, views, 60.0, 1.0, manual))
    assert m.source == "manual" and m.result == Applied(-50_000.0)
    [w] = decide(config, empty, CycleInput(T0, views, 60.5, 1.0, manual))
    assert w.source == "watchdog" and w.result == Applied(40_000.0)  # never the stale -50 kW
    # with a schedule in force for b1, the schedule (which runs offline) takes over
    book = ScheduleBook()
    book.accept(schedule(1, p=10_000.0))
    [s] = decide(config, book, CycleInput(T0, views, 600.0, 1.0, manual))
    assert s.source == "schedule" and s.result == Applied(10_000.0)
    # an expired manual command is not "ended by the watchdog": plain default control
    old = {"b1": ManualOverride(-50_000.0, T0 - 1, "c0")}
    [d] = decide(config, empty, CycleInput(T0, views, 600.0, 1.0, old))
    assert d.source == "default"


def test_decide_skips_offline_and_unconfigured_devices(tmp_path: Path) -> None:
    devices = (device_toml("b1", "battery") + device_toml("b2", "battery")
               + device_toml("ev", "ev_charger", extra='register_map = "x"\n')
               + '\n[register_maps.x]\npoints = [{ name = "p", address = 0 }]\n')  # fmt: skip
    config = make_config(tmp_path, devices=devices)
    views = {"b1": view("b1", status=DeviceStatus.ERROR), "b2": view("b2"), "ev": view("ev")}
    decisions = decide(config, ScheduleBook(),
                       CycleInput(now_ms=T0, views=views, hub_silent_s=0.0, dt_s=1.0))  # fmt: skip
    assert [d.device for d in decisions] == ["b2"]
    assert decisions[0].result == Applied(0.0)  # no meter: idle


def test_decide_uses_previous_setpoint_for_ramps(tmp_path: Path) -> None:
    devices = device_toml("b1", "battery", limits="ramp_w_per_s = 1000.0\n")
    config = make_config(tmp_path, devices=devices)
    book = ScheduleBook()
    book.accept(schedule(1, p=50_000.0))
    v = DeviceView("b1", DeviceStatus.ONLINE, Reading(values={}, p_w=0.0, soc_pct=50.0), 0.0,
                   WriteResult(10_000.0, 10.0))  # fmt: skip
    [d] = decide(config, book, CycleInput(now_ms=T0, views={"b1": v}, hub_silent_s=0.0, dt_s=1.0))
    assert d.result == Clamped(11_000.0, 50_000.0, "ramp_rate")


def test_pushed_config_only_narrows_local_limits(tmp_path: Path) -> None:
    config = make_config(tmp_path, devices=device_toml("b1", "battery"))
    pushed = SiteConfig(
        edge="site-1", version=2, ts_ms=T0,
        site_limits=SiteLimits(import_max_w=5e6, export_max_w=1000.0, soc_min_pct=20.0),
        default_control=DefaultControl(mode="peak_shaving", peak_limit_w=9000.0),
        device_limits=[DeviceLimits(device="b1", p_max_discharge_w=1e9, p_max_charge_w=10.0)],
        watchdog_s=60.0,
    )  # fmt: skip
    merged = merge_site_config(config, pushed)
    assert merged.site.limits.import_max_w == 1_000_000.0  # local is narrower
    assert merged.site.limits.export_max_w == 1000.0
    assert merged.site.limits.soc_min_pct == 20.0
    assert merged.devices[0].limits.p_max_discharge_w == 100_000.0
    assert merged.devices[0].limits.p_max_charge_w == 10.0
    assert merged.site.default_control.mode == "peak_shaving" and merged.site.watchdog_s == 60.0
    unknown = SiteConfig(
        edge="site-1",
        version=3,
        ts_ms=T0,
        site_limits=pushed.site_limits,
        device_limits=[DeviceLimits(device="zz", p_max_discharge_w=1.0)],
    )
    with pytest.raises(ConfigError, match="unknown device"):
        merge_site_config(config, unknown)
    empty = SiteConfig(edge="site-1", version=3, ts_ms=T0,
                       site_limits=SiteLimits(import_max_w=1, export_max_w=1, soc_min_pct=99,
                                              soc_max_pct=99.5))  # fmt: skip
    with pytest.raises(ConfigError, match="SoC window"):
        merge_site_config(config, empty)


@pytest.mark.parametrize("order", ["pv_first", "battery_first"])
def test_pv_cap_decided_first_does_not_loosen_the_import_limit_of_a_battery(
    tmp_path: Path, order: str
) -> None:
    # Load 50 kW, PV producing 50 kW (all it can), battery idle: import 0. A manual charge
    # of 100 kW may only take import to the 10 kW limit. The PV cap used to be counted as
    # if it were produced, so a battery decided after it could charge 30 kW.
    pv, battery = device_toml("pv1", "pv"), device_toml("b1", "battery")
    devices = (pv + battery if order == "pv_first" else battery + pv) + device_toml("m1", "meter")
    config = make_config(tmp_path, devices=devices, default_control='mode = "idle"')
    limits = SiteLimitsConfig(import_max_w=10_000.0, export_max_w=20_000.0)
    config = msgspec.structs.replace(
        config, site=msgspec.structs.replace(config.site, limits=limits)
    )
    views = {"pv1": view("pv1", 50_000.0), "b1": view("b1", 0.0), "m1": view("m1", 0.0)}
    manual = {"b1": ManualOverride(-100_000.0, T0 + 60_000, "c1")}
    decisions = decide(config, ScheduleBook(), CycleInput(T0, views, 0.0, 1.0, manual))
    out = {d.device: d.result for d in decisions}
    assert isinstance(out["b1"], Clamped) and out["b1"].reason == "poc_import_limit"
    pv_after = min(50_000.0, out["pv1"].p_w)  # type: ignore[union-attr]
    import_after = 50_000.0 - out["b1"].p_w - pv_after
    assert import_after == pytest.approx(10_000.0)


def test_a_non_finite_meter_reading_counts_as_no_reading(tmp_path: Path) -> None:
    devices = device_toml("b1", "battery") + device_toml("m1", "meter")
    config = make_config(tmp_path, devices=devices)  # self-consumption
    views = {"b1": view("b1", 0.0), "m1": view("m1", float("nan"))}
    decisions = decide(config, ScheduleBook(), CycleInput(T0, views, 0.0, 1.0))
    assert [(d.device, d.result) for d in decisions] == [("b1", Applied(0.0))]
