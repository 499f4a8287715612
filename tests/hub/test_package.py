"""Package surface: public names, settings from the environment, JSON logs, imports."""

from __future__ import annotations

import importlib
import json
import logging
import subprocess
import sys

import pytest

import hub
from hub import Settings
from hub._logging import JsonFormatter

CAPABILITIES = ("hub.catalogue", "hub.vpps", "hub.dispatch", "hub.ingest", "hub.auth", "hub.ops")


def test_public_names_resolve_and_unknown_ones_fail() -> None:
    for name in hub.__all__:
        assert getattr(hub, name) is not None
    with pytest.raises(AttributeError):
        _ = hub.nothing_here
    for package in CAPABILITIES:
        module = importlib.import_module(package)
        assert all(hasattr(module, name) for name in module.__all__)
        with pytest.raises(AttributeError):
            _ = getattr(module, "nothing_here")  # noqa: B009


def test_settings_come_from_the_environment_then_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPP_HUB_DB", "postgresql://db/x")
    monkeypatch.setenv("VPP_HUB_RATE_LIMIT", "0")
    monkeypatch.setenv("VPP_HUB_TENANT", "acme")
    settings = Settings.from_env(mqtt_url="mqtt://broker:1883", jwt_secret=None)
    assert settings.db_url == "postgresql://db/x" and settings.rate_limit_per_minute == 0
    assert settings.mqtt_url == "mqtt://broker:1883" and settings.tenant == "acme"
    assert Settings.from_env(db_url="sqlite:///x.db").db_url == "sqlite:///x.db"


def test_logs_are_one_json_object_per_line() -> None:
    record = logging.LogRecord(
        "hub.x", logging.WARNING, __file__, 1, "broker %s down", ("b",), None
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "warning" and line["msg"] == "broker b down"
    assert line["logger"] == "hub.x"
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert "boom" in json.loads(JsonFormatter().format(record))["exc"]


def test_hub_never_imports_the_edge_agent_or_the_simulators() -> None:
    code = (
        f"import sys, hub, hub.app, hub.cli, hub.store, {', '.join(CAPABILITIES)}; "
        "bad = [m for m in sys.modules if m.split('.')[0] in {'edge_agent', 'firmware_sims'}]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_cli_does_not_load_litestar_or_sqlalchemy() -> None:
    code = (
        "import sys, hub.cli; "
        "print(any(m.startswith(('litestar', 'sqlalchemy')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_pure_logic_of_each_capability_loads_without_io_libraries() -> None:
    """The backtest imports aggregation, disaggregation and the parameter rules without
    Litestar, SQLAlchemy or MQTT: controllers and services load lazily, on first use."""
    code = (
        "import sys, hub.catalogue, hub.vpps, hub.dispatch, hub.ingest, hub.strategy; "
        "from hub.vpps import aggregate; from hub.dispatch import disaggregate; "
        "io = ('litestar', 'sqlalchemy', 'aiomqtt', 'paho', 'httpx', 'argon2', 'jwt'); "
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(io)}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    # and the lazy names resolve to the I/O side once asked for
    import hub.vpps

    assert hub.vpps.VppController.path == "/api/v1/vpp/vpps"
