"""Packaging: what each extra installs, resolved by pip itself against the registries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import SAFETY_TIMEOUT, service_missing

ROOT = Path(__file__).resolve().parents[1]
HUB_ONLY = {"litestar", "sqlalchemy", "alembic", "asyncpg", "highspy", "uvicorn", "amqtt"}


def resolve(extra: str, tmp_path: Path) -> set[str]:
    """Names pip would install into an empty environment for ``lingtan-vpp[extra]``."""
    report = tmp_path / f"{extra}.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
         "--quiet", "--disable-pip-version-check", "--report", str(report), f".[{extra}]"],
        cwd=ROOT, capture_output=True, text=True, timeout=SAFETY_TIMEOUT * 12, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        service_missing(f"pip could not resolve .[{extra}]: {proc.stderr[-500:]}")
    data = json.loads(report.read_text())
    return {item["metadata"]["name"].lower().replace("_", "-") for item in data["install"]}


@pytest.mark.slow
def test_agent_extra_does_not_pull_the_hub(tmp_path: Path) -> None:
    names = resolve("agent", tmp_path)
    assert {"pymodbus", "asyncua", "aiomqtt", "aiosqlite", "msgspec", "typer"} <= names
    assert not names & HUB_ONLY, names & HUB_ONLY


@pytest.mark.slow
def test_hub_extra_pulls_the_hub_stack(tmp_path: Path) -> None:
    names = resolve("hub", tmp_path)
    assert {"litestar", "sqlalchemy", "alembic", "asyncpg"} <= names
    assert "pymodbus" not in names


def test_apis_that_move_are_pinned_exactly() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    for pin in ('"pymodbus==', '"asyncua==', '"litestar==', '"highspy=='):
        assert pin in text, pin
