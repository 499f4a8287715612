"""Two hub replicas on one PostgreSQL behind HAProxy, with agents on simulated parks.

Real processes as an operator runs them: ``vpp sim site`` and ``vpp agent run`` for two
parks, two ``vpp hub run`` sharing ``$share/hub`` on one mosquitto and one PostgreSQL
database (one JWT secret, non-persistent MQTT sessions as documented for replicas), and
HAProxy (Debian's ``haproxy``) in front of their HTTP ports. One hub is SIGKILLed
mid-stream; then:

* the API keeps answering through the balancer (every request during and after the kill
  answered 200);
* the retained hub state stays online (the survivor answers the dead one's Will);
* acks continue past the kill, and every ``(edge, sid, seq)`` the agents committed is
  stored, once, with no gap, within :data:`RECOVERY_S`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import httpx
import pytest

from lingtan.broker import Mosquitto, free_port
from protocol import HubState, decode_as
from protocol.topics import HUB_STATE
from tests.conftest import create_pg_database, drop_pg_database
from tests.reliability.test_restarts import dump_logs, eventually, free_block
from tests.support import SAFETY_TIMEOUT, service_missing

pytestmark = [pytest.mark.mosquitto, pytest.mark.postgres, pytest.mark.slow]

VPP = str(Path(sys.executable).parent / "vpp")
SECRET = "replica-secret-" + "k" * 40
PASSWORD = "replica-pass-1"
RECOVERY_S = 45.0
"""Stated bound: after a replica is killed, everything committed before is acked within it
(the agents replay what the dead replica had in flight when the survivor says online)."""
EDGES = ("park-1", "park-2")
ROOT = Path(__file__).resolve().parents[2]


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A PostgreSQL database of its own (dropped after), as an asyncpg SQLAlchemy URL."""
    name, url = await create_pg_database("vpp_replicas")
    try:
        yield url
    finally:
        await drop_pg_database(name)


