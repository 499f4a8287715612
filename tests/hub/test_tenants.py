"""Two tenants each with an edge ``park-a``: registration, ingest, acks, devices, live
values, dispatch, execution reports and online state never mix (real mosquitto, SQLite
and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub._metrics import Metrics
from hub.app import create_app
from hub.ops import FleetGauges
from hub.store import Device, DispatchOutbox, Edge, IngestCursor, Telemetry
from lingtan.broker import Mosquitto
from protocol import (
    Ack,
    Birth,
    DispatchSchedule,
    DispatchStatus,
    MetricDef,
    Point,
    State,
    TelemetryBatch,
    decode_as,
    encode,
)
from protocol.topics import EdgeTopics
from tests.support import SAFETY_TIMEOUT

from .conftest import JWT_SECRET, AuthFor, add_role_users, auth_for, wait_until
from .helpers import make_battery, make_vpp, presets, running_hub, set_status

pytestmark = pytest.mark.mosquitto

A = EdgeTopics("acme", "park-a")
B = EdgeTopics("globex", "park-a")


@pytest.fixture
def mqtt_app(clean_db: str, mosquitto: Mosquitto) -> Litestar:
    return create_app(
        Settings(
            db_url=clean_db,
            mqtt_url=mosquitto.url,
            jwt_secret=JWT_SECRET,
            rate_limit_per_minute=0,
            migrate_on_start=False,
            heartbeat_write_s=0.0,
            run_jobs=False,
        )
    )


@pytest.fixture
async def hub(mqtt_app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with running_hub(mqtt_app) as client:
        yield client


@pytest.fixture
async def auth(mqtt_app: Litestar, hub: AsyncTestClient[Litestar], clean_db: str) -> AuthFor:
    await add_role_users(clean_db)
    return auth_for(mqtt_app)


class Site:
    """One tenant's ``park-a``: an MQTT client on its own topics."""

    def __init__(self, client: aiomqtt.Client, topics: EdgeTopics) -> None:
        self.client = client
        self.topics = topics
        self.acks: asyncio.Queue[Ack] = asyncio.Queue()
        self.schedules: asyncio.Queue[DispatchSchedule] = asyncio.Queue()

    async def publish(self, topic: str, message: Any, *, retain: bool = False) -> None:
        await self.client.publish(topic, encode(message), qos=1, retain=retain)

    async def ack(self) -> Ack:
        async with asyncio.timeout(SAFETY_TIMEOUT):
            return await self.acks.get()

    async def acked(self, seq: int) -> None:
        while (await self.ack()).seq < seq:
            pass


@pytest.fixture
async def sites(mosquitto: Mosquitto) -> AsyncIterator[tuple[Site, Site]]:
    """Both tenants' ``park-a`` on one client (each site's messages sorted by topic)."""
    async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="two-sites") as client:
        a, b = Site(client, A), Site(client, B)
        by_topic: dict[str, tuple[asyncio.Queue[Any], type[Any]]] = {
            A.ack: (a.acks, Ack),
            B.ack: (b.acks, Ack),
            A.dispatch: (a.schedules, DispatchSchedule),
            B.dispatch: (b.schedules, DispatchSchedule),
        }
        for topic in by_topic:
            await client.subscribe(topic, qos=1)

        async def sort() -> None:
            async for message in client.messages:
                held = by_topic.get(message.topic.value)
                if held is not None and isinstance(message.payload, bytes) and message.payload:
                    queue, cls = held
                    queue.put_nowait(decode_as(message.payload, cls))

        task = asyncio.create_task(sort())
        try:
            yield a, b
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


def _now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


def data(seq: int, p_w: float, *, edge: str = "park-a", sid: int = 1) -> TelemetryBatch:
    ts = _now_ms()
    return TelemetryBatch(
        edge=edge,
        sid=sid,
        seq=seq,
        ts_ms=ts,
        floor_seq=1,
        points=[Point(device="bess-1", name="p_w", value=p_w, ts_ms=ts)],
    )


