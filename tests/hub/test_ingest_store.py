"""Ingest storage through ``MqttBus.handle`` (decode, store, ack) without a broker:
poison messages, and what one message the database refuses does to the others."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator

import aiomqtt
import pytest
from sqlalchemy import func, select, text

from hub._context import HubContext
from hub._metrics import Metrics
from hub.ingest import MqttBus
from hub.store import (
    GENERATIONS,
    Device,
    Edge,
    LiveCache,
    ResourceInstance,
    ResourceTemplate,
    Telemetry,
    create_engine,
    new_id,
    sessionmaker,
)
from hub.store._versions import counting
from protocol import Birth, DispatchStatus, MetricDef, Point, TelemetryBatch, encode
from protocol.clock import ManualClock
from protocol.topics import EdgeTopics
from tests.hub.helpers import hub_context

A = EdgeTopics("acme", "park-a")
B = EdgeTopics("acme", "park-b")


@pytest.fixture
async def ctx(clean_db: str) -> AsyncIterator[HubContext]:
    async with hub_context(clean_db) as ctx:
        yield ctx


@pytest.fixture
def bus(ctx: HubContext) -> MqttBus:
    """A bus that is never entered: ``handle`` stores and returns the acks."""
    return MqttBus(ctx)


def metric(ctx: HubContext, name: str, **labels: str) -> float | None:
    return ctx.metrics.registry.get_sample_value(name, labels)


def data(topics: EdgeTopics, seq: int, device: str = "d", mid: int = 1) -> aiomqtt.Message:
    tb = TelemetryBatch(
        edge=topics.edge,
        sid=1,
        seq=seq,
        ts_ms=1_000 + seq,
        points=[Point(device=device, name="p_w", value=1.0, ts_ms=1_000 + seq)],
    )
    return aiomqtt.Message(topics.data, encode(tb), qos=1, retain=False, mid=mid, properties=None)


async def rows(ctx: HubContext) -> int:
    async with ctx.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Telemetry)) or 0)


async def test_control_characters_are_dropped_as_malformed_without_blocking_acks(
    ctx: HubContext, bus: MqttBus
) -> None:
    status = DispatchStatus(
        edge="park-a", sid=1, seq=4, ts_ms=1, schedule_id="s", version=1, status="done",
        reason="bad\u0000reason",
    )  # fmt: skip
    acks = await bus.handle(
        None,
        [
            data(A, 1),
            data(A, 2, device="d\u0000"),
            data(A, 3),
            aiomqtt.Message(A.dispatch_status, encode(status), 1, False, 4, None),
        ],
    )
    assert acks == {("acme", "park-a", 1): 4}
    assert await rows(ctx) == 2
    assert metric(ctx, "hub_ingest_malformed_total", reason="control_chars") == 2.0


@pytest.fixture
async def poison_device(ctx: HubContext) -> AsyncIterator[str]:
    """The database refuses telemetry of device ``poison`` (a trigger: our own schema)."""
    async with ctx.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            await conn.execute(
                text(
                    "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "IF NEW.device_id = 'poison' THEN RAISE EXCEPTION 'poison'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON telemetry "
                    "FOR EACH ROW EXECUTE FUNCTION poison()"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON telemetry "
                    "WHEN NEW.device_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poison'); END"
                )
            )
    try:
        yield "poison"
    finally:
        async with ctx.engine.begin() as conn:
            if postgres:
                await conn.execute(text("DROP TRIGGER poison ON telemetry"))
                await conn.execute(text("DROP FUNCTION poison()"))
            else:
                await conn.execute(text("DROP TRIGGER poison"))


async def test_a_message_the_database_refuses_does_not_fail_the_rest_of_its_batch(
    ctx: HubContext, bus: MqttBus, poison_device: str
) -> None:
    acks = await bus.handle(
        None, [data(A, 1), data(B, 1, device=poison_device), data(A, 2), data(B, 2)]
    )
    assert acks == {("acme", "park-a", 1): 2}  # park-b waits for its seq 1
    assert await rows(ctx) == 3
    assert metric(ctx, "hub_ingest_store_errors_total") == 1.0


def floored(topics: EdgeTopics, seq: int, floor: int = 1) -> aiomqtt.Message:
    tb = TelemetryBatch(
        edge=topics.edge,
        sid=7,
        seq=seq,
        ts_ms=1_000 + seq,
        floor_seq=floor,
        points=[Point(device="d", name="p_w", value=float(seq), ts_ms=1_000 + seq)],
    )
    return aiomqtt.Message(topics.data, encode(tb), qos=1, retain=False, mid=seq, properties=None)


async def test_two_replicas_splitting_one_edges_seqs_ack_everything_and_never_past_a_gap(
    ctx: HubContext, clean_db: str
) -> None:
    """``$share`` hands one edge's seqs to two replicas (two engines, two buses, stores
    running concurrently): the acks end at the last seq; a seq neither has stored holds
    both replicas' acks below it until it arrives."""
    engine = create_engine(clean_db)
    other = HubContext(
        settings=ctx.settings,
        clock=ctx.clock,
        engine=engine,
        sessions=sessionmaker(engine),
        cache=LiveCache(),
        tokens=ctx.tokens,
        metrics=Metrics(),
    )
    try:
        one, two = MqttBus(ctx), MqttBus(other)
        acks: list[int] = []

        async def feed(bus: MqttBus, seqs: list[int]) -> None:
            for seq in seqs:
                acked = await bus.handle(None, [floored(A, seq)])
                acks.extend(acked.values())

        await asyncio.gather(
            feed(one, [s for s in range(1, 41) if s % 2 and s != 21]),
            feed(two, [s for s in range(1, 41) if not s % 2]),
        )
        assert max(acks) == 20  # 21 is missing: nobody acks past it
        assert (await two.handle(None, [floored(A, 21)])) == {("acme", "park-a", 7): 40}
        # redelivered to the other replica: a duplicate, acked again, stored once
        assert (await one.handle(None, [floored(A, 8)])) == {("acme", "park-a", 7): 40}
        assert await rows(ctx) == 40
        async with ctx.sessions() as session:
            ahead = await session.scalar(text("SELECT count(*) FROM ingest_ahead"))
        assert ahead == 0  # the cursor passed them all
        assert metric(ctx, "hub_ingest_duplicates_total") == 1.0
    finally:
        await engine.dispose()


