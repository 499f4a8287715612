"""Ingest storage through ``MqttBus.handle`` (decode, store, ack) without a broker:
poison messages, and what one message the database refuses does to the others."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiomqtt
import pytest
from sqlalchemy import func, select, text

from hub import Settings
from hub._context import HubContext
from hub._metrics import Metrics
from hub.auth import TokenService
from hub.ingest import MqttBus
from hub.store import LiveCache, Telemetry, create_engine, sessionmaker
from protocol import DispatchStatus, Point, TelemetryBatch, encode
from protocol.clock import RealClock
from protocol.topics import EdgeTopics

A = EdgeTopics("acme", "park-a")
B = EdgeTopics("acme", "park-b")


@pytest.fixture
async def ctx(clean_db: str) -> AsyncIterator[HubContext]:
    engine = create_engine(clean_db)
    try:
        yield HubContext(
            settings=Settings(db_url=clean_db, mqtt_url=None),
            clock=RealClock(),
            engine=engine,
            sessions=sessionmaker(engine),
            cache=LiveCache(),
            tokens=TokenService("s" * 40, 60),
            metrics=Metrics(),
        )
    finally:
        await engine.dispose()


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
