"""``vpp hub`` commands: migrate, user add, edge add, run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hub.cli import app
from hub.store import AuditEntry, User, create_engine, sessionmaker
from tests.support import SAFETY_TIMEOUT

runner = CliRunner()


def test_migrate_user_add_and_edge_add(db_url: str) -> None:
    result = runner.invoke(app, ["migrate", "--db", db_url])
    assert result.exit_code == 0, result.output
    name = f"ops-{uuid.uuid4().hex[:6]}"
    result = runner.invoke(
        app, ["user", "add", name, "--role", "operator", "--db", db_url], input="long password\n"
    )
    assert result.exit_code == 0, result.output
    assert f"user {name} (operator) saved" in result.output
    again = runner.invoke(
        app, ["user", "add", name, "--role", "operator", "--db", db_url], input="long password\n"
    )
    assert again.exit_code == 1
    reset = runner.invoke(
        app,
        ["user", "add", name, "--role", "admin", "--replace", "--db", db_url],
        input="another password\n",
    )
    assert reset.exit_code == 0
    short = runner.invoke(app, ["user", "add", "x", "--db", db_url], input="short\n")
    assert short.exit_code == 2
    role = runner.invoke(app, ["user", "add", "x", "--role", "king", "--db", db_url], input="")
    assert role.exit_code == 2

    edge = f"park-{uuid.uuid4().hex[:6]}"
    result = runner.invoke(
        app, ["edge", "add", edge, "--tenant", "acme", "--db", db_url, "--mqtt", "mqtt://hub:1883"]
    )
    assert result.exit_code == 0, result.output
    assert f'edge = "{edge}"' in result.output
    assert 'url = "mqtt://hub:1883"' in result.output
    assert f"topic write vpp/v1/acme/{edge}/data" in result.output
    assert f"user edge-{edge}" in result.output
    duplicate = runner.invoke(app, ["edge", "add", edge, "--tenant", "acme", "--db", db_url])
    assert duplicate.exit_code == 1
    # the same id in another tenant is another edge, with its own MQTT user and topics
    other = runner.invoke(app, ["edge", "add", edge, "--tenant", "globex", "--db", db_url])
    assert other.exit_code == 0, other.output
    assert f"user edge-globex.{edge}" in other.output
    assert f"topic write vpp/v1/globex/{edge}/data" in other.output
    invalid = runner.invoke(app, ["edge", "add", "bad/id", "--db", db_url])
    assert invalid.exit_code == 1
    audited = asyncio.run(_audit_of(db_url, [name, edge]))
    assert [(a, e) for a, e, _ in audited] == [
        ("create", "user"),
        ("replace", "user"),
        ("create", "edge"),
        ("create", "edge"),
    ]
    assert all(actor.startswith("cli:") for _, _, actor in audited)


async def _audit_of(db_url: str, names: list[str]) -> list[tuple[str, str, str]]:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as session:
            ids = list(await session.scalars(select(User.id).where(User.username == names[0])))
            rows = await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_id.in_([*ids, names[1]]))
                .order_by(AuditEntry.id)
            )
            return [(r.action, r.entity, r.actor) for r in rows]
    finally:
        await engine.dispose()


@pytest.mark.slow
def test_run_serves_the_api_while_the_broker_is_unreachable(
    tmp_path: os.PathLike[str], free_port: int
) -> None:
    from lingtan.broker import free_port as another_port

    db = f"sqlite+aiosqlite:///{tmp_path}/hub.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lingtan",
            "hub",
            "run",
            "--port",
            str(free_port),
            "--db",
            db,
            "--mqtt",
            f"mqtt://127.0.0.1:{another_port()}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "VPP_HUB_JWT_SECRET": "s" * 40},
    )
    try:
        deadline = time.monotonic() + SAFETY_TIMEOUT
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{free_port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "hub did not come up"
                time.sleep(0.1)
        assert r.status_code == 200
        assert r.json() == {"database": True, "mqtt": False, "commands": False}
        schema = httpx.get(f"http://127.0.0.1:{free_port}/schema/openapi.json", timeout=5)
        assert schema.status_code == 200
    finally:
        proc.terminate()
        proc.wait(SAFETY_TIMEOUT)
        if proc.stderr is not None:
            logs = proc.stderr.read().decode()
            proc.stderr.close()
            assert '"level": "warning"' in logs or '"level":"warning"' in logs
