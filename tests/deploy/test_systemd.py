"""The shipped systemd units pass ``systemd-analyze verify`` with no warning."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import SAFETY_TIMEOUT, service_missing

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
VPP = Path(sys.executable).parent / "vpp"


def test_both_units_are_shipped() -> None:
    assert {unit.name for unit in UNITS} == {"lingtan-agent.service", "lingtan-hub.service"}
    for unit in UNITS:
        text = unit.read_text()
        assert "Restart=always" in text
        assert "NoNewPrivileges=yes" in text
        assert "ProtectSystem=strict" in text
    hub = (ROOT / "deploy" / "systemd" / "lingtan-hub.service").read_text()
    assert "EnvironmentFile=/etc/lingtan/hub.env" in hub


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_the_unit_verifies(unit: Path, tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        service_missing("systemd-analyze is needed (apt-get install systemd)")
    assert VPP.exists(), "the vpp entry point of this environment"
    # The install path of the executable is the only thing that differs from a real host.
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace("/opt/lingtan/venv/bin/vpp", str(VPP)))
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True, text=True, timeout=SAFETY_TIMEOUT * 2, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # Unknown keys and misplaced settings are warnings with exit code 0: none is allowed.
    assert proc.stderr.strip() == "", proc.stderr
