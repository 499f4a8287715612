"""Site configuration: presets, TOML with errors that name the field, endpoint planning."""

from __future__ import annotations

from pathlib import Path

import pytest

import firmware_sims
from firmware_sims import (
    PRESET_NAMES,
    BatterySpec,
    HVACSpec,
    SimConfigError,
    SimSite,
    SiteSpec,
    load_preset,
    load_site_config,
    parse_site_config,
    plan_endpoints,
)
from protocol.clock import ManualClock

GOOD = """
name = "yard"
base_load_w = 250000.0

[[devices]]
kind = "battery"
name = "b1"
rated_w = 100000.0
capacity_wh = 200000.0
unit_id = 3

[[devices]]
kind = "meter"
name = "m1"

[[devices]]
kind = "hvac"
name = "ch1"
username = "op"
password = "pw"
"""


def test_presets_are_parks_of_different_size() -> None:
    sizes = [len(load_preset(name).devices) for name in PRESET_NAMES]
    assert len(PRESET_NAMES) >= 3
    assert len(set(sizes)) == len(sizes)
    park_a = load_preset("park-a")
    kinds = [type(d).__struct_config__.tag for d in park_a.devices]
    assert kinds.count("battery") == 2
    assert kinds.count("pv") == 3
    assert kinds.count("meter") == 1
    assert kinds.count("ev_charger") == 4
    assert kinds.count("hvac") == 1
    with pytest.raises(SimConfigError, match="preset: unknown preset 'nope'"):
        load_preset("nope")


def test_a_toml_site_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(GOOD)
    spec = load_site_config(path)
    assert spec.name == "yard"
    assert isinstance(spec.devices[0], BatterySpec)
    assert spec.devices[0].unit_id == 3
    assert isinstance(spec.devices[2], HVACSpec)
    eps = plan_endpoints(spec, host="127.0.0.2", port_base=20000)
    assert [(e.device, e.port, e.unit_id) for e in eps] == [
        ("b1", 20000, 3),
        ("m1", 20001, 1),
        ("ch1", 20002, None),
    ]
    assert eps[2].endpoint == "opc.tcp://127.0.0.2:20002/lingtan/ch1"
    assert plan_endpoints(spec, port_base=0)[0].port == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[devices]]\nkind = "battery"\nname = "b"\nrated_w = -5.0\n', "devices[0].rated_w"),
        ('[[devices]]\nkind = "battery"\nname = "b"\ncolour = "red"\n', "colour"),
        ('[[devices]]\nkind = "toaster"\nname = "b"\n', "devices[0].kind"),
        ('[[devices]]\nkind = "meter"\nname = "has space"\n', "devices[0].name"),
        ('[[devices]]\nkind = "meter"\nname = "m"\nunit_id = 300\n', "devices[0].unit_id"),
        ("devices = []\n", "devices"),
        ('base_load_w = "lots"\n[[devices]]\nkind = "meter"\nname = "m"\n', "base_load_w"),
        (
            '[[devices]]\nkind = "meter"\nname = "m"\n[[devices]]\nkind = "pv"\nname = "m"\n',
            "devices[1].name: duplicate",
        ),
        (
            '[[devices]]\nkind = "battery"\nname = "b"\nsoc_min_pct = 90.0\nsoc_max_pct = 10.0\n',
            "devices[0].soc_min_pct",
        ),
        ("this is = = not toml", "not valid TOML"),
        (
            '[[devices]]\nkind = "meter"\nname = "m"\n[[faults]]\ndevice = "x"\nkind = "drop"\n',
            "faults[0].device",
        ),
        (
            '[[devices]]\nkind = "meter"\nname = "m"\n[[faults]]\ndevice = "m"\nkind = "fire"\n',
            "faults[0].kind",
        ),
        (
            '[[devices]]\nkind = "meter"\nname = "m"\n[[faults]]\ndevice = "m"\nkind = "slow"\n'
            "params = {pace = 1.0}\n",
            "faults[0].params.pace",
        ),
    ],
)
def test_a_malformed_site_config_names_the_bad_field(text: str, message: str) -> None:
    with pytest.raises(SimConfigError) as info:
        parse_site_config(text)
    assert message in str(info.value)


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(SimConfigError, match="cannot read site config"):
        load_site_config(tmp_path / "absent.toml")


def test_plan_endpoints_is_pure_and_checks_the_port_range() -> None:
    spec = load_preset("park-l")
    assert plan_endpoints(spec) == plan_endpoints(spec)
    with pytest.raises(SimConfigError, match="port_base"):
        plan_endpoints(spec, port_base=65530)
    with pytest.raises(SimConfigError, match="port_base"):
        plan_endpoints(SiteSpec(devices=spec.devices), port_base=-1)


def test_public_api_is_declared() -> None:
    for name in firmware_sims.__all__:
        assert hasattr(firmware_sims, name), name
    assert sorted(firmware_sims.__all__) == sorted(set(firmware_sims.__all__))


def test_a_fault_schedule_in_the_config_plays_on_site_time() -> None:
    spec = parse_site_config(
        '[[devices]]\nkind = "battery"\nname = "b"\n'
        '[[faults]]\ndevice = "b"\nkind = "alarm"\nat_s = 60.0\nseconds = 30.0\n'
        '[[faults]]\ndevice = "b"\nkind = "slow"\nparams = {delay_s = 0.5}\n'
    )
    site = SimSite(spec, clock=ManualClock(), seed=0)
    assert site.faults("b") == {"slow": {"delay_s": 0.5}}
    site.step(59)
    assert not site.battery("b").alarm
    site.step(2)
    assert site.battery("b").alarm
    site.step(30)
    assert not site.battery("b").alarm
    assert site.faults("b") == {"slow": {"delay_s": 0.5}}


def test_the_documented_battery_addresses_match_the_map() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "sims.md").read_text(encoding="utf-8")
    site = SimSite(load_preset("park-a"), clock=ManualClock())
    smap = site.sunspec_map("bess-1")
    for model, name in [
        (704, "WSet"),
        (704, "WSetEna"),
        (704, "WSetRvrtTms"),
        (702, "WChaRteMax"),
        (702, "WDisChaRteMax"),
        (713, "SoC"),
    ]:
        p = smap.point(model, name)
        assert f"| {p.address} | {model} | {name} |" in doc, name


def test_device_kinds_and_typed_accessors() -> None:
    from firmware_sims import SimControlError

    site = SimSite(load_preset("park-a"), clock=ManualClock())
    kinds = {name: site.device_kind(name) for name in site.names}
    assert kinds["bess-1"] == "battery"
    assert kinds["chiller-1"] == "hvac"
    assert sorted(set(kinds.values())) == ["battery", "ev_charger", "hvac", "meter", "pv"]
    assert site.pv("pv-2").rated_w == 300_000
    with pytest.raises(SimControlError, match="'pv-1' is not a Battery"):
        site.battery("pv-1")
    with pytest.raises(SimControlError, match="not a SunSpec device"):
        site.sunspec_map("evse-1")