async def register(hub: AsyncTestClient[Litestar], h: dict[str, str], tenant: str) -> Any:
    r = await hub.post("/api/v1/edges", json={"id": "park-a", "tenant": tenant}, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


async def test_two_tenants_park_a_register_ingest_and_ack_apart(
    hub: AsyncTestClient[Litestar],
    auth: AuthFor,
    sites: tuple[Site, Site],
    db: async_sessionmaker[AsyncSession],
) -> None:
    a, b = sites
    h = auth("operator")
    made_a, made_b = await register(hub, h, "acme"), await register(hub, h, "globex")
    assert (made_a["edge"]["tenant"], made_b["edge"]["tenant"]) == ("acme", "globex")
    users = {made_a["edge"]["mqtt_username"], made_b["edge"]["mqtt_username"]}
    assert users == {"edge-park-a", "edge-globex.park-a"}
    assert "vpp/v1/globex/park-a/data" in made_b["acl"]
    assert 'tenant = "globex"' in made_b["agent_config_toml"]
    again = await hub.post("/api/v1/edges", json={"id": "park-a", "tenant": "acme"}, headers=h)
    assert again.status_code == 409
    listed = (await hub.get("/api/v1/edges", headers=h)).json()
    assert [(e["tenant"], e["id"]) for e in listed] == [("acme", "park-a"), ("globex", "park-a")]

    # the same device id on both, bound to each tenant's edge
    mine = await make_battery(hub, h, name="acme-bess", edge="park-a", device="bess-1",
                              edge_tenant="acme")  # fmt: skip
    theirs = await make_battery(hub, h, name="globex-bess", edge="park-a", device="bess-1",
                                edge_tenant="globex")  # fmt: skip
    assert (mine["edge_tenant"], theirs["edge_tenant"]) == ("acme", "globex")
    ids = await presets(hub, h)
    unnamed = {"template_id": ids["battery_storage"], "name": "x", "capacity": 10.0,
               "edge_id": "park-a", "device_id": "bess-2"}  # fmt: skip
    r = await hub.post("/api/v1/vpp/resource-instances", json=unnamed, headers=h)
    assert r.status_code == 422, "park-a is in two tenants: a binding must name one"

    await a.publish(A.state, State(online=True, sid=1, ts_ms=_now_ms()), retain=True)
    await b.publish(B.state, State(online=False, sid=1, ts_ms=_now_ms()), retain=True)
    for site in sites:
        await site.publish(
            site.topics.device_birth("bess-1"),
            Birth(edge="park-a", device="bess-1", sid=1, device_kind=site.topics.tenant,
                  ts_ms=_now_ms(), metrics=[MetricDef(name="p_w", unit="W")]),
            retain=True,
        )  # fmt: skip
    # overlapping (sid, seq): 1..3 on both, different values
    for seq in (1, 2, 3):
        await a.publish(A.data, data(seq, 1000.0 * seq))
        await b.publish(B.data, data(seq, -2000.0 * seq))
    await a.acked(3)
    await b.acked(3)

    async with db() as session:
        rows = (
            await session.execute(
                select(Telemetry.tenant, Telemetry.seq, Telemetry.value).order_by(
                    Telemetry.tenant, Telemetry.seq
                )
            )
        ).all()
        cursors = (
            await session.execute(
                select(IngestCursor.tenant, IngestCursor.edge_id, IngestCursor.acked_seq).order_by(
                    IngestCursor.tenant
                )
            )
        ).all()
        devices = (
            await session.execute(select(Device.tenant, Device.kind).order_by(Device.tenant))
        ).all()
        online = (
            await session.execute(select(Edge.tenant, Edge.online).order_by(Edge.tenant))
        ).all()
    assert rows == [
        ("acme", 1, 1000.0), ("acme", 2, 2000.0), ("acme", 3, 3000.0),
        ("globex", 1, -2000.0), ("globex", 2, -4000.0), ("globex", 3, -6000.0),
    ]  # fmt: skip
    assert cursors == [("acme", "park-a", 3), ("globex", "park-a", 3)]
    assert devices == [("acme", "acme"), ("globex", "globex")]
    assert online == [("acme", True), ("globex", False)]

    # each resource sees its own tenant's values only (live cache and stored history)
    for inst, kw in ((mine, 3.0), (theirs, -6.0)):
        live = await hub.get(f"/api/v1/vpp/resource-instances/{inst['id']}/realtime-data",
                             headers=h)  # fmt: skip
        assert live.status_code == 200 and live.json()["power"] == kw
        start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
        end = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
        history = await hub.get(
            f"/api/v1/vpp/resource-instances/{inst['id']}/history",
            params={"start": start, "end": end, "step": 7200},
            headers=h,
        )
        [bucket] = history.json()["points"]
        assert bucket["count"] == 3 and bucket["max"] * kw > 0

    # online state and its gauge are per tenant
    metrics = Metrics()
    await FleetGauges(db, metrics).refresh()
    gauge = metrics.registry.get_sample_value
    assert gauge("hub_edge_online", {"tenant": "acme", "edge": "park-a"}) == 1
    assert gauge("hub_edge_online", {"tenant": "globex", "edge": "park-a"}) == 0


async def test_a_dispatch_to_one_tenants_park_a_reaches_only_its_topic(
    hub: AsyncTestClient[Litestar],
    auth: AuthFor,
    sites: tuple[Site, Site],
    db: async_sessionmaker[AsyncSession],
    mosquitto: Mosquitto,
) -> None:
    a, b = sites
    h = auth("operator")
    await register(hub, h, "acme")
    await register(hub, h, "globex")
    mine = await make_battery(hub, h, name="acme-bess", device="bess-1", edge_tenant="acme")
    theirs = await make_battery(hub, h, name="globex-bess", device="bess-1",
                                edge_tenant="globex")  # fmt: skip
    for inst in (mine, theirs):
        await set_status(hub, h, inst["id"], "ONLINE")
    for site, kw in ((a, 20.0), (b, -90.0)):
        await site.publish(site.topics.data, data(1, kw * 1000))
        await site.acked(1)
    vpp = await make_vpp(hub, h, [mine["id"]])
    agg = (await hub.get(f"/api/v1/vpp/vpps/{vpp['id']}/aggregated-params", headers=h)).json()
    assert agg["current_power"] == 20.0, "the VPP sees acme's park-a, not globex's"

    r = await hub.post(
        "/api/v1/vpp/trading/execute-dispatch",
        json={"vpp_id": vpp["id"], "dispatch_instructions": [{"target_power": 50.0,
              "duration": 900}]},
        headers=auth("trader"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    [member] = r.json()["instructions"][0]["members"]
    assert (member["edge_tenant"], member["edge_id"]) == ("acme", "park-a")
    async with asyncio.timeout(SAFETY_TIMEOUT):
        schedule = await a.schedules.get()
    assert schedule.intervals[0].targets[0].instruction_id == member["instruction_id"]

    # globex's park-a has no schedule: none staged, none retained on its topic
    async with db() as session:
        staged = (
            await session.execute(select(DispatchOutbox.tenant, DispatchOutbox.edge_id))
        ).all()
    assert staged == [("acme", "park-a")]
    async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="late") as late:
        marker = "test/marker"
        await late.publish(marker, b"x", qos=1, retain=True)
        await late.subscribe(B.dispatch, qos=1)
        await late.subscribe(marker, qos=1)
        async with asyncio.timeout(SAFETY_TIMEOUT):
            async for message in late.messages:
                assert message.topic.value == marker, "a schedule was retained on globex's topic"
                break
    assert b.schedules.empty()

    # globex's edge reporting on acme's instruction (same sid and seq) changes nothing of it
    url = f"/api/v1/vpp/trading/execution-status/{member['instruction_id']}"
    report = DispatchStatus(
        edge="park-a", sid=1, seq=2, ts_ms=_now_ms(), schedule_id=schedule.id,
        version=schedule.version, status="failed", reason="not mine", device="bess-1",
        instruction_id=member["instruction_id"],
    )  # fmt: skip
    await b.publish(B.dispatch_status, report)
    await b.acked(2)
    assert (await hub.get(url, headers=h)).json()["status"] == "pending"
    applied = DispatchStatus(
        edge="park-a", sid=1, seq=2, ts_ms=_now_ms(), schedule_id=schedule.id,
        version=schedule.version, status="executing", device="bess-1",
        instruction_id=member["instruction_id"], p_applied_w=50_000.0, p_actual_w=49_000.0,
    )  # fmt: skip
    await a.publish(A.dispatch_status, applied)
    await a.acked(2)
    status = (await hub.get(url, headers=h)).json()
    assert status["status"] == "executing" and status["actual_power"] == 49.0


async def test_messages_for_an_edge_registered_only_in_another_tenant_are_refused(
    hub: AsyncTestClient[Litestar],
    auth: AuthFor,
    sites: tuple[Site, Site],
    db: async_sessionmaker[AsyncSession],
) -> None:
    a, b = sites
    await register(hub, auth("operator"), "acme")  # park-a of acme only
    await b.publish(B.state, State(online=True, sid=1, ts_ms=_now_ms()))
    await b.publish(B.data, data(1, 5.0))

    async def refused() -> bool:
        metrics = (await hub.get("/metrics")).text
        return 'hub_ingest_malformed_total{reason="tenant_mismatch"} 2.0' in metrics

    await wait_until(refused)
    await a.publish(A.data, data(1, 7.0))
    await a.acked(1)
    assert b.acks.empty(), "nothing of globex's park-a was acknowledged"
    async with db() as session:
        stored = (await session.execute(select(Telemetry.tenant, Telemetry.value))).all()
        edges = (await session.execute(select(Edge.tenant, Edge.id))).all()
        count = await session.scalar(select(func.count()).select_from(IngestCursor))
    assert stored == [("acme", 7.0)] and edges == [("acme", "park-a")] and count == 1

    # registered in globex too: its messages are taken from then on
    await register(hub, auth("operator"), "globex")
    await wait_until(lambda: _resend_until_acked(b))


async def _resend_until_acked(site: Site) -> bool:
    await site.publish(site.topics.data, data(1, 5.0))
    try:
        async with asyncio.timeout(1.0):
            return (await site.acks.get()).seq == 1
    except TimeoutError:
        return False