async def test_a_new_sessions_floor_closes_what_neither_replica_will_get(ctx: HubContext) -> None:
    bus = MqttBus(ctx)
    assert await bus.handle(None, [floored(A, 3)]) == {}  # 1 and 2 may still come
    assert await bus.handle(None, [floored(A, 4, floor=3)]) == {("acme", "park-a", 7): 4}
    async with ctx.sessions() as session:
        gaps = (await session.execute(text("SELECT first_seq, last_seq FROM ingest_gaps"))).all()
    assert [tuple(g) for g in gaps] == [(1, 2)]


async def bind_instances(ctx: HubContext, edge: str, devices: list[str]) -> None:
    async with ctx.sessions() as session:
        template = ResourceTemplate(id=new_id(), name="t", type="battery_storage")
        session.add(template)
        await session.flush()
        session.add_all(
            ResourceInstance(
                id=new_id(),
                template_id=template.id,
                name=device,
                edge_tenant="acme",
                edge_id=edge,
                device_id=device,
                status="OFFLINE",
            )
            for device in devices
        )
        await session.commit()


def fleet(topics: EdgeTopics, devices: list[str], seq: int, ts_ms: int) -> aiomqtt.Message:
    """One telemetry batch with a point of every device."""
    tb = TelemetryBatch(
        edge=topics.edge,
        sid=1,
        seq=seq,
        ts_ms=ts_ms,
        floor_seq=1,
        points=[Point(device=d, name="p_w", value=1.0, ts_ms=ts_ms) for d in devices],
    )
    return aiomqtt.Message(topics.data, encode(tb), qos=1, retain=False, mid=1, properties=None)


