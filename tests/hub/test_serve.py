"""In-process serving and demo seeding (what ``vpp demo`` uses)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import httpx
import pytest

from hub import DemoDevice, Settings, demo_seed, serve
from hub._context import HubContext
from hub.jobs import Lease, SingletonJob
from tests.support import SAFETY_TIMEOUT

from .conftest import JWT_SECRET


async def test_serve_runs_uvicorn_and_demo_seed_is_idempotent(clean_db: str) -> None:
    settings = Settings(db_url=clean_db, mqtt_url=None, jwt_secret=JWT_SECRET)
    devices: list[DemoDevice | tuple[str, str, float, float]] = [
        DemoDevice("bess-1", "battery", 250.0, 500.0),
        ("pv-1", "pv", 300.0, 0.0),
        ("meter-1", "meter", 1000.0, 0.0),
    ]
    seeded = await demo_seed(
        settings, edge="park-a", tenant="demo", devices=devices, password="demo-password"
    )
    again = await demo_seed(
        settings, edge="park-a", tenant="demo", devices=devices, password="demo-password"
    )
    assert again == seeded
    assert set(seeded.instance_ids) == {"bess-1", "pv-1", "meter-1"}
    async with serve(settings) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        login = await http.post(
            "/api/v1/auth/login", json={"username": "demo", "password": "demo-password"}
        )
        assert login.status_code == 200
        h = {"Authorization": f"Bearer {login.json()['access_token']}"}
        vpp = (await http.get(f"/api/v1/vpp/vpps/{seeded.vpp_id}", headers=h)).json()
        assert {m["resource_id"] for m in vpp["resources"]} == {
            seeded.instance_ids["bess-1"],
            seeded.instance_ids["pv-1"],
        }
        agg = (
            await http.get(f"/api/v1/vpp/vpps/{seeded.vpp_id}/aggregated-params", headers=h)
        ).json()
        assert agg["total_capacity"] == 550.0
        edges = (await http.get("/api/v1/edges", headers=h)).json()
        assert edges[0]["tenant"] == "demo"
    async with httpx.AsyncClient() as http:
        try:
            await http.get(f"{url}/healthz", timeout=1)
            stopped = False
        except httpx.TransportError:
            stopped = True
    assert stopped


async def test_a_shutdown_that_never_ends_is_cancelled_and_named(
    clean_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A job that ignores its stop keeps the lifespan from ending: serve() still returns
    after its shutdown bound, and its warning names the stuck task."""
    release = asyncio.Event()
    started = asyncio.Event()

    async def stubborn(_ctx: HubContext, _lease: Lease) -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await release.wait()  # ignores the stop until the test lets it go
            raise

    settings = Settings(db_url=clean_db, mqtt_url=None, jwt_secret=JWT_SECRET, run_jobs=True)
    job = SingletonJob(name="stubborn", interval_s=3600.0, run=stubborn)
    try:
        with caplog.at_level(logging.WARNING, logger="hub._serve"):
            async with serve(settings, jobs=(job,), shutdown_timeout_s=0.5) as url:
                async with httpx.AsyncClient(base_url=url) as http:
                    assert (await http.get("/healthz")).status_code == 200
                await asyncio.wait_for(started.wait(), 30)
        warned = [r.getMessage() for r in caplog.records if "did not stop" in r.getMessage()]
        assert len(warned) == 1 and "stubborn" in warned[0], warned
    finally:
        release.set()
        for _ in range(100):  # the lifespan, let go, ends by itself
            if not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                break
            await asyncio.sleep(0.05)


async def test_an_idle_connection_outlives_the_clients_keep_alive(tmp_path: Path) -> None:
    """httpx drops an idle pooled connection after 5 s; the hub must not close it first
    (uvicorn's own 5 s raced it: a request sent as the hub closed the socket was reset)."""
    settings = Settings(db_url=f"sqlite:///{tmp_path}/hub.db", mqtt_url=None, jwt_secret=JWT_SECRET)
    client_keep_alive_s = 5.0  # httpx's default keepalive_expiry
    async with serve(settings) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        request = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        try:
            for second in (False, True):
                writer.write(request)
                await writer.drain()
                async with asyncio.timeout(10):
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                    await reader.readexactly(length)
                assert head.startswith(b"HTTP/1.1 200"), head
                if not second:
                    await asyncio.sleep(client_keep_alive_s + 1.0)  # idle past the client's
                    assert not reader.at_eof()  # the hub kept it open
        finally:
            writer.close()


async def test_serve_leaves_sigint_and_sigterm_to_the_program_that_runs_it(
    tmp_path: Path,
) -> None:
    """`vpp demo` stops park, agent and hub in its own order on Ctrl-C or SIGTERM. uvicorn's
    `Server.serve()` took both signals over while the hub ran: a Ctrl-C stopped the hub
    alone (the agent and the park running on without it) and reached the demo only after the
    hub's whole shutdown; a SIGTERM reached the demo twice, the second time mid-stop."""
    settings = Settings(db_url=f"sqlite:///{tmp_path}/hub.db", mqtt_url=None, jwt_secret=JWT_SECRET)
    loop = asyncio.get_running_loop()
    terminated = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, terminated.set)  # what `vpp demo` does
    try:
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        async with serve(settings) as url, httpx.AsyncClient(base_url=url) as http:
            assert {sig: signal.getsignal(sig) for sig in handlers} == handlers
            os.kill(os.getpid(), signal.SIGTERM)
            async with asyncio.timeout(SAFETY_TIMEOUT):
                await terminated.wait()
            assert (await http.get("/healthz")).status_code == 200  # the program's to stop
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
