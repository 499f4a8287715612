"""``hub_edge_online`` and ``hub_edges`` come from the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from prometheus_client import generate_latest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub._metrics import Metrics
from hub.ops import FleetGauges
from hub.store import Edge


def edge(tenant: str, edge_id: str, *, online: bool) -> Edge:
    return Edge(
        id=edge_id, tenant=tenant, name="", mqtt_username=f"edge-{edge_id}",
        mqtt_password_hash="x", online=online, schedule_version=0,
    )  # fmt: skip


async def test_the_gauges_follow_the_edges_table(db: async_sessionmaker[AsyncSession]) -> None:
    metrics = Metrics()

    def value(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, labels)

    async with db() as session:
        session.add_all([edge("acme", "park-a", online=True), edge("acme", "park-b", online=False)])
        await session.commit()
    gauges = FleetGauges(db, metrics)
    assert await gauges.refresh() == (1, 2)
    assert value("hub_edge_online", tenant="acme", edge="park-a") == 1
    assert value("hub_edge_online", tenant="acme", edge="park-b") == 0
    assert value("hub_edges", state="offline") == 1
    assert b'hub_edge_online{edge="park-b",tenant="acme"} 0.0' in generate_latest(metrics.registry)

    async with db() as session:
        await session.execute(delete(Edge).where(Edge.id == "park-b"))
        await session.commit()
    assert await gauges.refresh() == (1, 1)
    assert value("hub_edge_online", tenant="acme", edge="park-b") is None, "series removed"
    assert value("hub_edges", state="offline") == 0
