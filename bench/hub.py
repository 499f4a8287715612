"""Hub scale-out: ingest with 1, 2 and 3 replicas and the API through HAProxy with 1 and 2,
against floors measured in the same run (PostgreSQL).

Every hub is a ``vpp hub run`` process on one PostgreSQL database and one mosquitto, as
docs/hub.md "Several replicas" runs them: one JWT secret, ``VPP_HUB_MQTT_PERSISTENT=0``,
``$share/hub`` subscriptions (the broker splits the uplinks over them), distinct ports
(no Redis: the live cache stays per replica). Replicas are added one at a time and
removed again (1, 2, 3, 2, 1); each measurement runs with exactly that many, and each
count's figure is the mean of its runs, so a drift of the machine's load weighs alike.

Ingest: telemetry points/s from the first publish to the ack of every edge's last seq (the
hub stores, moves the cursor in the database and acknowledges), ``--edges`` edges
publishing at once, next to the floor: msgspec decoding plus a bare batched insert of the
same rows from this process (no conflict handling, no cursor, no MQTT), measured first
and last. The telemetry table is emptied before every run.

API: ``wrk -t1 -c32 --latency`` (Debian's wrk, out of process, driven and parsed by
bench/api.py's helpers) through HAProxy (Debian's haproxy, round robin, health-checked
like tests/reliability/test_replicas.py) with one replica behind it, then two, on
``/healthz`` (the balancer's and a trivial route's floor), ``aggregated-params`` and an
instance list page. ``--full``: 10,000 instances in 200 VPPs.

Targets (ratios; a 2-core machine shared with test runs says little in absolute terms):

* one replica stores >= 50 % of the floor's points/s and >= 20,000 points/s;
* ingest with 2 and with 3 replicas >= 1.0x of one replica on a machine with a core for
  every process that works (``os.cpu_count() >= 2 * replicas + 2``: the replicas,
  PostgreSQL, mosquitto, the publisher). On a smaller machine (this one has 2 cores) more
  replicas cannot be faster: the same work shares the same cores, and replicas add what
  they share (each edge's cursor row, locked by whichever replica commits; more
  processes to schedule). There the target is **no worse than 0.8x** of one replica:
  replicas may cost up to a fifth, no more; a stall, a lock convoy or acks waiting on
  another replica show far below that;
* the API through the balancer with 2 replicas: requests/s >= 0.8x of one replica's and
  p99 <= 1.25x of it (1.0x of the requests/s with ``os.cpu_count() >= 6``: two hubs, wrk,
  HAProxy, PostgreSQL, each on a core), and no failed request.

    python bench/hub.py             # short: 1,000 instances, 40,000 points a run, 3 s a route
    python bench/hub.py --full      # 10,000 instances in 200 VPPs, 400,000 points, 10 s
    python bench/hub.py --only ingest --pg postgresql://postgres@127.0.0.1:5432/postgres

Exits 1 when a target is missed (``--no-fail`` to only print).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as ``python bench/hub.py``, this file's directory comes first on sys.path and its
# name would shadow the ``hub`` package: drop that entry before importing it, and make the
# checkout importable for ``bench.api``.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(_HERE.parent) not in sys.path:
    sys.path.append(str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import aiomqtt  # noqa: E402
import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bench.api import (  # noqa: E402
    BENCH_USER,
    Fleet,
    Result,
    process,
    seed,
    settle,
    telemetry,
    throwaway_db,
    wait_ready,
    wrk,
)
from hub.auth import Principal, TokenService  # noqa: E402
from hub.store import Telemetry, create_engine  # noqa: E402
from lingtan.broker import Mosquitto, free_port  # noqa: E402
from protocol import Ack, Point, TelemetryBatch, decode_as, encode  # noqa: E402
from protocol.topics import EdgeTopics  # noqa: E402

SECRET = "bench-hub-" + "s" * 40
TENANT = "bench"
API = "/api/v1/vpp"

HUB_SHARE = 0.50
HUB_MIN_PPS = 20_000.0
SMALL_MACHINE_FACTOR = 0.8
"""On a machine without a core per working process: more replicas no worse than this."""
API_CORES = 6
API_P99_FACTOR = 1.25
CORES = os.cpu_count() or 1


def ingest_target(replicas: int) -> float:
    return 1.0 if 2 * replicas + 2 <= CORES else SMALL_MACHINE_FACTOR


def api_target() -> float:
    return 1.0 if CORES >= API_CORES else SMALL_MACHINE_FACTOR


# --------------------------------------------------------------------------- processes


def hub_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VPP_")}
    env.update(
        {
            "VPP_HUB_JWT_SECRET": SECRET,
            "VPP_HUB_MQTT_PERSISTENT": "0",
            "VPP_HUB_RATE_LIMIT": "0",
            "VPP_HUB_LOGIN_RATE_LIMIT": "0",
        }
    )
    return env


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )


def haproxy_config(port: int, hubs: list[int]) -> str:
    servers = "".join(f"  server hub{n} 127.0.0.1:{p} check\n" for n, p in enumerate(hubs, 1))
    return (
        "global\n  maxconn 4096\n"
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n"
        "  timeout server 30s\n  retries 3\n  option redispatch 1\n"
        "  retry-on all-retryable-errors\n"
        f"frontend api\n  bind 127.0.0.1:{port}\n  default_backend hubs\n"
        # lenient checks: a hub slow under the benchmark's load is not a dead one
        "backend hubs\n  balance roundrobin\n  option httpchk GET /healthz\n"
        "  timeout check 5s\n  http-check expect status 200\n"
        "  default-server inter 1s fall 5 rise 1\n"
        f"{servers}"
    )


@dataclass
class Cluster:
    """Hub replicas and balancers, started one at a time, all stopped on exit."""

    db_url: str
    mqtt_url: str
    logs: Path
    stack: contextlib.ExitStack
    hubs: list[tuple[str, contextlib.ExitStack]] = field(default_factory=list)

    async def start(
        self, name: str, argv: Callable[[int], list[str]], path: str
    ) -> tuple[str, contextlib.ExitStack]:
        """``argv(port)`` on a free port, ready when ``path`` answers; a new port when
        another process took this one meanwhile (the machine's other test runs)."""
        log = self.logs / f"{name}.log"
        for attempt in range(3):
            port = free_port()
            inner = contextlib.ExitStack()
            proc = inner.enter_context(process(argv(port), hub_env(), log))
            url = f"http://127.0.0.1:{port}"
            try:
                await wait_ready(url, proc, path)
            except RuntimeError:
                with contextlib.suppress(RuntimeError):
                    inner.close()
                text = log.read_text(errors="replace")
                if attempt == 2 or not re.search("address already in use|cannot bind", text):
                    raise
                continue
            running = inner.pop_all()
            self.stack.callback(running.close)
            return url, running
        raise AssertionError("unreachable")

    async def add_hub(self) -> str:
        def argv(port: int) -> list[str]:
            db, mqtt = self.db_url, self.mqtt_url
            return [sys.executable, "-m", "lingtan", "hub", "run", "--port", str(port),
                    "--db", db, "--mqtt", mqtt, "--log-level", "WARNING"]  # fmt: skip

        url, running = await self.start(f"hub{len(self.hubs) + 1}", argv, "/readyz")
        self.hubs.append((url, running))
        return url

    def remove_hub(self) -> None:
        """Stop the last hub started (SIGINT: a clean shutdown, as an operator scales in)."""
        _, running = self.hubs.pop()
        running.close()

    async def balancer(self, binary: str) -> str:
        """HAProxy in front of every hub started so far."""
        ports = [int(url.rsplit(":", 1)[1]) for url, _ in self.hubs]
        config = self.logs / f"haproxy-{len(ports)}.cfg"

        def argv(port: int) -> list[str]:
            config.write_text(haproxy_config(port, ports))
            return [binary, "-db", "-f", str(config)]

        url, _ = await self.start(config.stem, argv, "/healthz")
        await asyncio.sleep(1.0)  # every server's first checks have passed
        return url

    async def ingested(self) -> list[float]:
        """Data messages each replica stored so far (its ``/metrics``)."""
        out = []
        async with httpx.AsyncClient(timeout=10) as client:
            for url, _ in self.hubs:
                value = 0.0
                for line in (await client.get(f"{url}/metrics")).text.splitlines():
                    if line.startswith('hub_ingest_messages_total{kind="data"}'):
                        value = float(line.rsplit(" ", 1)[1])
                out.append(value)
        return out


# --------------------------------------------------------------------------- ingest


def batches(edges: list[str], per_edge: int, points: int) -> list[tuple[str, int, bytes]]:
    """(edge, seq, payload): every edge's seqs in order, the edges in a different order in
    each round as a fleet's uplinks interleave (a fixed order would hand each replica a
    fixed subset of the edges whenever the broker's round robin divides it evenly)."""
    now = int(time.time() * 1000)
    out = []
    order = random.Random(17)  # a reproducible shuffle
    for seq in range(1, per_edge + 1):
        for edge in order.sample(edges, len(edges)):
            batch = TelemetryBatch(
                edge=edge,
                sid=1,
                seq=seq,
                ts_ms=now,
                points=[
                    Point(device=f"d{i % 50}", name="p_w", value=float(i), ts_ms=now + seq)
                    for i in range(points)
                ],
            )
            out.append((edge, seq, encode(batch)))
    return out


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
                        "tenant": "bench",
                        "edge_id": "floor-" + tb.edge,
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


async def empty_telemetry(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE telemetry"))
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE telemetry"))
    finally:
        await engine.dispose()


async def ingest_hub(
    mqtt_port: int, work: list[tuple[str, int, bytes]], points: int, stall_s: float
) -> float:
    """Points/s from the first publish to the ack of every edge's last seq; fails when no
    ack moves for ``stall_s``."""
    last: dict[str, int] = {}
    for edge, seq, _ in work:
        last[edge] = max(last.get(edge, 0), seq)
    topics = {edge: EdgeTopics(TENANT, edge) for edge in last}
    acked = dict.fromkeys(last, 0)
    async with aiomqtt.Client("127.0.0.1", mqtt_port, max_inflight_messages=1000) as client:
        for t in topics.values():
            await client.subscribe(t.ack, qos=1)
        started = time.perf_counter()

        async def publish() -> None:
            for edge, _, payload in work:
                await client.publish(topics[edge].data, payload, qos=1)

        async def all_acked() -> None:
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                ack = decode_as(message.payload, Ack)
                if ack.seq > acked.get(ack.edge, 0):
                    acked[ack.edge] = ack.seq
                    deadline.reschedule(asyncio.get_running_loop().time() + stall_s)
                if all(acked[e] >= s for e, s in last.items()):
                    return

        try:
            async with asyncio.timeout(stall_s) as deadline, asyncio.TaskGroup() as group:
                group.create_task(publish())
                await group.create_task(all_acked())
        except TimeoutError:
            raise RuntimeError(f"no ack moved for {stall_s:.0f} s: {acked} of {last}") from None
        return len(work) * points / (time.perf_counter() - started)


def ingest_work(run: str, args: argparse.Namespace, count: int) -> list[tuple[str, int, bytes]]:
    edges = [f"{run}-e{i}" for i in range(args.edges)]
    return batches(edges, max(1, count // args.edges), args.points)


async def measure_ingest(
    cluster: Cluster, mqtt_port: int, args: argparse.Namespace, count: int, run: str
) -> float:
    """Points/s with the replicas running now; prints how the broker split the messages."""
    before = await cluster.ingested()
    work = ingest_work(run, args, count)
    waits: list[tuple[int, int, int]] = []
    sampler = asyncio.create_task(sample_waits(cluster.db_url, waits))
    try:
        pps = await ingest_hub(mqtt_port, work, args.points, 60.0)
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    after = await cluster.ingested()
    delta = [a - b for a, b in zip(after, before, strict=True)]
    split = "/".join(f"{d / max(1.0, sum(delta)):.0%}" for d in delta)
    n = max(1, len(waits))
    locked = sum(1 for w in waits if w[0]) / n
    print(
        f"       messages per replica {split}; of {len(waits)} samples of the database: "
        f"a lock wait in {locked:.0%}, sessions on a lock {sum(w[0] for w in waits) / n:.1f}, "
        f"active {sum(w[1] for w in waits) / n:.1f}, idle in a transaction (waiting for "
        f"their hub) {sum(w[2] for w in waits) / n:.1f} on average"
    )
    return pps


async def sample_waits(db_url: str, out: list[tuple[int, int, int]]) -> None:
    """Every 0.2 s: the hubs' sessions waiting on a lock, active, idle in a transaction."""
    name = db_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(db_url.replace("+asyncpg", ""))
    try:
        while True:
            row = await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),"
                " count(*) FILTER (WHERE state = 'active'),"
                " count(*) FILTER (WHERE state = 'idle in transaction')"
                " FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            assert row is not None
            out.append((int(row[0]), int(row[1]), int(row[2])))
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


# --------------------------------------------------------------------------- API


@dataclass(frozen=True, slots=True)
class ApiRoute:
    label: str
    path: str


def api_routes(fleet: Fleet) -> list[ApiRoute]:
    vpp = fleet.vpp_ids[len(fleet.vpp_ids) // 2]
    return [
        ApiRoute("healthz", "/healthz"),
        ApiRoute("aggregated-params", f"{API}/vpps/{vpp}/aggregated-params"),
        ApiRoute("instances page 3 (50)", f"{API}/resource-instances?page=3&size=50"),
    ]


def measure_api(
    lb_url: str, cluster: Cluster, routes: list[ApiRoute], token: str, args: argparse.Namespace
) -> dict[str, Result]:
    """Every route through the balancer, one after the other (one wrk at a time)."""
    wrk(lb_url + "/healthz", token=None, seconds=1, connections=args.connections)  # warm up
    out = {}
    for route in routes:
        for url, _ in cluster.hubs:
            settle(url)
        r = wrk(
            lb_url + route.path, token=token, seconds=args.duration, connections=args.connections
        )
        out[route.label] = r
        print(
            f"api    {len(cluster.hubs)} replica(s) {route.label:<24} {r.rps:8.0f} req/s  "
            f"p99 {_ms(r.p99_s):>6} ms{'  ' + r.errors if r.errors else ''}"
        )
    return out


# --------------------------------------------------------------------------- main


def _ms(s: float) -> str:
    return f"{s * 1000:.1f}"


async def main(args: argparse.Namespace) -> int:
    binary = haproxy_binary()
    if shutil.which("wrk") is None or binary is None:
        print("wrk or haproxy is missing: apt-get install -y wrk haproxy (make bench does)")
        return 2
    instances, vpps = (10_000, 200) if args.full else (args.instances, args.vpps)
    count = 4_000 if args.full else args.batches
    if args.full:
        args.duration = max(args.duration, 10)
    print(
        f"hub scale-out bench on {CORES} cores: ingest {count} batches x {args.points} points "
        f"from {args.edges} edges a run; API {instances} instances in {vpps} VPPs, "
        f"wrk -t1 -c{args.connections} -d{args.duration}s through HAProxy"
    )
    token = TokenService(SECRET, 24 * 3600).issue(
        Principal(user_id=BENCH_USER, username="bench", role="admin")
    )
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    api: dict[int, dict[str, Result]] = {}
    with Mosquitto() as broker:
        async with throwaway_db(args.pg) as db_url:
            routes = api_routes(await seed(db_url, instances, vpps))
            logs = Path(tempfile.mkdtemp(prefix="bench-hub-"))
            print(f"server logs in {logs}")
            floors: list[float] = []
            samples: dict[int, list[float]] = {}
            floor_work = ingest_work("floor", args, count)

            async def measure_floor() -> None:
                await empty_telemetry(db_url)
                payloads = [p for _, _, p in floor_work]
                floors.append(await ingest_floor(db_url, payloads, 200 * args.points))
                print(f"floor  decode + bare batched insert    {floors[-1]:9.0f} points/s")

            if args.only != "api":
                await measure_floor()
            with contextlib.ExitStack() as stack:
                cluster = Cluster(db_url, broker.url, logs, stack)
                # 1, 2, 3, then back to 2 and 1: a drift of the machine's load over the run
                # weighs on every count alike (each count's figure is the mean of its runs).
                sequence = (1, 2) if args.only == "api" else (1, 2, 3, 2, 1)
                for step, replicas in enumerate(sequence):
                    while len(cluster.hubs) < replicas:
                        await cluster.add_hub()
                    while len(cluster.hubs) > replicas:
                        cluster.remove_hub()
                    if args.only != "api":
                        await empty_telemetry(db_url)
                        value = await measure_ingest(
                            cluster, broker.port, args, count, f"s{step}r{replicas}"
                        )
                        samples.setdefault(replicas, []).append(value)
                        print(f"hub    {replicas} replica(s) (acked)        {value:9.0f} points/s")
                    if replicas <= 2 and replicas not in api and args.only != "ingest":
                        await telemetry(broker.port, instances, vpps)  # live values for the API
                        lb = await cluster.balancer(binary)
                        api[replicas] = measure_api(lb, cluster, routes, token, args)
            if args.only != "api":
                await measure_floor()
    pps = {n: statistics.mean(v) for n, v in sorted(samples.items())}
    floor = statistics.mean(floors) if floors else 0.0
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    failures = report(floor, pps, api)
    return 0 if not failures or args.no_fail else 1


def report(floor: float, pps: dict[int, float], api: dict[int, dict[str, Result]]) -> list[str]:
    """Prints the ratios; returns the missed targets."""
    failures = report_ingest(floor, pps) + report_api(api)
    if failures:
        print(f"\n{len(failures)} target(s) missed:")
        for f in failures:
            print("  " + f)
    return failures


def report_ingest(floor: float, pps: dict[int, float]) -> list[str]:
    failures = []
    if pps:
        print()
        print(f"ingest (floor {floor:.0f} points/s)  replicas  points/s  of floor  of one  target")
    for n, value in pps.items():
        ratio = value / pps[1]
        if n == 1:
            target = f">= {HUB_SHARE:.0%} of floor, >= {HUB_MIN_PPS:,.0f}/s"
            good = value / floor >= HUB_SHARE and value >= HUB_MIN_PPS
        else:
            target = f">= {ingest_target(n):.1f}x of one"
            good = ratio >= ingest_target(n)
        if not good:
            failures.append(f"ingest with {n} replica(s): {value:.0f} points/s, target {target}")
        print(
            f"{'':<32} {n:>8} {value:9.0f} {value / floor:9.1%} {ratio:7.2f}x  {target} "
            f"{'ok' if good else 'MISSED'}"
        )
    return failures


def report_api(api: dict[int, dict[str, Result]]) -> list[str]:
    failures = []
    if api:
        print()
        print(f"{'API through HAProxy':<24} {'1: req/s':>9} {'p99 ms':>7} {'2: req/s':>9} "
              f"{'p99 ms':>7} {'req/s':>6} {'p99':>6}  target")  # fmt: skip
    for label, one in api.get(1, {}).items():
        two = api[2][label]
        ratio = two.rps / one.rps if one.rps else 0.0
        p99 = two.p99_s / one.p99_s if one.p99_s else float("inf")
        reasons = []
        if ratio < api_target():
            reasons.append(f"req/s {ratio:.2f}x < {api_target():.1f}x")
        if p99 > API_P99_FACTOR:
            reasons.append(f"p99 {p99:.2f}x > {API_P99_FACTOR}x")
        for n, r in ((1, one), (2, two)):
            if r.errors or r.rps == 0:
                reasons.append(f"{n} replica(s): {r.errors or 'no request completed'}")
        if reasons:
            failures.append(f"API {label}: " + "; ".join(reasons))
        print(
            f"{label:<24} {one.rps:9.0f} {_ms(one.p99_s):>7} {two.rps:9.0f} {_ms(two.p99_s):>7} "
            f"{ratio:5.2f}x {p99:5.2f}x  req/s >= {api_target():.1f}x, p99 <= "
            f"{API_P99_FACTOR}x {'MISSED' if reasons else 'ok'}"
        )
    return failures


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that `timeout`/kill still drops the database and stops the hubs


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
    parser.add_argument("--batches", type=int, default=400, help="batches per ingest run")
    parser.add_argument("--points", type=int, default=100, help="points per batch")
    parser.add_argument("--edges", type=int, default=8, help="edges publishing at once")
    parser.add_argument("-d", "--duration", type=int, default=3, help="seconds per API route")
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("--only", choices=("ingest", "api"), help="one half of the bench")
    parser.add_argument("--no-fail", action="store_true", help="print only, exit 0")
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress in a log
    return asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(cli())
