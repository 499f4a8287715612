"""The ``vpp`` command line: version, groups, missing extras, the demo."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from lingtan import __version__
from lingtan.broker import mosquitto_binary
from lingtan.cli import _mount, app
from lingtan.demo import DemoOptions, rated_kw, run_demo
from tests.support import SAFETY_TIMEOUT, service_missing

runner = CliRunner()


def test_version_is_printed() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"vpp (lingtan-vpp) {__version__}"


def test_every_command_group_is_listed_in_help() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in ("demo", "hub", "agent", "sim", "market", "broker", "protocol"):
        assert group in result.stdout


def test_vpp_script_entry_point_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lingtan", "--version"],
        capture_output=True,
        text=True,
        timeout=SAFETY_TIMEOUT * 2,
        check=False,
    )
    assert proc.returncode == 0
    assert __version__ in proc.stdout


@pytest.mark.parametrize(
    ("group", "command"),
    [("hub", "run"), ("agent", "run"), ("sim", "site"), ("market", "sim")],
)
def test_every_group_runs_its_commands(group: str, command: str) -> None:
    """A group loaded on use is still a group, even with one command (``vpp market sim``)."""
    result = runner.invoke(app, [group, command, "--help"])
    assert result.exit_code == 0, result.output
    assert f"{group} {command}" in result.output


def test_a_group_whose_extra_is_missing_says_what_to_install() -> None:
    _mount("tests.lingtan._cli_missing_dependency", "missing", "hub", "Needs the hub.")
    result = runner.invoke(app, ["missing"])
    assert result.exit_code == 2
    assert 'pip install "lingtan-vpp[hub]"' in result.output
    assert "not_installed_dependency_for_tests" in result.output


def test_a_broken_module_of_ours_is_not_mistaken_for_a_missing_extra() -> None:
    _mount("lingtan.no_such_module", "broken", "hub", "Broken.")
    result = runner.invoke(app, ["broken"])
    assert isinstance(result.exception, ModuleNotFoundError)


def test_a_group_is_imported_only_when_it_runs() -> None:
    """``vpp agent ...`` starts without importing the hub, numpy or the simulators."""
    code = (
        "import sys; from lingtan.cli import app; from typer.testing import CliRunner; "
        "r = CliRunner().invoke(app, ['agent', '--help']); assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('hub', 'numpy', 'firmware_sims', 'edge_agent') "
        "if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=SAFETY_TIMEOUT * 2,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['edge_agent']"


def test_demo_options_are_validated_by_the_cli() -> None:
    result = runner.invoke(app, ["demo", "--speed", "0"])
    assert result.exit_code == 2
    assert "--speed" in result.output


async def test_demo_prints_the_url_the_login_and_a_live_status(tmp_path: Path) -> None:
    if mosquitto_binary() is None:
        service_missing("mosquitto is not installed")
    out = io.StringIO()
    console = Console(file=out, width=200)
    options = DemoOptions(
        workdir=tmp_path / "demo", port=0, password="pw-123456", run_for=1.5, status_every_s=0.3
    )
    code = await run_demo(options, console)
    text = out.getvalue()
    assert code == 0, text
    assert "MQTT broker" in text
    assert "simulated park park-a: 11 devices" in text
    assert "/schema" in text
    assert re.search(r"console\s+http://127\.0\.0\.1:\d+/ ", text), text
    assert "user demo, password pw-123456" in text
    assert "online " in text
    assert "grid import" in text
    assert (tmp_path / "demo" / "hub.db").exists()
    assert (tmp_path / "demo" / "outbox.db").exists()


async def test_demo_fresh_starts_over(tmp_path: Path) -> None:
    if mosquitto_binary() is None:
        service_missing("mosquitto is not installed")
    workdir = tmp_path / "demo"
    workdir.mkdir()
    (workdir / "hub.db").write_text("not a database: an earlier run's leftovers")
    options = DemoOptions(workdir=workdir, port=0, fresh=True, run_for=0.1)
    assert await run_demo(options, Console(file=io.StringIO())) == 0
    assert (workdir / "hub.db").read_bytes().startswith(b"SQLite format 3")


async def test_demo_fresh_refuses_to_delete_what_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "thesis.tex"
    precious.write_text("years of work")
    out = io.StringIO()
    options = DemoOptions(workdir=tmp_path, port=0, fresh=True, run_for=0.1)
    assert await run_demo(options, Console(file=out, width=200)) == 1
    assert precious.exists()
    assert "thesis.tex" in out.getvalue()


def test_demo_counts_ev_chargers_by_their_current_rating() -> None:
    from firmware_sims import BatterySpec, EVChargerSpec

    assert rated_kw(EVChargerSpec(name="ev-1", max_a=32.0)) == 32.0 * 230 * 3 / 1000
    assert rated_kw(BatterySpec(name="bess-1", rated_w=500_000.0)) == 500.0


def run_demo_until_signalled(tmp_path: Path, stop_signal: signal.Signals) -> tuple[int, str]:
    """Start `vpp demo`, signal it as soon as it is up, return its exit code and output."""
    log = tmp_path / "demo.log"
    with log.open("wb") as sink:  # a file, not a pipe: nothing blocks on a full buffer
        proc = subprocess.Popen(
            [sys.executable, "-m", "lingtan", "demo", "--port", "0", "--password", "pw-123456",
             "--workdir", str(tmp_path / "demo")],
            stdout=subprocess.DEVNULL, stderr=sink,
        )  # fmt: skip
    try:
        for _ in range(int(SAFETY_TIMEOUT * 4 / 0.05)):
            if "Press Ctrl-C" in log.read_text(errors="replace") or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert "Press Ctrl-C" in log.read_text(errors="replace"), log.read_text()
    finally:
        proc.send_signal(stop_signal)  # at once: devices may still be connecting
        try:
            proc.wait(SAFETY_TIMEOUT * 2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode, log.read_text(errors="replace")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_vpp_demo_stops_cleanly_on_sigterm_and_ctrl_c(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    if mosquitto_binary() is None:
        service_missing("mosquitto is not installed")
    code, output = run_demo_until_signalled(tmp_path, stop_signal)
    assert code == 0, output
    assert "Traceback" not in output, output
