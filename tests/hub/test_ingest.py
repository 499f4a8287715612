"""MQTT side against a real mosquitto: ingest, acks, live state, dispatch round trip."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub.app import create_app
from hub.store import Telemetry
from lingtan.broker import Mosquitto
from protocol import (
    Ack,
    Birth,
    DispatchSchedule,
    DispatchStatus,
    HubState,
    Point,
    State,
    TelemetryBatch,
    decode_as,
    encode,
)
from protocol.clock import RealClock
from protocol.topics import HUB_STATE, EdgeTopics
from tests.support import SAFETY_TIMEOUT

from .conftest import JWT_SECRET, AuthFor, add_role_users, auth_for, wait_until
from .helpers import make_battery, make_vpp, running_hub

pytestmark = pytest.mark.mosquitto

TOPICS = EdgeTopics("acme", "park-a")


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
            tenant="acme",  # the edges' tenant: instances bind to acme's park-a
            run_jobs=False,
        )
    )


@pytest.fixture
async def hub(mqtt_app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with running_hub(mqtt_app) as client:
        yield client


@pytest.fixture
async def hub_auth(mqtt_app: Litestar, hub: AsyncTestClient[Litestar], clean_db: str) -> AuthFor:
    await add_role_users(clean_db)
    return auth_for(mqtt_app)


@pytest.fixture
async def edge(mosquitto: Mosquitto) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="test-edge") as client:
        await client.subscribe(TOPICS.ack, qos=1)
        await client.subscribe(TOPICS.dispatch, qos=1)
        await client.subscribe(HUB_STATE, qos=1)
        yield client


def _now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


def batch(
    seq: int,
    points: list[tuple[str, str, Any]],
    *,
    sid: int = 1,
    quality: str = "good",
    hist: bool = False,
) -> TelemetryBatch:
    ts = _now_ms()
    return TelemetryBatch(
        edge="park-a",
        sid=sid,
        seq=seq,
        ts_ms=ts,
        hist=hist,
        points=[
            Point(device=d, name=n, value=v, ts_ms=ts, quality=quality)  # type: ignore[arg-type]
            for d, n, v in points
        ],
    )


async def next_of(client: aiomqtt.Client, topic: str, cls: type[Any]) -> Any:
    async with asyncio.timeout(SAFETY_TIMEOUT):
        async for message in client.messages:
            if message.topic.value == topic and isinstance(message.payload, bytes):
                return decode_as(message.payload, cls)
    raise AssertionError("no message")  # pragma: no cover


async def count_rows(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(Telemetry)) or 0)


async def test_hub_announces_itself_and_acks_contiguous_telemetry(
    hub: AsyncTestClient[Litestar],
    hub_auth: AuthFor,
    edge: aiomqtt.Client,
    db: async_sessionmaker[AsyncSession],
) -> None:
    state = await next_of(edge, HUB_STATE, HubState)
    assert state.online is True
    inst = await make_battery(hub, hub_auth("operator"), edge="park-a", device="bess-1")
    await edge.publish(
        TOPICS.state, encode(State(online=True, sid=1, ts_ms=_now_ms())), qos=1, retain=True
    )
    await edge.publish(
        TOPICS.device_birth("bess-1"),
        encode(
            Birth(edge="park-a", device="bess-1", sid=1, ts_ms=_now_ms(), device_kind="battery")
        ),
        qos=1,
    )
    first = batch(
        1,
        [
            ("bess-1", "p_w", -20_000.0),
            ("bess-1", "soc_pct", 55.0),
            ("bess-1", "temp_c", 28),
            ("bess-1", "mode", "auto"),
        ],
    )
    await edge.publish(TOPICS.data, encode(first), qos=1)
    ack = await next_of(edge, TOPICS.ack, Ack)
    assert (ack.edge, ack.sid, ack.seq) == ("park-a", 1, 1)
    assert await count_rows(db) == 4

    # seq 3 arrives before 2: the ack waits for the gap to close
    await edge.publish(TOPICS.data, encode(batch(3, [("bess-1", "p_w", 1.0)])), qos=1)
    assert (await next_of(edge, TOPICS.ack, Ack)).seq == 1
    await edge.publish(TOPICS.data, encode(batch(2, [("bess-1", "p_w", 2.0)])), qos=1)
    assert (await next_of(edge, TOPICS.ack, Ack)).seq == 3

    # a redelivered batch is stored once
    await edge.publish(TOPICS.data, encode(first), qos=1)
    assert (await next_of(edge, TOPICS.ack, Ack)).seq == 3
    assert await count_rows(db) == 6

    h = hub_auth("viewer")
    got = (await hub.get(f"/api/v1/vpp/resource-instances/{inst['id']}", headers=h)).json()
    assert got["status"] == "ONLINE" and got["last_heartbeat"] is not None
    rt = (
        await hub.get(f"/api/v1/vpp/resource-instances/{inst['id']}/realtime-data", headers=h)
    ).json()
    assert rt["soc"] == 55.0 and rt["temperature"] == 28.0
    edges = (await hub.get("/api/v1/edges", headers=h)).json()
    assert edges[0]["id"] == "park-a" and edges[0]["online"] is True
    metrics = (await hub.get("/metrics")).text
    assert "hub_ingest_points_total 10.0" in metrics

    # bad quality everywhere marks the instance ERROR; the edge going away marks it OFFLINE
    await edge.publish(
        TOPICS.data, encode(batch(4, [("bess-1", "p_w", 0.0)], quality="bad")), qos=1
    )
    await next_of(edge, TOPICS.ack, Ack)
    got = (await hub.get(f"/api/v1/vpp/resource-instances/{inst['id']}", headers=h)).json()
    assert got["status"] == "ERROR"
    await edge.publish(TOPICS.state, encode(State(online=False, sid=1, ts_ms=_now_ms())), qos=1)

    async def offline() -> bool:
        r = await hub.get(f"/api/v1/vpp/resource-instances/{inst['id']}", headers=h)
        return bool(r.json()["status"] == "OFFLINE")

    await wait_until(offline)


async def test_malformed_payloads_are_counted_and_dropped(
    hub: AsyncTestClient[Litestar], edge: aiomqtt.Client, db: async_sessionmaker[AsyncSession]
) -> None:
    await edge.publish(TOPICS.data, b"{not json", qos=1)
    await edge.publish(TOPICS.data, encode(State(online=True, sid=1, ts_ms=1)), qos=1)
    wrong_edge = msgspec.structs.replace(batch(1, [("d", "p_w", 1.0)]), edge="park-z")
    await edge.publish(TOPICS.data, encode(wrong_edge), qos=1)
    await edge.publish("vpp/v1/acme/park-a/unknown", b"{}", qos=1)
    await edge.publish(TOPICS.data, encode(batch(7, [("d", "p_w", 1.0)], sid=9)), qos=1)
    assert (await next_of(edge, TOPICS.ack, Ack)).seq == 7  # the good one behind them
    metrics = (await hub.get("/metrics")).text
    assert 'hub_ingest_malformed_total{reason="payload"} 2.0' in metrics
    assert 'hub_ingest_malformed_total{reason="edge_mismatch"} 1.0' in metrics
    assert await count_rows(db) == 1


async def test_dispatch_reaches_the_edge_and_execution_status_follows(
    hub: AsyncTestClient[Litestar],
    hub_auth: AuthFor,
    edge: aiomqtt.Client,
) -> None:
    h = hub_auth("operator")
    inst = await make_battery(hub, h, edge="park-a", device="bess-1", kw=100, kwh=200)
    await edge.publish(TOPICS.state, encode(State(online=True, sid=1, ts_ms=_now_ms())), qos=1)
    await edge.publish(
        TOPICS.data,
        encode(batch(1, [("bess-1", "p_w", 0.0), ("bess-1", "soc_pct", 50.0)])),
        qos=1,
    )
    await next_of(edge, TOPICS.ack, Ack)
    vpp = await make_vpp(hub, h, [inst["id"]])
    agg = (await hub.get(f"/api/v1/vpp/vpps/{vpp['id']}/aggregated-params", headers=h)).json()
    assert agg["available_up_capacity"] == 100.0
    start = dt.datetime.now(dt.UTC)
    r = await hub.post(
        "/api/v1/vpp/trading/execute-dispatch",
        json={
            "vpp_id": vpp["id"],
            "dispatch_instructions": [
                {"target_power": 60.0, "start_time": start.isoformat(), "duration": 900},
                {
                    "target_power": 500.0,
                    "start_time": (start + dt.timedelta(seconds=900)).isoformat(),
                    "duration": 900,
                },
            ],
        },
        headers=hub_auth("trader"),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    first, second = body["instructions"]
    assert first["feasible_power"] == 60.0 and first["infeasible_power"] == 0.0
    assert second["feasible_power"] == 100.0 and second["infeasible_power"] == 400.0
    member = first["members"][0]
    assert member["device_id"] == "bess-1" and member["target_power"] == 60.0

    schedule = await next_of(edge, TOPICS.dispatch, DispatchSchedule)
    assert schedule.edge == "park-a" and len(schedule.intervals) == 2
    assert schedule.intervals[0].targets[0].p_target_w == 60_000.0
    assert schedule.intervals[0].targets[0].instruction_id == member["instruction_id"]

    status_url = f"/api/v1/vpp/trading/execution-status/{member['instruction_id']}"
    pending = (await hub.get(status_url, headers=h)).json()
    assert pending["status"] == "pending"
    report = DispatchStatus(
        edge="park-a",
        sid=1,
        seq=2,
        ts_ms=_now_ms(),
        schedule_id=schedule.id,
        version=schedule.version,
        status="executing",
        device="bess-1",
        instruction_id=member["instruction_id"],
        p_target_w=60_000.0,
        p_applied_w=60_000.0,
        p_actual_w=58_000.0,
        deviation_w=-2_000.0,
    )
    await edge.publish(TOPICS.dispatch_status, encode(report), qos=1)
    assert (await next_of(edge, TOPICS.ack, Ack)).seq == 2
    status = (await hub.get(status_url, headers=h)).json()
    assert status["status"] == "executing"
    assert status["actual_power"] == 58.0 and status["deviation"] == -2.0
    parent = (
        await hub.get(f"/api/v1/vpp/trading/execution-status/{first['instruction_id']}", headers=h)
    ).json()
    assert parent["actual_power"] == 58.0 and parent["target_power"] == 60.0
    missing = await hub.get("/api/v1/vpp/trading/execution-status/nope", headers=h)
    assert missing.status_code == 404
    viewer = await hub.post(
        "/api/v1/vpp/trading/execute-dispatch",
        json={"vpp_id": vpp["id"], "dispatch_instructions": []},
        headers=hub_auth("viewer"),
    )
    assert viewer.status_code == 403
    empty = await hub.post(
        "/api/v1/vpp/trading/execute-dispatch",
        json={"vpp_id": vpp["id"], "dispatch_instructions": []},
        headers=h,
    )
    assert empty.status_code == 400


async def test_the_api_serves_while_the_broker_is_down(
    hub: AsyncTestClient[Litestar], hub_auth: AuthFor, mosquitto: Mosquitto
) -> None:
    mosquitto.stop()

    async def disconnected() -> bool:
        return (await hub.get("/readyz")).json()["mqtt"] is False

    await wait_until(disconnected)
    r = await hub.get("/api/v1/vpp/vpps", headers=hub_auth("viewer"))
    assert r.status_code == 200
    mosquitto.start()

    async def reconnected() -> bool:
        return bool((await hub.get("/readyz")).json()["mqtt"])

    await wait_until(reconnected)


async def test_a_batch_that_cannot_be_stored_is_not_acknowledged(
    hub: AsyncTestClient[Litestar], edge: aiomqtt.Client, db: async_sessionmaker[AsyncSession]
) -> None:
    async with db() as session:
        await session.execute(text("ALTER TABLE telemetry RENAME TO telemetry_away"))
        await session.commit()
    try:
        await edge.publish(TOPICS.data, encode(batch(1, [("d", "p_w", 1.0)], sid=5)), qos=1)

        async def failed() -> bool:
            return "hub_ingest_store_errors_total 1.0" in (await hub.get("/metrics")).text

        await wait_until(failed)
    finally:
        async with db() as session:
            await session.execute(text("ALTER TABLE telemetry_away RENAME TO telemetry"))
            await session.commit()
    await edge.publish(TOPICS.data, encode(batch(2, [("d", "p_w", 2.0)], sid=5)), qos=1)
    await edge.publish(TOPICS.data, encode(batch(1, [("d", "p_w", 3.0)], sid=6)), qos=1)
    ack = await next_of(edge, TOPICS.ack, Ack)
    assert (ack.sid, ack.seq) == (6, 1)  # nothing for sid 5 while its seq 1 is missing
    await edge.publish(TOPICS.data, encode(batch(1, [("d", "p_w", 1.0)], sid=5)), qos=1)
    ack = await next_of(edge, TOPICS.ack, Ack)
    assert (ack.sid, ack.seq) == (5, 2)
    assert await count_rows(db) == 3


async def test_a_flood_is_stored_completely_with_broker_backpressure(
    hub: AsyncTestClient[Litestar], edge: aiomqtt.Client, db: async_sessionmaker[AsyncSession]
) -> None:
    count = 400
    for seq in range(1, count + 1):
        points = [("d", f"p{i}", float(i)) for i in range(10)]
        await edge.publish(TOPICS.data, encode(batch(seq, points, sid=2)), qos=1)
    async with asyncio.timeout(SAFETY_TIMEOUT * 4):
        while (await next_of(edge, TOPICS.ack, Ack)).seq < count:
            pass
    assert await count_rows(db) == count * 10
    assert (
        "hub_ingest_malformed_total"
        not in (await hub.get("/metrics"))
        .text.split("# TYPE hub_ingest_malformed_total counter")[1]
        .split("# HELP")[0]
    )


def _mqtt_settings(db_url: str, broker: Mosquitto) -> Settings:
    return Settings(
        db_url=db_url,
        mqtt_url=broker.url,
        jwt_secret=JWT_SECRET,
        rate_limit_per_minute=0,
        migrate_on_start=False,
        heartbeat_write_s=0.0,
        tenant="acme",
        # The singleton jobs read the clock on their own timers (FailingClock's fault
        # would go to whichever caller comes first).
        run_jobs=False,
    )


async def test_after_a_restart_live_data_does_not_ack_past_the_unstored_backlog(
    clean_db: str, mosquitto: Mosquitto, edge: aiomqtt.Client
) -> None:
    async with running_hub(create_app(_mqtt_settings(clean_db, mosquitto))):
        for seq in range(1, 6):
            await edge.publish(TOPICS.data, encode(batch(seq, [("d", "p_w", 1.0)])), qos=1)
        async with asyncio.timeout(SAFETY_TIMEOUT):
            while (await next_of(edge, TOPICS.ack, Ack)).seq < 5:
                pass
    # A new hub on the same database; 6..9 are still in the edge's outbox, 10 is live.
    async with running_hub(create_app(_mqtt_settings(clean_db, mosquitto))):
        await edge.publish(TOPICS.data, encode(batch(10, [("d", "p_w", 1.0)])), qos=1)
        assert (await next_of(edge, TOPICS.ack, Ack)).seq == 5
        for seq in range(6, 10):
            await edge.publish(
                TOPICS.data, encode(batch(seq, [("d", "p_w", 1.0)], hist=True)), qos=1
            )
            assert (await next_of(edge, TOPICS.ack, Ack)).seq == (seq if seq < 9 else 10)


class FailingClock(RealClock):
    """Real time that raises once from ``now_ms`` when told to (a fault in our own seam)."""

    fail_next = False

    def now_ms(self) -> int:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("injected fault")
        return super().now_ms()


async def test_an_unexpected_error_in_the_mqtt_tasks_does_not_stop_ingest(
    clean_db: str, mosquitto: Mosquitto, edge: aiomqtt.Client
) -> None:
    clock = FailingClock()
    # no singleton jobs: one reading the clock first would take the fault meant for ingest
    settings = msgspec.structs.replace(_mqtt_settings(clean_db, mosquitto), run_jobs=False)
    app = create_app(settings, clock=clock)
    async with running_hub(app) as hub:
        clock.fail_next = True  # the next ack of the writer fails
        await edge.publish(TOPICS.data, encode(batch(1, [("d", "p_w", 1.0)])), qos=1)

        async def counted() -> bool:
            metrics = (await hub.get("/metrics")).text
            return "hub_mqtt_task_failures_total 1.0" in metrics

        await wait_until(counted)

        async def reconnected() -> bool:
            return bool((await hub.get("/readyz")).json()["mqtt"])

        await wait_until(reconnected)  # the tasks restart (messages sent meanwhile are lost)
        await edge.publish(TOPICS.data, encode(batch(2, [("d", "p_w", 2.0)])), qos=1)
        async with asyncio.timeout(SAFETY_TIMEOUT):
            while (await next_of(edge, TOPICS.ack, Ack)).seq < 2:
                pass


async def test_one_edge_whose_schedule_cannot_be_published_does_not_stop_the_others(
    hub: AsyncTestClient[Litestar],
    hub_auth: AuthFor,
    edge: aiomqtt.Client,
    db: async_sessionmaker[AsyncSession],
) -> None:
    h = hub_auth("operator")
    await edge.publish(TOPICS.state, encode(State(online=True, sid=1, ts_ms=_now_ms())), qos=1)
    await edge.publish(TOPICS.data, encode(batch(1, [("bess-1", "p_w", 0.0)])), qos=1)
    assert (await next_of(edge, TOPICS.ack, Ack)).seq == 1  # park-a is known, in tenant acme
    good = await make_battery(hub, h, name="good", edge="park-a", device="bess-1")
    bad = await make_battery(hub, h, name="bad", edge="park-b", device="bess-1")
    async with db() as session:  # a row from before ids were checked strictly
        await session.execute(
            text("UPDATE vpp_resource_instances SET edge_id = :e WHERE id = :i"),
            {"e": "park-a\n", "i": bad["id"]},
        )
        await session.commit()
    for inst in (good, bad):
        await hub.put(
            f"/api/v1/vpp/resource-instances/{inst['id']}/status",
            json={"status": "ONLINE"},
            headers=h,
        )
    vpp = await make_vpp(hub, h, [good["id"], bad["id"]])
    r = await hub.post(
        "/api/v1/vpp/trading/execute-dispatch",
        json={
            "vpp_id": vpp["id"],
            "dispatch_instructions": [{"target_power": 50.0, "duration": 900}],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert sorted(r.json()["published_edges"]) == ["park-a", "park-a\n"]
    schedule = await next_of(edge, TOPICS.dispatch, DispatchSchedule)
    assert schedule.edge == "park-a"

    async def counted() -> bool:
        return "hub_schedule_failures_total 1.0" in (await hub.get("/metrics")).text

    await wait_until(counted)
    await edge.publish(TOPICS.data, encode(batch(2, [("bess-1", "p_w", 0.0)])), qos=1)
    assert (await next_of(edge, TOPICS.ack, Ack)).seq == 2
    assert (await hub.get("/readyz")).json()["mqtt"] is True


async def test_a_replayed_older_dispatch_status_does_not_overwrite_a_newer_one(
    hub: AsyncTestClient[Litestar], hub_auth: AuthFor, edge: aiomqtt.Client
) -> None:
    h = hub_auth("operator")
    inst = await make_battery(hub, h, edge="park-a", device="bess-1")
    await edge.publish(TOPICS.state, encode(State(online=True, sid=1, ts_ms=_now_ms())), qos=1)
    await edge.publish(TOPICS.data, encode(batch(1, [("bess-1", "p_w", 0.0)])), qos=1)
    await next_of(edge, TOPICS.ack, Ack)
    vpp = await make_vpp(hub, h, [inst["id"]])
    r = await hub.post(
        "/api/v1/vpp/trading/execute-dispatch",
        json={
            "vpp_id": vpp["id"],
            "dispatch_instructions": [{"target_power": 50.0, "duration": 900}],
        },
        headers=h,
    )
    member = r.json()["instructions"][0]["members"][0]["instruction_id"]
    schedule = await next_of(edge, TOPICS.dispatch, DispatchSchedule)
    now = _now_ms()

    def status(seq: int, state: str, ts_ms: int, hist: bool) -> bytes:
        return encode(
            DispatchStatus(
                edge="park-a", sid=1, seq=seq, ts_ms=ts_ms, hist=hist,
                schedule_id=schedule.id, version=schedule.version, status=state,  # type: ignore[arg-type]
                device="bess-1", instruction_id=member, p_actual_w=50_000.0,
            )
        )  # fmt: skip

    await edge.publish(TOPICS.dispatch_status, status(3, "executing", now, False), qos=1)
    assert (await next_of(edge, TOPICS.ack, Ack)).seq == 1  # seq 2 is still in the outbox
    await edge.publish(TOPICS.dispatch_status, status(2, "accepted", now - 5_000, True), qos=1)
    assert (await next_of(edge, TOPICS.ack, Ack)).seq == 3
    url = f"/api/v1/vpp/trading/execution-status/{member}"
    assert (await hub.get(url, headers=h)).json()["status"] == "executing"


async def test_a_retained_birth_does_not_mark_an_offline_edge_online(
    hub: AsyncTestClient[Litestar], hub_auth: AuthFor, edge: aiomqtt.Client
) -> None:
    await edge.publish(TOPICS.state, encode(State(online=False, sid=1, ts_ms=_now_ms())), qos=1)
    birth = Birth(edge="park-a", device="bess-1", sid=1, ts_ms=_now_ms(), device_kind="battery")
    await edge.publish(TOPICS.device_birth("bess-1"), encode(birth), qos=1, retain=True)
    await edge.publish(TOPICS.data, encode(batch(1, [("bess-1", "p_w", 0.0)], hist=True)), qos=1)
    await next_of(edge, TOPICS.ack, Ack)  # everything before it is handled
    edges = (await hub.get("/api/v1/edges", headers=hub_auth("viewer"))).json()
    assert [(e["id"], e["online"]) for e in edges] == [("park-a", False)]


async def test_the_edges_floor_starts_a_new_session_and_closes_gaps_it_reports(
    clean_db: str,
    mosquitto: Mosquitto,
    edge: aiomqtt.Client,
    db: async_sessionmaker[AsyncSession],
) -> None:
    def stated(seq: int, floor: int, *, hist: bool = False) -> bytes:
        tb = batch(seq, [("d", "p_w", float(seq))], sid=7, hist=hist)
        return encode(msgspec.structs.replace(tb, floor_seq=floor))

    async with running_hub(create_app(_mqtt_settings(clean_db, mosquitto))):
        # live 4 arrives first, but the edge still holds 1..3: no ack past them
        await edge.publish(TOPICS.data, stated(4, 1), qos=1)
        await edge.publish(TOPICS.data, stated(1, 1, hist=True), qos=1)
        assert (await next_of(edge, TOPICS.ack, Ack)).seq == 1
        # 2..3 were lost at the edge (storage error): its floor moves past them
        await edge.publish(TOPICS.data, stated(5, 4), qos=1)
        assert (await next_of(edge, TOPICS.ack, Ack)).seq == 5
    async with db() as session:
        gaps = (
            await session.execute(text("SELECT sid, first_seq, last_seq FROM ingest_gaps"))
        ).all()
    assert [tuple(g) for g in gaps] == [(7, 2, 3)]
