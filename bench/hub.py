"""Hub benchmarks against floors measured in the same run (PostgreSQL).

API: ``GET .../aggregated-params`` and the instance list page under N concurrent
connections, next to ``/healthz`` on the same server (the floor: a trivial Litestar
route). Targets: p99 <= 50 ms and >= 30 % of the floor's throughput.

Ingest: telemetry points/s stored from mosquitto into PostgreSQL by the hub (acked),
next to msgspec decoding plus a bare batched insert of the same rows (the floor).
Targets: >= 50 % of the floor and >= 20,000 points/s.

    python bench/hub.py                 # short run (1,000 instances, 20,000 points)
    python bench/hub.py --full          # 10,000 instances in 200 VPPs, 400,000 points
    python bench/hub.py --pg postgresql://postgres@127.0.0.1:5432/postgres

The hub runs as ``vpp hub run`` in a subprocess; the load comes from this process. Exits 1
when a target is missed (``--no-fail`` to only print).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as ``python bench/hub.py``, this file's directory comes first on sys.path and its
# name would shadow the ``hub`` package: drop that entry before importing it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Callable  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from typing import Any  # noqa: E402

import aiomqtt  # noqa: E402
import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from hub.auth import Principal, TokenService  # noqa: E402
from hub.store import (  # noqa: E402
    ResourceInstance,
    ResourceMapping,
    ResourceTemplate,
    Telemetry,
    User,
    Vpp,
    create_engine,
    migrate,
)
from lingtan.broker import Mosquitto, free_port  # noqa: E402
from protocol import Ack, Point, TelemetryBatch, decode_as, encode  # noqa: E402
from protocol.topics import EdgeTopics  # noqa: E402

SECRET = "bench-" + "s" * 40
TOPICS = EdgeTopics("bench", "edge-1")


# --------------------------------------------------------------------------- setup


@asynccontextmanager
async def throwaway_db(server_dsn: str) -> AsyncIterator[str]:
    name = f"vpp_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = server_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        conn = await asyncpg.connect(server_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


BENCH_USER = "bench-admin"


async def seed(url: str, instances: int, vpps: int) -> list[str]:
    """Bulk rows: one template, ``instances`` batteries, ``vpps`` VPPs sharing them out."""
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(
                insert(ResourceTemplate),
                [
                    {
                        "id": "tpl",
                        "lineage_id": "tpl",
                        "name": "BESS",
                        "type": "battery_storage",
                        "category": "STORAGE",
                        "parameters": {},
                        "control_interface": {},
                    }
                ],
            )
            rows = [
                {
                    "id": f"inst-{i:06d}",
                    "template_id": "tpl",
                    "name": f"b{i}",
                    "capacity": 100.0,
                    "status": "ONLINE",
                    "parameters": {"rated_kwh": 200.0},
                    "edge_id": "edge-1",
                    "device_id": f"d{i}",
                    "location_info": {},
                }
                for i in range(instances)
            ]
            await conn.execute(insert(ResourceInstance), rows)
            # The hub checks every bearer token against its user row.
            await conn.execute(
                insert(User),
                [{"id": BENCH_USER, "username": "bench", "password_hash": "-", "role": "admin"}],
            )
            vpp_ids = [f"vpp-{v:04d}" for v in range(vpps)]
            await conn.execute(
                insert(Vpp),
                [{"id": v, "name": v, "market_type": "SPOT", "status": "ACTIVE"} for v in vpp_ids],
            )
            await conn.execute(
                insert(ResourceMapping),
                [
                    {
                        "id": f"map-{i:06d}",
                        "vpp_id": vpp_ids[i % vpps],
                        "resource_id": r["id"],
                        "allocation_ratio": 1.0,
                        "priority": 1 + i % 3,
                    }
                    for i, r in enumerate(rows)
                ],
            )
        return vpp_ids
    finally:
        await engine.dispose()


@asynccontextmanager
async def hub_process(db_url: str, mqtt_url: str) -> AsyncIterator[str]:
    port = free_port()
    env = {**os.environ, "VPP_HUB_JWT_SECRET": SECRET, "VPP_HUB_RATE_LIMIT": "0"}
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
        [
            sys.executable,
            "-m",
            "lingtan",
            "hub",
            "run",
            "--port",
            str(port),
            "--db",
            db_url,
            "--mqtt",
            mqtt_url,
            "--log-level",
            "WARNING",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                try:
                    if (await client.get(f"{url}/readyz")).json().get("mqtt"):
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the hub did not become ready")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


# --------------------------------------------------------------------------- API


async def load(
    client: httpx.AsyncClient, paths: Callable[[int], str], requests: int, concurrency: int
) -> tuple[float, float]:
    """Returns (requests/s, p99 seconds)."""
    latencies: list[float] = []
    counter = iter(range(requests))

    async def worker() -> None:
        for n in counter:
            started = time.perf_counter()
            r = await client.get(paths(n))
            latencies.append(time.perf_counter() - started)
            if r.status_code != 200:
                raise RuntimeError(f"{paths(n)} -> {r.status_code}: {r.text[:200]}")

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    elapsed = time.perf_counter() - started
    p99 = statistics.quantiles(latencies, n=100)[98]
    return requests / elapsed, p99


async def bench_api(url: str, vpp_ids: list[str], requests: int, concurrency: int) -> bool:
    token = TokenService(SECRET, 3600).issue(
        Principal(user_id=BENCH_USER, username="bench", role="admin")
    )
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=60
    ) as client:
        await load(client, lambda n: "/healthz", concurrency * 4, concurrency)  # warm up
        floor_rps, floor_p99 = await load(client, lambda n: "/healthz", requests, concurrency)
        print(
            f"floor  /healthz                      {floor_rps:8.0f} req/s  p99 "
            f"{floor_p99 * 1000:6.1f} ms"
        )
        ok = True
        for label, path in (
            (
                "aggregated-params",
                lambda n: f"/api/v1/vpp/vpps/{vpp_ids[n % len(vpp_ids)]}/aggregated-params",
            ),
            (
                "instance list page",
                lambda n: f"/api/v1/vpp/resource-instances?page={1 + n % 20}&size=20&status=ONLINE",
            ),
        ):
            rps, p99 = await load(client, path, requests, concurrency)
            ratio = rps / floor_rps
            good = p99 <= 0.050 and ratio >= 0.30
            ok &= good
            print(
                f"{label:<36} {rps:8.0f} req/s  p99 {p99 * 1000:6.1f} ms  "
                f"{ratio:5.1%} of floor  {'ok' if good else 'MISSED'} (p99<=50ms, >=30%)"
            )
        return ok


# --------------------------------------------------------------------------- ingest


def batches(count: int, points: int) -> list[bytes]:
    now = int(time.time() * 1000)
    return [
        encode(
            TelemetryBatch(
                edge="edge-1",
                sid=1,
                seq=seq,
                ts_ms=now,
                points=[
                    Point(device=f"d{i % 50}", name="p_w", value=float(i), ts_ms=now + seq)
                    for i in range(points)
                ],
            )
        )
        for seq in range(1, count + 1)
    ]


async def ingest_floor(url: str, payloads: list[bytes], rows_per_insert: int) -> float:
    """msgspec decode + bare batched INSERT of the same rows (no conflict handling)."""
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        total = 0
        pending: list[dict[str, Any]] = []
        async with engine.connect() as conn:
            for payload in payloads:
                tb = decode_as(payload, TelemetryBatch)
                pending.extend(
                    {
                        "edge_id": "floor",
                        "sid": tb.sid,
                        "seq": tb.seq,
                        "idx": i,
                        "device_id": p.device,
                        "name": p.name,
                        "ts_ms": p.ts_ms,
                        "value": float(p.value) if isinstance(p.value, int | float) else None,
                        "quality": p.quality,
                    }
                    for i, p in enumerate(tb.points)
                )
                if len(pending) >= rows_per_insert:
                    await conn.execute(insert(Telemetry), pending)
                    await conn.commit()
                    total += len(pending)
                    pending = []
            if pending:
                await conn.execute(insert(Telemetry), pending)
                await conn.commit()
                total += len(pending)
        return total / (time.perf_counter() - started)
    finally:
        await engine.dispose()


async def ingest_hub(port: int, payloads: list[bytes], points: int) -> float:
    last = len(payloads)
    async with aiomqtt.Client("127.0.0.1", port, max_inflight_messages=1000) as client:
        await client.subscribe(TOPICS.ack, qos=1)
        started = time.perf_counter()

        async def publish() -> None:
            for payload in payloads:
                await client.publish(TOPICS.data, payload, qos=1)

        async def acked() -> None:
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                if decode_as(message.payload, Ack).seq >= last:
                    return

        async with asyncio.TaskGroup() as group:
            group.create_task(publish())
            waiter = group.create_task(acked())
            await waiter
        return last * points / (time.perf_counter() - started)


async def bench_ingest(db_url: str, mqtt_port: int, count: int, points: int) -> bool:
    payloads = batches(count, points)
    floor = await ingest_floor(db_url, payloads, 200 * points)
    hub = await ingest_hub(mqtt_port, payloads, points)
    ratio = hub / floor
    good = ratio >= 0.5 and hub >= 20_000
    print(f"floor  decode + bare batched insert   {floor:10.0f} points/s")
    print(
        f"hub    mosquitto -> PostgreSQL (acked) {hub:9.0f} points/s  {ratio:5.1%} of floor  "
        f"{'ok' if good else 'MISSED'} (>=50%, >=20,000/s)"
    )
    return good


# --------------------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> int:
    instances, vpps = (10_000, 200) if args.full else (args.instances, args.vpps)
    count, points = (4_000, 100) if args.full else (args.batches, args.points)
    print(
        f"hub bench: {instances} instances in {vpps} VPPs, {args.concurrency} connections; "
        f"ingest {count} batches x {points} points"
    )
    ok = True
    with Mosquitto() as broker:
        async with throwaway_db(args.pg) as db_url:
            vpp_ids = await seed(db_url, instances, vpps)
            async with hub_process(db_url, broker.url) as url:
                ok &= await bench_api(url, vpp_ids, args.requests, args.concurrency)
                ok &= await bench_ingest(db_url, broker.port, count, points)
    return 0 if ok or args.no_fail else 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that `timeout`/kill still drops the database and stops the hub


def cli() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--full", action="store_true", help="the issue's full-size run")
    parser.add_argument(
        "--pg",
        default=os.environ.get("VPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--instances", type=int, default=1_000)
    parser.add_argument("--vpps", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--no-fail", action="store_true", help="print only, exit 0")
    return asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(cli())
