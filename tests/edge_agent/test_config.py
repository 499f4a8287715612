"""Config: typed TOML, unknown fields rejected, errors naming the field and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent import ConfigError, load_config, parse_config
from tests.edge_agent.conftest import device_toml, make_config

GOOD = """
[site]
tenant = "acme"
edge = "park-a"

[site.limits]
import_max_w = 400000.0
export_max_w = 100000.0

[hub]
url = "mqtts://broker.example:8883"
ca_file = "/etc/lingtan/ca.pem"
cert_file = "/etc/lingtan/edge.pem"
key_file = "/etc/lingtan/edge.key"

[[devices]]
id = "bess-1"
kind = "battery"
port = 15020

[devices.limits]
p_max_discharge_w = 250000.0
p_max_charge_w = 250000.0
"""


def test_a_complete_config_decodes_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.site.edge == "park-a"
    assert config.hub.tls and config.hub.port == 8883 and config.hub.host == "broker.example"
    assert config.devices[0].limits.p_max_charge_w == 250_000.0
    assert config.site.default_control.mode == "self_consumption"
    assert config.outbox.commit_interval_s == 1.0


def test_an_unknown_field_is_rejected_naming_field_and_line() -> None:
    text = GOOD.replace("port = 15020", "port = 15020\npoll_intervall_s = 2")
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert info.value.field == "$.devices[0].poll_intervall_s"
    assert info.value.line == text.splitlines().index("poll_intervall_s = 2") + 1
    assert "line" in str(info.value)


def test_a_wrong_type_names_the_field() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(GOOD.replace("import_max_w = 400000.0", 'import_max_w = "lots"'))
    assert info.value.field == "$.site.limits.import_max_w"
    assert info.value.line is not None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('id = "bess-1"', 'id = "data"'), "$.devices[0].id"),
        (('url = "mqtts://broker.example:8883"', 'url = "http://x"'), "$.hub.url"),
        (('edge = "park-a"', 'edge = "park/a"'), "$.site"),
        (('kind = "battery"', 'kind = "battery"\nregister_map = "nope"'),
         "$.devices[0].register_map"),
        (('kind = "battery"', 'kind = "battery"\nprotocol = "opcua"'), "$.devices[0].endpoint"),
    ],
)  # fmt: skip
def test_semantic_errors_name_the_field(change: tuple[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(GOOD.replace(*change))
    assert info.value.field == field


def test_duplicate_devices_and_unknown_meter_are_rejected(tmp_path: Path) -> None:
    twice = device_toml("b1", "battery") + device_toml("b1", "battery")
    with pytest.raises(ConfigError, match="duplicate device id"):
        make_config(tmp_path, devices=twice)
    with pytest.raises(ConfigError, match=r"site\.meter"):
        make_config(tmp_path, site_extra='meter = "m9"')


def test_malformed_toml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="malformed TOML"):
        parse_config("[site\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_limits_checks_run_at_load() -> None:
    bad = GOOD.replace("p_max_charge_w = 250000.0", "p_max_charge_w = 1.0\nsoc_min_pct = 90\n"
                       "soc_max_pct = 10")  # fmt: skip
    with pytest.raises(ConfigError, match="soc_min_pct"):
        parse_config(bad)


def test_custom_register_maps_are_typed(tmp_path: Path) -> None:
    devices = device_toml("ev", "ev_charger", extra='register_map = "evse"\n')
    devices += """
[register_maps.evse]
points = [{ name = "p_w", address = 2, type = "uint32", scale = -1.0, role = "p_w" }]
"""
    config = make_config(tmp_path, devices=devices)
    assert config.register_maps["evse"].points[0].type == "uint32"
    assert config.meter_id is None


def test_revert_period_shorter_than_two_control_cycles_is_rejected(tmp_path: Path) -> None:
    devices = device_toml("b1", "battery", limits="revert_s = 3.0\n")
    with pytest.raises(ConfigError) as info:
        make_config(tmp_path, devices=devices, control_period_s=2.0)
    assert info.value.field == "$.devices[0].limits.revert_s"
    make_config(tmp_path, devices=devices, control_period_s=1.5)  # 2 cycles fit: accepted
