"""Hub API speed measured from outside the process, against a floor in the same run.

``vpp hub run`` (a real process with the shipped server settings) serves a PostgreSQL
database seeded with ``--instances`` batteries in ``--vpps`` VPPs (telemetry for every
device comes in through mosquitto, so the live cache is full); `wrk -t1 -c32 --latency`
drives every read route of seed 4.1, the list routes of the newer capabilities found in
the hub's OpenAPI, and two write routes with a Lua body (create instance,
execute-dispatch). The floor is a trivial Litestar route served by uvicorn in its own
process with the same server settings (:func:`hub._serve.server_options`).

Targets (ratios, never absolute numbers): a read route p99 <= 50 ms and >= 30 % of the
floor's throughput; a write route p99 <= 100 ms; ``/healthz`` >= 1/1.5 of the floor's
throughput; nothing above 1 s. Exits 1 when a target is missed (``--no-fail`` to only
print), naming the route and the reason.

    python bench/api.py                          # 10,000 instances in 200 VPPs, 15 s a route
    python bench/api.py --instances 2000 --vpps 40 -d 5
    python bench/api.py --only vpps              # routes whose path contains "vpps"
    python bench/api.py --only conflicts,realtime    # ... one of these
    python bench/api.py --only "create instance"     # ... or whose label contains it
    python bench/api.py --profile prof.txt       # the hub under pyinstrument
    python bench/api.py --identity               # no Accept-Encoding: bodies uncompressed

Every request carries ``Accept-Encoding`` as Chromium sends it (the console is the main
caller of the large live routes), so a route that compresses is measured as a browser
receives it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as ``python bench/api.py``, this file's directory comes first on sys.path and its
# name would shadow nothing, but ``bench/hub.py`` would shadow the ``hub`` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402
from contextlib import asynccontextmanager, contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import aiomqtt  # noqa: E402
import asyncpg  # noqa: E402
import httpx  # noqa: E402
import msgspec  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from hub.auth import Principal, TokenService  # noqa: E402
from hub.catalogue import ensure_presets  # noqa: E402
from hub.store import (  # noqa: E402
    ResourceInstance,
    ResourceMapping,
    ResourceTemplate,
    User,
    Vpp,
    create_engine,
    migrate,
    sessionmaker,
)
from lingtan.broker import Mosquitto, free_port  # noqa: E402
from protocol import Point, TelemetryBatch, encode  # noqa: E402
from protocol.topics import EdgeTopics  # noqa: E402

SECRET = "bench-api-" + "s" * 40
TENANT = "bench"


def edge_of(i: int, vpps: int) -> str:
    """The edge (site) behind which battery ``i`` sits: one per VPP, the VPP's members.
    (One edge of all 10,000 would make every dispatch rebuild, under that edge's row
    lock, a schedule of every device dispatched: tens of thousands of device targets, no
    site looks like that.)"""
    return f"edge-{i % vpps:03d}"


BENCH_USER = "bench-admin"
API = "/api/v1/vpp"

READ_P99_S = 0.050
WRITE_P99_S = 0.100
READ_SHARE = 0.30
HEALTHZ_FACTOR = 1.5
SEED_LIMIT_S = 1.0

SKIP_PATHS = {
    "/metrics",  # Prometheus text, not an API route
    "/readyz",
    f"{API}/console/stream",  # server-sent events: never ends
}


# --------------------------------------------------------------------------- floor


def floor_app() -> object:
    from litestar import Litestar, get

    @get("/floor", sync_to_thread=False)
    def trivial() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar([trivial], logging_config=None)


def serve_floor(port: int) -> None:
    import uvicorn

    from hub._serve import server_options

    uvicorn.run(floor_app(), host="127.0.0.1", port=port, **server_options())  # type: ignore[arg-type]


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


@dataclass(frozen=True, slots=True)
class Fleet:
    template_id: str
    instance_ids: list[str]
    vpp_ids: list[str]


async def seed(url: str, instances: int, vpps: int) -> Fleet:
    """The presets, ``instances`` batteries bound to (:func:`edge_of`, d<i>), ``vpps`` VPPs
    sharing them out round-robin (allocation 1, priorities 1..3; a VPP's members behind
    one edge), one admin user."""
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with sessionmaker(engine)() as session:
            await ensure_presets(session)
            await session.commit()
            template = (
                await session.scalars(
                    select(ResourceTemplate).where(
                        ResourceTemplate.type == "battery_storage",
                        ResourceTemplate.status == "ACTIVE",
                    )
                )
            ).one()
            defaults = msgspec.convert(template.parameters or {}, dict[str, dict[str, object]])
        params: dict[str, object] = {"rated_kw": 100.0, "rated_kwh": 200.0}
        for name, spec in defaults.items():
            if name not in params and spec.get("default") is not None:
                params[name] = spec["default"]
        ids = [str(uuid.UUID(int=i + 1)) for i in range(instances)]
        vpp_ids = [str(uuid.UUID(int=(1 << 64) + v)) for v in range(vpps)]
        base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        async with engine.begin() as conn:
            await conn.execute(
                insert(ResourceInstance),
                [
                    {
                        "id": rid,
                        "template_id": template.id,
                        "name": f"b{i}",
                        "capacity": 100.0,
                        "status": "ONLINE",
                        "parameters": params,
                        "edge_tenant": TENANT,
                        "edge_id": edge_of(i, vpps),
                        "device_id": f"d{i}",
                        "location_info": {},
                        "created_at": base + dt.timedelta(seconds=i),
                    }
                    for i, rid in enumerate(ids)
                ],
            )
            await conn.execute(
                insert(User),
                [{"id": BENCH_USER, "username": "bench", "password_hash": "-", "role": "admin"}],
            )
            await conn.execute(
                insert(Vpp),
                [
                    {
                        "id": v,
                        "name": f"vpp-{n:04d}",
                        "market_type": "SPOT",
                        "status": "ACTIVE",
                        "created_at": base + dt.timedelta(seconds=n),
                    }
                    for n, v in enumerate(vpp_ids)
                ],
            )
            await conn.execute(
                insert(ResourceMapping),
                [
                    {
                        "id": str(uuid.UUID(int=(2 << 64) + i)),
                        "vpp_id": vpp_ids[i % vpps],
                        "resource_id": rid,
                        "allocation_ratio": 1.0,
                        "priority": 1 + i % 3,
                    }
                    for i, rid in enumerate(ids)
                ],
            )
        return Fleet(template_id=template.id, instance_ids=ids, vpp_ids=vpp_ids)
    finally:
        await engine.dispose()


async def telemetry(mqtt_port: int, instances: int, vpps: int) -> None:
    """One reading of power and SoC per device, so the live cache is full (one batch per
    edge)."""
    now = int(time.time() * 1000)
    by_edge: dict[str, list[Point]] = {}
    for i in range(instances):
        by_edge.setdefault(edge_of(i, vpps), []).extend(
            Point(device=f"d{i}", name=name, value=value, ts_ms=now)
            for name, value in (("p_w", 1000.0 * (i % 50)), ("soc_pct", 50.0))
        )
    async with aiomqtt.Client("127.0.0.1", mqtt_port) as client:
        for edge, points in by_edge.items():
            for seq, start in enumerate(range(0, len(points), 1000), 1):
                batch = TelemetryBatch(
                    edge=edge, sid=1, seq=seq, ts_ms=now, points=points[start : start + 1000]
                )
                await client.publish(EdgeTopics(TENANT, edge).data, encode(batch), qos=1)


@contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``argv`` running with its output in ``log`` (its tail is printed when it died)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{argv[1:5]} exited with {proc.returncode}:\n{tail}")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


async def wait_ready(url: str, proc: subprocess.Popen[bytes], path: str) -> None:
    """Until ``path`` answers 200 (``/readyz``: and the hub is subscribed to the broker,
    else the telemetry published next would reach no subscriber)."""
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"{url}{path}: the server exited with {proc.returncode}")
            try:
                r = await client.get(f"{url}{path}")
                if r.status_code == 200 and (path != "/readyz" or r.json().get("mqtt")):
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url}{path} did not become ready")


# --------------------------------------------------------------------------- wrk


@dataclass(frozen=True, slots=True)
class Result:
    rps: float
    p50_s: float
    p99_s: float
    errors: str
    bytes_per_s: float = 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (0 when it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Db:
    """What the hub's requests asked of the database during one route's run (from the
    hub's own metrics: hub_db_statements_total, ..._seconds_total, hub_db_checkouts_total,
    hub_request_seconds), per request."""

    requests: float
    statements: float
    checkouts: float
    statement_ms: float
    db_share: float
    cpu_ms: float = 0.0
    """The hub process's CPU time per request (ms), everything it did meanwhile included."""
    floor_cpu_ms: float = 0.0
    """The floor process's CPU time per request (ms) in its own run."""
    gc_full: float = 0.0
    """Full (generation 2) garbage-collection passes of the hub during the route."""
    gc_full_ms: float = 0.0
    """Their mean pause (ms)."""
    gc_full_max_ms: float = 0.0
    """The upper bound of the largest one's histogram bucket (ms; inf: above every bound)."""
    gc_share: float = 0.0
    """Time the hub stood in any GC pass (every generation), as a share of the run."""
    gc_objects: float = 0.0
    """Objects in the collector's oldest generation after the route (a full pass's walk)."""
    gc_frozen: float = 0.0
    """Objects frozen out of the collector's generations (``gc.freeze``)."""

    gc_seen: bool = False
    """The hub serves ``hub_gc_pause_seconds`` (else the GC fields are unknown)."""

    def gc_reason(self) -> str:
        if not self.gc_seen:
            return ""
        text = f"; GC: {self.gc_full:.0f} full passes"
        if self.gc_full > 0:
            largest = f"<= {self.gc_full_max_ms:.0f} ms"
            if self.gc_full_max_ms == float("inf"):
                largest = "above the histogram's last bound"
            text += f" (mean {self.gc_full_ms:.0f} ms, largest {largest})"
        text += f", {self.gc_share:.1%} of the run in GC pauses"
        return text + f", {self.gc_objects:,.0f} objects in gen 2 ({self.gc_frozen:,.0f} frozen)"

    def reason(self) -> str:
        if self.requests <= 0:
            return ""
        cpu = ""
        if self.cpu_ms > 0:
            cpu = f"; hub CPU {self.cpu_ms:.2f} ms a request"
            if self.floor_cpu_ms > 0:
                cpu += f" ({self.cpu_ms / self.floor_cpu_ms:.1f}x the floor's)"
        cpu += self.gc_reason()
        if self.statements < 0.05 and self.checkouts < 0.05:
            return "no database work per request (answered from the caches)" + cpu
        return (
            f"PostgreSQL: {self.statements:.1f} statements and {self.checkouts:.1f} "
            f"connection checkouts per request, {self.statement_ms:.2f} ms a statement, "
            f"{self.db_share:.0%} of the request time in statements" + cpu
        )