async def test_heartbeats_of_a_batch_take_as_many_statements_for_1000_devices_as_for_10(
    ctx: HubContext, bus: MqttBus
) -> None:
    """Set-based: the heartbeats and status changes of a batch are a fixed number of
    statements, whatever its number of devices; another replica seeing the same devices
    a moment later writes nothing (its heartbeats are within ``heartbeat_write_s / 2`` of
    the stored ones) and so invalidates no reader of the instances."""
    counts: dict[int, int] = {}
    for n in (10, 1_000):
        topics = EdgeTopics("acme", f"park-{n}")
        devices = [f"d{i:04}" for i in range(n)]
        await bind_instances(ctx, topics.edge, devices)
        with counting() as stats:
            await bus.handle(None, [fleet(topics, devices, seq=1, ts_ms=1_000_000)])
        counts[n] = stats.count
        async with ctx.sessions() as session:
            statuses = (
                await session.execute(
                    select(ResourceInstance.status, func.count())
                    .where(ResourceInstance.edge_id == topics.edge)
                    .group_by(ResourceInstance.status)
                )
            ).all()
            beats = await session.scalar(
                select(func.count()).where(
                    ResourceInstance.edge_id == topics.edge,
                    ResourceInstance.last_heartbeat == dt.datetime.fromtimestamp(1_000, dt.UTC),
                )
            )
        assert [tuple(s) for s in statuses] == [("ONLINE", n)]
        assert beats == n
    assert counts[1_000] == counts[10], counts

    # a second replica: its throttle and its cache know nothing of these devices yet
    other = MqttBus(dataclasses.replace(ctx, cache=LiveCache()))
    before = GENERATIONS.of(("vpp_resource_instances",))
    devices = [f"d{i:04}" for i in range(1_000)]
    await other.handle(
        None, [fleet(EdgeTopics("acme", "park-1000"), devices, seq=2, ts_ms=1_001_000)]
    )
    assert GENERATIONS.of(("vpp_resource_instances",)) == before


def births(topics: EdgeTopics, devices: list[str], ts_ms: int) -> list[aiomqtt.Message]:
    """The retained births an edge's devices leave for a hub that (re)starts."""
    return [
        aiomqtt.Message(
            topics.device_birth(d),
            encode(
                Birth(
                    edge=topics.edge,
                    device=d,
                    sid=1,
                    ts_ms=ts_ms,
                    device_kind="battery",
                    protocol="modbus",
                    metrics=[MetricDef(name="p_w", unit="W", writable=True)],
                )
            ),
            qos=1,
            retain=True,
            mid=i + 1,
            properties=None,
        )
        for i, d in enumerate(devices)
    ]


async def test_births_of_a_batch_take_as_many_statements_for_1000_devices_as_for_10(
    clean_db: str, manual_clock: ManualClock
) -> None:
    """A (re)starting hub receives every device's retained birth at once: first sight
    (insert) and again (update) are each a fixed number of statements per batch.

    On the hub's manual clock, an hour on before each batch and none during it: a
    statement made because time passed (a refresh, a throttle) is made for 10 devices as
    for 1000, however long the machine takes over either batch (a 1000-device batch that
    took over 5 s once re-read its edge's tenants, a statement more)."""
    counts: dict[tuple[int, int], int] = {}
    async with hub_context(clean_db, manual_clock) as ctx:
        bus = MqttBus(ctx)
        for n in (10, 1_000):
            topics = EdgeTopics("acme", f"park-{n}")
            devices = [f"d{i:04}" for i in range(n)]
            for round_, ts_ms in enumerate((1_000_000, 2_000_000)):
                manual_clock.advance(3600.0)
                with counting() as stats:
                    await bus.handle(None, births(topics, devices, ts_ms))
                counts[(n, round_)] = stats.count
                async with ctx.sessions() as session:
                    stored = await session.scalar(
                        select(func.count()).where(
                            Device.edge_id == topics.edge,
                            Device.last_seen == dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC),
                            Device.protocol == "modbus",
                        )
                    )
                    edge = await session.get(Edge, ("acme", topics.edge))
                assert stored == n
                assert edge is not None
                assert edge.last_seen == dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC)
    assert counts[(1_000, 0)] == counts[(10, 0)], counts
    assert counts[(1_000, 1)] == counts[(10, 1)], counts