@dataclass
class Cluster:
    root: Path
    broker: Mosquitto
    db: str
    hub_ports: dict[str, int] = field(
        default_factory=lambda: {"hub1": free_port(), "hub2": free_port()}
    )
    lb_port: int = field(default_factory=free_port)
    device_bases: dict[str, int] = field(default_factory=dict)
    agent_metrics: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def spawn(
        self, name: str, args: list[str], cwd: Path, env: dict[str, str] | None = None
    ) -> None:
        cwd.mkdir(parents=True, exist_ok=True)
        base = {k: v for k, v in os.environ.items() if not k.startswith("VPP_")}
        base["PYTHONUNBUFFERED"] = "1"
        base["PYTHONPATH"] = str(ROOT)  # this checkout, whatever the venv was installed from
        with (self.root / f"{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(
                args, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env={**base, **(env or {})}
            )

    def start_park(self, edge: str) -> None:
        if not self.device_bases:
            first = free_block(6 * len(EDGES))
            self.device_bases = {e: first + 6 * i for i, e in enumerate(EDGES)}
        base = self.device_bases[edge]
        self.agent_metrics[edge] = free_port()
        self.spawn(f"sim-{edge}", [VPP, "sim", "site", "--preset", "park-s", "--port-base",
                                   str(base)], self.root / f"sim-{edge}")  # fmt: skip
        agent_dir = self.root / edge
        agent_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [VPP, "agent", "init", "--preset", "park-s", "--port-base", str(base), "--mqtt",
             self.broker.url, "--edge", edge, "--metrics-port", str(self.agent_metrics[edge]),
             "-o", "agent.toml"],
            cwd=agent_dir, check=True, capture_output=True, timeout=SAFETY_TIMEOUT * 2,
        )  # fmt: skip

    def start_agent(self, edge: str) -> None:
        self.spawn(f"agent-{edge}", [VPP, "agent", "run", "--config", "agent.toml"],
                   self.root / edge)  # fmt: skip

    def start_hub(self, name: str) -> None:
        env = {
            "VPP_HUB_JWT_SECRET": SECRET,
            "VPP_HUB_MQTT_PERSISTENT": "0",
            "VPP_HUB_RATE_LIMIT": "0",
        }
        self.spawn(name, [VPP, "hub", "run", "--port", str(self.hub_ports[name]), "--db",
                          self.db, "--mqtt", self.broker.url], self.root / name, env)  # fmt: skip

    def start_haproxy(self, binary: str) -> None:
        servers = "\n".join(
            f"  server {name} 127.0.0.1:{port} check" for name, port in self.hub_ports.items()
        )
        config = self.root / "haproxy.cfg"
        config.write_text(
            "defaults\n  mode http\n  timeout connect 1s\n  timeout client 10s\n"
            "  timeout server 10s\n  retries 3\n  option redispatch 1\n"
            "  retry-on all-retryable-errors\n"
            f"frontend api\n  bind 127.0.0.1:{self.lb_port}\n  default_backend hubs\n"
            "backend hubs\n  balance roundrobin\n  option httpchk GET /healthz\n"
            "  http-check expect status 200\n  default-server inter 300ms fall 2 rise 2\n"
            f"{servers}\n"
        )
        self.spawn("haproxy", [binary, "-db", "-f", str(config)], self.root)

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.kill()
        proc.wait(timeout=SAFETY_TIMEOUT)

    async def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for name, proc in list(self.procs.items()):
            try:
                await asyncio.to_thread(proc.wait, SAFETY_TIMEOUT * 2)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hang is a failure
                proc.kill()
                await asyncio.to_thread(proc.wait, SAFETY_TIMEOUT)
            self.procs.pop(name)

    # ---------------------------------------------------------------- observations

    async def ready(self, name: str) -> bool:
        try:
            async with httpx.AsyncClient(timeout=2.0) as http:
                r = await http.get(f"http://127.0.0.1:{self.hub_ports[name]}/readyz")
            return r.status_code == 200 and bool(r.json().get("mqtt"))
        except httpx.HTTPError:
            return False

    async def data_messages(self, name: str) -> float:
        async with httpx.AsyncClient(timeout=2.0) as http:
            text = (await http.get(f"http://127.0.0.1:{self.hub_ports[name]}/metrics")).text
        for line in text.splitlines():
            if line.startswith('hub_ingest_messages_total{kind="data"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    async def query(self, sql: str) -> list[tuple[object, ...]]:
        import asyncpg

        conn = await asyncpg.connect(self.db.replace("+asyncpg", ""), timeout=5)
        try:
            return [tuple(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()

    async def cursors(self) -> dict[tuple[str, int], int]:
        rows = await self.query("SELECT edge_id, sid, acked_seq FROM ingest_cursors")
        return {(str(e), int(s)): int(a) for e, s, a in rows}  # type: ignore[call-overload]

    async def stored(self) -> dict[tuple[str, int], set[int]]:
        out: dict[tuple[str, int], set[int]] = {}
        rows = await self.query(
            "SELECT DISTINCT edge_id, sid, seq FROM telemetry UNION "
            "SELECT edge_id, sid, seq FROM dispatch_status_events"
        )
        for edge, sid, seq in rows:
            out.setdefault((str(edge), int(sid)), set()).add(int(seq))  # type: ignore[call-overload]
        return out

    def outbox(self, edge: str) -> list[tuple[int, int]]:
        path = self.root / edge / "var" / "agent" / "outbox.db"
        if not path.exists():
            return []
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0) as conn:
            return [
                (int(a), int(b))
                for a, b in conn.execute("SELECT sid, seq FROM outbox ORDER BY sid, seq")
            ]

    def committed_top(self, edge: str) -> tuple[int, int]:
        keys = self.outbox(edge)
        return keys[-1] if keys else (0, 0)


async def hub_state(broker: Mosquitto) -> HubState:
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        await client.subscribe(HUB_STATE, qos=1)
        async with asyncio.timeout(SAFETY_TIMEOUT):
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                return decode_as(message.payload, HubState)
    raise AssertionError("no retained hub state")  # pragma: no cover


async def test_one_of_two_replicas_killed_mid_stream_loses_nothing_and_stalls_nothing(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    binary = haproxy_binary()
    if binary is None:
        service_missing("haproxy is not installed (apt-get install haproxy)")
    async with fresh_database() as db:
        cluster = Cluster(tmp_path, mosquitto, db)
        try:
            await run_scenario(cluster, binary)
        except BaseException:
            dump_logs(tmp_path)
            raise
        finally:
            await cluster.stop_all()


async def kill_one(
    cluster: Cluster,
) -> tuple[dict[tuple[str, int], int], dict[str, tuple[int, int]], float, float]:
    """SIGKILL hub1 mid-stream; wait until everything committed meanwhile is acked."""
    await asyncio.sleep(2.0)
    before = await cluster.cursors()
    killed_at = time.monotonic()
    cluster.kill("hub1")
    await asyncio.sleep(3.0)  # the agents keep producing; the survivor takes all
    marks = {edge: cluster.committed_top(edge) for edge in EDGES}

    async def caught_up() -> bool:
        cursors = await cluster.cursors()
        for edge, (sid, seq) in marks.items():
            if cursors.get((edge, sid), 0) < seq:
                return False
            if any(k[0] != sid or k[1] <= seq for k in cluster.outbox(edge)):
                return False
        return True

    await eventually(caught_up, "everything committed before the kill acked", RECOVERY_S)
    recovered_s = time.monotonic() - killed_at
    await asyncio.sleep(1.0)
    return before, marks, killed_at, recovered_s


async def run_scenario(cluster: Cluster, haproxy: str) -> None:
    # the schema and a user first, as an operator does: `vpp hub user add`
    await asyncio.to_thread(
        subprocess.run,
        [VPP, "hub", "user", "add", "ops", "--role", "operator", "--db", cluster.db],
        input=f"{PASSWORD}\n".encode(), check=True, capture_output=True,
        timeout=SAFETY_TIMEOUT * 4,
    )  # fmt: skip
    for edge in EDGES:
        cluster.start_park(edge)
    cluster.start_hub("hub1")
    cluster.start_hub("hub2")
    cluster.start_haproxy(haproxy)
    await asyncio.sleep(1.0)  # the simulators bind their ports
    for edge in EDGES:
        cluster.start_agent(edge)

    async def both_ready() -> bool:
        return all([await cluster.ready(n) for n in ("hub1", "hub2")])

    await eventually(both_ready, "both hubs up with MQTT", SAFETY_TIMEOUT * 6)

    async def both_edges_acked() -> bool:
        cursors = await cluster.cursors()
        return all(sum(a for (e, _), a in cursors.items() if e == edge) >= 5 for edge in EDGES)

    await eventually(both_edges_acked, "both edges' first rows acked", SAFETY_TIMEOUT * 6)

    async def both_replicas_ingest() -> bool:
        return all([await cluster.data_messages(n) > 0 for n in ("hub1", "hub2")])

    await eventually(both_replicas_ingest, "$share/hub splits ingest over both", SAFETY_TIMEOUT * 2)

    lb = f"http://127.0.0.1:{cluster.lb_port}"
    async with httpx.AsyncClient(base_url=lb, timeout=5.0) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"username": "ops", "password": PASSWORD}
        )
        assert login.status_code in (200, 201), login.text
        token = login.json()["access_token"]
        statuses: list[tuple[float, int]] = []
        stop = asyncio.Event()

        async def poll() -> None:
            while not stop.is_set():
                try:
                    r = await http.get(
                        "/api/v1/edges", headers={"Authorization": f"Bearer {token}"}
                    )
                    statuses.append((time.monotonic(), r.status_code))
                except httpx.HTTPError:
                    statuses.append((time.monotonic(), 0))
                await asyncio.sleep(0.05)

        poller = asyncio.create_task(poll())
        try:
            before, marks, killed_at, recovered_s = await kill_one(cluster)
        finally:
            stop.set()
            await poller

    after_kill = [code for at, code in statuses if at >= killed_at]
    assert len(after_kill) >= 20, "the API was not exercised after the kill"
    failed = [code for _, code in statuses if code != 200]
    assert not failed, f"{len(failed)} of {len(statuses)} requests through the balancer failed"
    assert (await hub_state(cluster.broker)).online, "the survivor did not keep the hub online"
    cursors = await cluster.cursors()
    for key, acked in before.items():
        if key[0] in EDGES and key in cursors and key[1] == marks[key[0]][0]:
            assert cursors[key] > acked, f"acks of {key} did not move after the kill"
    stored = await cluster.stored()
    for key, acked in cursors.items():
        missing = set(range(1, acked + 1)) - stored.get(key, set())
        assert not missing, f"{key}: acked {acked} but {sorted(missing)[:10]} missing"
    assert await cluster.query("SELECT * FROM ingest_gaps") == []
    doubled = await cluster.query(
        "SELECT edge_id, sid, seq, idx FROM telemetry GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
        " UNION ALL SELECT edge_id, sid, seq, 0 FROM dispatch_status_events"
        " GROUP BY 1, 2, 3 HAVING count(*) > 1"
    )
    assert doubled == []
    print(f"recovered {recovered_s:.1f} s after the kill; {len(statuses)} API requests, all 200")