_METRIC = re.compile(
    r"^(hub_db_statements_total|hub_db_statement_seconds_total|"
    r"hub_db_checkouts_total|hub_request_seconds_count|hub_request_seconds_sum)"
    r"\{.*\}\s+([0-9.e+-]+)$",  # greedy: route labels hold {param} braces
    re.M,
)


_GC = re.compile(
    r'^hub_gc_pause_seconds_(count|sum|bucket)\{generation="(\d)"(?:,le="([^"]+)")?\}'
    r"\s+([0-9.e+-]+)$",
    re.M,
)

_GC_OBJECTS = re.compile(r'^hub_gc_objects\{generation="(\w+)"\}\s+([0-9.e+-]+)$', re.M)


def hub_counters(hub_url: str) -> dict[str, float]:
    """The hub's request and database counters, summed over routes, and its GC pause
    histogram (``gc_count_<generation>``, ``gc_sum_<g>``, ``gc_bucket_<g>_<le>``; {} when
    the hub does not answer)."""
    try:
        text = httpx.get(f"{hub_url}/metrics", timeout=60).text
    except httpx.TransportError:
        return {}
    out: dict[str, float] = {}
    for name, value in _METRIC.findall(text):
        out[name] = out.get(name, 0.0) + float(value)
    for kind, generation, le, value in _GC.findall(text):
        key = f"gc_{kind}_{generation}" + (f"_{le}" if le else "")
        out[key] = float(value)
    for generation, value in _GC_OBJECTS.findall(text):
        out[f"gc_objects_{generation}"] = float(value)
    return out


def gc_delta(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, Any]:
    """:class:`Db`'s GC fields from two :func:`hub_counters` readings ``seconds`` apart."""

    def d(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    full = d("gc_count_2")
    largest = 0.0
    bounds = sorted((float(k.rsplit("_", 1)[1]), k) for k in after if k.startswith("gc_bucket_2_"))
    for bound, key in bounds:  # cumulative buckets: the first bound holding every pass
        if full > 0 and d(key) >= full:
            largest = bound
            break
    paused = sum(d(f"gc_sum_{g}") for g in range(3))
    return {
        "gc_full": full,
        "gc_full_ms": 1000 * d("gc_sum_2") / full if full else 0.0,
        "gc_full_max_ms": 1000 * largest,
        "gc_share": paused / seconds if seconds > 0 else 0.0,
        "gc_seen": "gc_count_0" in after,
        "gc_objects": after.get("gc_objects_2", 0.0),
        "gc_frozen": after.get("gc_objects_frozen", 0.0),
    }


def db_delta(
    before: dict[str, float],
    after: dict[str, float],
    cpu_s: float = 0.0,
    floor_cpu_ms: float = 0.0,
    seconds: float = 0.0,
) -> Db:
    def d(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    n = d("hub_request_seconds_count")
    statements = d("hub_db_statements_total")
    return Db(
        **gc_delta(before, after, seconds),
        cpu_ms=1000 * cpu_s / n if n else 0.0,
        floor_cpu_ms=floor_cpu_ms,
        requests=n,
        statements=statements / n if n else 0.0,
        checkouts=d("hub_db_checkouts_total") / n if n else 0.0,
        statement_ms=1000 * d("hub_db_statement_seconds_total") / statements if statements else 0,
        db_share=d("hub_db_statement_seconds_total") / d("hub_request_seconds_sum")
        if d("hub_request_seconds_sum") > 0
        else 0.0,
    )


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"cannot read the latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(out: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _seconds(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _seconds(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = []
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        errors.append(f"{m.group(1)} non-2xx responses")
    if m := re.search(r"Socket errors:.*", out):
        errors.append(m.group(0).strip())
    transfer = 0.0
    if m := re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out):
        transfer = float(m.group(1)) * {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9}[m.group(2)]
    return Result(rps=rps, p50_s=p50, p99_s=p99, errors="; ".join(errors), bytes_per_s=transfer)


LUA_POST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local bodies = {bodies}
local n = 0
request = function()
  n = n + 1
  local body = string.gsub(bodies[(n % #bodies) + 1], "__N__", tostring(n))
  return wrk.format(nil, nil, nil, body)
end
"""


ACCEPT_ENCODING = "gzip, deflate, br, zstd"
"""What Chromium sends with every request (``--identity`` sends none): the console's
large responses are measured as a browser receives them."""


def lua_post(token: str, bodies: list[str]) -> str:
    quoted = "{" + ", ".join(json.dumps(b) for b in bodies) + "}"
    return LUA_POST.replace("{token}", token).replace("{bodies}", quoted)


def wrk(
    url: str,
    *,
    token: str | None,
    seconds: int,
    connections: int,
    lua: str | None = None,
    encoding: str = ACCEPT_ENCODING,
) -> Result:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    argv += ["-H", f"Accept-Encoding: {encoding}"]  # a Lua script's requests carry it too
    with tempfile.TemporaryDirectory() as tmp:
        if lua is not None:
            script = Path(tmp) / "post.lua"
            script.write_text(lua)
            argv += ["-s", str(script)]
        elif token is not None:
            argv += ["-H", f"Authorization: Bearer {token}"]
        out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    result = parse_wrk(out)
    if result.errors or result.rps == 0:
        print(f"wrk {url}:\n{out}")
    return result


# --------------------------------------------------------------------------- routes


@dataclass(frozen=True, slots=True)
class Route:
    label: str
    path: str
    kind: str  # "read", "write", "healthz"
    bodies: tuple[str, ...] = ()


def seed_routes(fleet: Fleet, instruction_id: str) -> list[Route]:
    inst = fleet.instance_ids[len(fleet.instance_ids) // 2]
    vpp = fleet.vpp_ids[len(fleet.vpp_ids) // 2]
    end = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = end - dt.timedelta(hours=1)
    window = f"start={start.isoformat().replace('+00:00', 'Z')}"
    window += f"&end={end.isoformat().replace('+00:00', 'Z')}"
    return [
        Route("healthz", "/healthz", "healthz"),
        Route("templates", f"{API}/resource-templates", "read"),
        Route("instances page 3 (50)", f"{API}/resource-instances?page=3&size=50", "read"),
        Route("instance get", f"{API}/resource-instances/{inst}", "read"),
        Route("instance realtime", f"{API}/resource-instances/{inst}/realtime-data", "read"),
        Route("instance history", f"{API}/resource-instances/{inst}/history?{window}", "read"),
        Route("vpps page 1 (20)", f"{API}/vpps?page=1&size=20", "read"),
        Route("vpp get", f"{API}/vpps/{vpp}", "read"),
        Route("aggregated-params", f"{API}/vpps/{vpp}/aggregated-params", "read"),
        Route("conflicts", f"{API}/vpps/{vpp}/conflicts", "read"),
        Route("execution-status", f"{API}/trading/execution-status/{instruction_id}", "read"),
    ]


def write_routes(fleet: Fleet) -> list[Route]:
    create = json.dumps(
        {
            "template_id": fleet.template_id,
            "name": "bench-new-__N__",
            "capacity": 100,
            "parameters": {"rated_kw": 100, "rated_kwh": 200},
        }
    )
    dispatch = [
        json.dumps(
            {"vpp_id": v, "dispatch_instructions": [{"target_power": 500.0, "duration": 900}]}
        )
        for v in fleet.vpp_ids[:50]
    ]
    return [
        Route("create instance", f"{API}/resource-instances", "write", (create,)),
        Route("execute-dispatch", f"{API}/trading/execute-dispatch", "write", tuple(dispatch)),
    ]


def discovered_routes(openapi: dict[str, object], known: set[str], fleet: Fleet) -> list[Route]:
    """GET routes of the newer capabilities with no path parameter (their lists),
    with the required query parameters filled where the name says what they are."""
    out: list[Route] = []
    paths = openapi.get("paths")
    assert isinstance(paths, dict)
    today = dt.date.today()
    fill = {
        "vpp_id": fleet.vpp_ids[0],
        "start_date": (today - dt.timedelta(days=7)).isoformat(),
        "end_date": today.isoformat(),
        "date": today.isoformat(),
        "trading_date": today.isoformat(),
        "market_type": "SPOT",
    }
    for path, ops in paths.items():
        get_op = ops.get("get") if isinstance(ops, dict) else None
        if not isinstance(get_op, dict) or "{" in path or path in known or path in SKIP_PATHS:
            continue
        query = []
        missing = []
        for param in get_op.get("parameters", []):
            if param.get("in") == "query" and param.get("required"):
                name = param["name"]
                if name in fill:
                    query.append(f"{name}={fill[name]}")
                else:
                    missing.append(name)
        label = path.removeprefix(API + "/").removeprefix("/api/v1/")
        if missing:
            out.append(Route(label, path, "skip:required " + ",".join(missing)))
            continue
        out.append(Route(label, path + ("?" + "&".join(query) if query else ""), "read"))
    return out


# --------------------------------------------------------------------------- main


def verdict(route: Route, r: Result, floor: Result, db: Db | None = None) -> str:
    """'' when the targets are met, else what was missed and the measured reason (the
    database work per request, the response size)."""
    reasons = []
    if r.rps == 0:
        return "no request completed" + (f" ({db.reason()})" if db and db.requests else "")
    if r.errors:
        reasons.append(r.errors)
    if r.p99_s > SEED_LIMIT_S:
        reasons.append(f"p99 {r.p99_s * 1000:.0f} ms above the seed's 1 s")
    share = r.rps / floor.rps
    if route.kind == "read":
        if r.p99_s > READ_P99_S:
            reasons.append(f"p99 {r.p99_s * 1000:.0f} ms > {READ_P99_S * 1000:.0f} ms")
        if share < READ_SHARE:
            reasons.append(f"{share:.0%} of floor < {READ_SHARE:.0%}")
    elif route.kind == "write":
        if r.p99_s > WRITE_P99_S:
            reasons.append(f"p99 {r.p99_s * 1000:.0f} ms > {WRITE_P99_S * 1000:.0f} ms")
    elif route.kind == "healthz" and share < 1 / HEALTHZ_FACTOR:
        reasons.append(f"{1 / share:.2f}x slower than floor > {HEALTHZ_FACTOR}x")
    if reasons and db is not None and (why := db.reason()):
        reasons.append("why: " + why)
    if reasons and r.rps > 0 and r.bytes_per_s / r.rps > 100_000:
        reasons.append(f"{r.bytes_per_s / r.rps / 1e6:.1f} MB per response")
    return "; ".join(reasons)


def _ms(s: float) -> str:
    return f"{s * 1000:.1f}"


async def prepare(client: httpx.AsyncClient, fleet: Fleet, only: str) -> list[Route]:
    """Every route to measure, after one request each (a route that does not answer 200 is
    listed as skipped with its status), once the telemetry is in the live cache."""
    last = f"{API}/resource-instances/{fleet.instance_ids[-1]}/realtime-data"
    for _ in range(1200):
        if (await client.get(last)).status_code == 200:
            break
        await asyncio.sleep(0.1)
    else:
        metrics = (await client.get("/metrics")).text.splitlines()
        ingest = [m for m in metrics if m.startswith(("hub_ingest", "hub_mqtt"))]
        print("the telemetry did not reach the live cache in 120 s:", *ingest, sep="\n  ")
    r = await client.post(
        f"{API}/trading/execute-dispatch",
        json={
            "vpp_id": fleet.vpp_ids[0],
            "dispatch_instructions": [{"target_power": 100.0, "duration": 900}],
        },
    )
    r.raise_for_status()
    routes = seed_routes(fleet, r.json()["instructions"][0]["instruction_id"])
    openapi = (await client.get("/schema/openapi.json")).json()
    known = {r.path.split("?")[0] for r in routes} | {f"{API}/resource-instances", f"{API}/vpps"}
    routes += discovered_routes(openapi, known, fleet)
    routes += write_routes(fleet)
    if only:
        wanted = [w for w in only.split(",") if w]
        routes = [
            r
            for r in routes
            if any(w in r.path or w in r.label for w in wanted) or r.kind == "healthz"
        ]
    probed = []
    for route in routes:
        checked = route
        if route.kind in ("read", "healthz"):
            probe = await client.get(route.path)
            if probe.status_code != 200:
                reason = f"skip:{probe.status_code} {probe.text[:80]}"
                checked = Route(route.label, route.path, reason)
        probed.append(checked)
    return probed


Row = tuple[str, str, Result | None, float, str]


def settle(hub_url: str) -> None:
    """Wait until the hub has worked off what the previous route left queued (uvicorn
    finishes requests whose connection wrk has closed): /healthz answers at once again."""
    with httpx.Client(timeout=60) as client:
        for _ in range(120):
            started = time.perf_counter()
            try:
                client.get(f"{hub_url}/healthz")
            except httpx.TransportError:  # a backlog that overflowed resets connections
                time.sleep(0.5)
                continue
            if time.perf_counter() - started < 0.05:
                return
            time.sleep(0.5)


def measure(
    routes: list[Route],
    floor_url: str,
    hub_url: str,
    token: str,
    args: argparse.Namespace,
    pids: tuple[int, int] = (0, 0),
) -> list[Row]:
    """The floor first, then every route, one after the other (one wrk at a time).
    ``pids``: the floor's and the hub's processes (their CPU time per request goes into
    the reason of a missed target)."""
    floor_pid, hub_pid = pids
    encoding = "identity" if args.identity else ACCEPT_ENCODING
    wrk(floor_url, token=None, seconds=1, connections=args.connections)  # warm up
    cpu = cpu_seconds(floor_pid) if floor_pid else 0.0
    floor = wrk(
        floor_url,
        token=None,
        seconds=args.duration,
        connections=args.connections,
        encoding=encoding,
    )
    served = floor.rps * args.duration
    floor_cpu_ms = 1000 * (cpu_seconds(floor_pid) - cpu) / served if floor_pid and served else 0.0
    rows: list[Row] = [("floor (trivial Litestar)", "floor", floor, 1.0, "")]
    for route in routes:
        if route.kind.startswith("skip:"):
            rows.append((route.label, route.kind, None, 0.0, ""))
            continue
        settle(hub_url)
        before = hub_counters(hub_url)
        started = time.perf_counter()
        cpu = cpu_seconds(hub_pid) if hub_pid else 0.0
        res = wrk(
            hub_url + route.path,
            token=token,
            seconds=args.duration,
            connections=args.connections,
            lua=lua_post(token, list(route.bodies)) if route.bodies else None,
            encoding=encoding,
        )
        settle(hub_url)  # requests wrk gave up on are still counted once they finish
        cpu = cpu_seconds(hub_pid) - cpu if hub_pid else 0.0
        elapsed = time.perf_counter() - started
        db = db_delta(before, hub_counters(hub_url), cpu, floor_cpu_ms, elapsed)
        # the database work and hub CPU of every route, also of one that meets its
        # targets (a before/after comparison needs both sides')
        gc_note = "" if db.gc_seen else "; GC: not measured (no hub_gc_*)"
        print(f"{route.label}: {db.requests:.0f} requests counted; {db.reason()}{gc_note}")
        rows.append(
            (route.label, route.kind, res, res.rps / floor.rps, verdict(route, res, floor, db))
        )
    return rows


def report(rows: list[Row]) -> list[str]:
    """Prints the table; returns the missed targets."""
    print()
    print(f"{'route':<34} {'kind':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'floor':>7}  ok")
    failures = []
    for label, kind, res, share, reason in rows:
        if res is None:
            print(f"{label:<34} {kind}")
            continue
        mark = "" if kind == "floor" else "MISSED: " + reason if reason else "ok"
        if reason:
            failures.append(f"{label}: {reason}")
        print(
            f"{label:<34} {kind:<8} {res.rps:8.0f} {_ms(res.p50_s):>8} {_ms(res.p99_s):>8} "
            f"{share:7.1%}  {mark}"
        )
    print()
    print(
        f"targets: read p99 <= {READ_P99_S * 1000:.0f} ms and >= {READ_SHARE:.0%} of the floor; "
        f"write p99 <= {WRITE_P99_S * 1000:.0f} ms; healthz within {HEALTHZ_FACTOR}x of the floor"
    )
    if failures:
        print(f"{len(failures)} target(s) missed:")
        for f in failures:
            print("  " + f)
    return failures


def hub_command(port: int, db_url: str, mqtt_url: str, args: argparse.Namespace) -> list[str]:
    argv = [sys.executable, "-m", "lingtan", "hub", "run", "--port", str(port)]
    argv += ["--db", db_url, "--mqtt", mqtt_url, "--log-level", "WARNING"]
    if args.profile:  # the whole run, sampled; the report is written when the hub stops
        argv[1:1] = ["-m", "pyinstrument", "-r", "text", "-o", args.profile]
    return argv


async def main(args: argparse.Namespace) -> int:
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk (make bench installs it)")
        return 2
    print(
        f"hub API bench: {args.instances} instances in {args.vpps} VPPs on PostgreSQL, "
        f"wrk -t1 -c{args.connections} -d{args.duration}s"
    )
    env = {
        **os.environ,
        "VPP_HUB_JWT_SECRET": SECRET,
        "VPP_HUB_RATE_LIMIT": "0",
        "VPP_HUB_LOGIN_RATE_LIMIT": "0",
    }
    token = TokenService(SECRET, 24 * 3600).issue(
        Principal(user_id=BENCH_USER, username="bench", role="admin")
    )
    with Mosquitto() as broker:
        async with throwaway_db(args.pg) as db_url:
            started = time.perf_counter()
            fleet = await seed(db_url, args.instances, args.vpps)
            print(f"seeded in {time.perf_counter() - started:.1f} s")
            floor_port, hub_port = free_port(), free_port()
            floor_argv = [sys.executable, __file__, "--serve-floor", str(floor_port)]
            floor_url = f"http://127.0.0.1:{floor_port}"
            hub_url = f"http://127.0.0.1:{hub_port}"
            logs = Path(tempfile.mkdtemp(prefix="bench-api-"))
            print(f"server logs in {logs}")
            with (
                process(floor_argv, env, logs / "floor.log") as floor_proc,
                process(
                    hub_command(hub_port, db_url, broker.url, args), env, logs / "hub.log"
                ) as hub,
            ):
                await wait_ready(floor_url, floor_proc, "/floor")
                await wait_ready(hub_url, hub, "/readyz")
                await telemetry(broker.port, args.instances, args.vpps)
                headers = {"Authorization": f"Bearer {token}"}
                async with httpx.AsyncClient(base_url=hub_url, headers=headers, timeout=60) as c:
                    routes = await prepare(c, fleet, args.only)
                pids = (floor_proc.pid, hub.pid)
                rows = measure(routes, f"{floor_url}/floor", hub_url, token, args, pids)
    failures = report(rows)
    return 0 if not failures or args.no_fail else 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that `timeout`/kill still drops the database and stops the hub


def cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--serve-floor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument(
        "--pg",
        default=os.environ.get("VPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--vpps", type=int, default=200)
    parser.add_argument("-d", "--duration", type=int, default=15, help="seconds per route")
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument(
        "--only",
        default="",
        help="only routes whose path or label contains this (or one of a,b,c)",
    )
    parser.add_argument("--profile", default="", help="run the hub under pyinstrument: report")
    parser.add_argument("--no-fail", action="store_true", help="print only, exit 0")
    parser.add_argument(
        "--identity",
        action="store_true",
        help="ask for uncompressed responses (default: Accept-Encoding as Chromium sends it)",
    )
    args = parser.parse_args()
    if args.serve_floor:
        serve_floor(args.serve_floor)
        return 0
    signal.signal(signal.SIGTERM, _interrupt)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress in a log
    return asyncio.run(main(args))


if __name__ == "__main__":
    sys.exit(cli())
