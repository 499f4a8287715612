"""execution-status reads one source, the edges' execution reports: ``failed`` with the
device's reason, the value the device accepted, and the energy delivered (kWh).

Reports go through the real ingest path (``MqttBus.handle``: decode, store) without a
broker; the API through Litestar's AsyncTestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub._context import HubContext
from hub.ingest import MqttBus
from hub.store import (
    DispatchInstruction,
    DispatchStatusEvent,
)
from protocol import DispatchState, DispatchStatus, encode
from protocol.clock import RealClock, ScaledClock
from protocol.topics import EdgeTopics

from .conftest import AuthFor
from .helpers import hub_context, make_battery, make_vpp, set_status

DISPATCH = "/api/v1/vpp/trading/execute-dispatch"
STATUS = "/api/v1/vpp/trading/execution-status"
A = EdgeTopics("default", "park-a")  # the hub's tenant: the instances are bound there


@pytest.fixture
async def ingest(clean_db: str) -> AsyncIterator[HubContext]:
    async with hub_context(clean_db) as ctx:
        yield ctx


class Edge:
    """Sends ``dispatch/status`` reports of one edge session through the hub's ingest
    (its own engine on the app's database: the test client runs the app in its own loop)."""

    def __init__(self, ctx: HubContext) -> None:
        self.bus = MqttBus(ctx)
        self.clock = ctx.clock
        self.seq = 0

    async def report(self, instruction: str, device: str, status: DispatchState,
                     **fields: Any) -> None:  # fmt: skip
        self.seq += 1
        msg = DispatchStatus(
            edge="park-a", sid=1, seq=self.seq, ts_ms=self.clock.now_ms() + self.seq,
            schedule_id="sched", version=1, status=status, device=device,
            instruction_id=instruction, **fields,
        )  # fmt: skip
        message = aiomqtt.Message(A.dispatch_status, encode(msg), 1, False, self.seq, None)
        await self.bus.handle(None, [message])


async def dispatched(
    client: AsyncTestClient[Litestar], auth: AuthFor, kw: list[float]
) -> tuple[str, list[dict[str, Any]]]:
    """A VPP of two batteries and one VPP-level instruction; its id and its members."""
    h = auth("operator")
    b1 = await make_battery(client, h, name="one", device="bess-1", kw=100)
    b2 = await make_battery(client, h, name="two", device="bess-2", kw=100)
    for inst in (b1, b2):
        await set_status(client, h, inst["id"], "ONLINE")
    vpp = await make_vpp(client, h, [b1["id"], b2["id"]])
    r = await client.post(
        DISPATCH,
        json={
            "vpp_id": vpp["id"],
            "dispatch_instructions": [{"target_power": sum(kw), "duration": 900}],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    instruction = r.json()["instructions"][0]
    return instruction["instruction_id"], instruction["members"]


async def status_of(client: AsyncTestClient[Litestar], auth: AuthFor, iid: str) -> dict[str, Any]:
    r = await client.get(f"{STATUS}/{iid}", headers=auth("viewer"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_a_refused_write_shows_failed_with_the_device_reason(
    app: Litestar,
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    ingest: HubContext,
    db: async_sessionmaker[AsyncSession],
) -> None:
    parent, members = await dispatched(client, auth, [100.0, 50.0])
    edge = Edge(ingest)
    first = members[0]
    await edge.report(first["instruction_id"], first["device_id"], "accepted")
    reason = "write refused: bess-1: write refused at 40155 (code 4)"
    await edge.report(first["instruction_id"], first["device_id"], "failed", reason=reason,
                      p_target_w=first["target_power"] * 1000, p_actual_w=0.0)  # fmt: skip
    member = await status_of(client, auth, first["instruction_id"])
    assert member["status"] == "failed" and member["reason"] == reason
    assert member["applied_power"] is None and member["delivered_energy"] is None
    assert member["actual_power"] == 0.0
    # the VPP-level instruction: the failed member speaks for the whole
    whole = await status_of(client, auth, parent)
    assert whole["status"] == "failed" and reason in whole["reason"]
    async with db() as session:
        events = list(await session.scalars(select(DispatchStatusEvent)))
    assert [e.status for e in events] == ["accepted", "failed"]


async def test_applied_power_is_what_the_device_accepted_and_done_carries_energy(
    app: Litestar,
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    ingest: HubContext,
    db: async_sessionmaker[AsyncSession],
) -> None:
    parent, members = await dispatched(client, auth, [100.0, 50.0])
    edge = Edge(ingest)
    started = ingest.clock.now_ms()
    for m, applied, actual in zip(members, (99_990.0, 49_990.0), (99_000.0, 50_500.0),
                                  strict=True):  # fmt: skip
        await edge.report(m["instruction_id"], m["device_id"], "clamped",
                          reason="device_max_discharge: requested 100000.0 W, applied 99990.0 W",
                          p_target_w=m["target_power"] * 1000, p_applied_w=applied,
                          p_actual_w=actual, deviation_w=actual - applied,
                          started_ts_ms=started, energy_wh=0.0)  # fmt: skip
    whole = await status_of(client, auth, parent)
    assert whole["status"] == "clamped"
    assert whole["applied_power"] == pytest.approx(149.98)
    assert whole["actual_power"] == pytest.approx(149.5)
    assert whole["deviation"] == pytest.approx(149.5 - whole["target_power"])
    assert whole["delivered_energy"] == 0.0
    assert dt.datetime.fromisoformat(whole["started_time"]).timestamp() * 1000 == started
    # the live cache is not a second source: a fresher telemetry value changes nothing
    now = app.state.hub.clock.now_ms()
    app.state.hub.cache.put("default/park-a", members[0]["device_id"], "p_w", 10.0, now + 60_000)
    assert (await status_of(client, auth, parent))["actual_power"] == pytest.approx(149.5)

    for m, wh in zip(members, (24_750.0, 12_600.0), strict=True):
        await edge.report(m["instruction_id"], m["device_id"], "done", reason="instruction ended",
                          p_applied_w=50_000.0, p_actual_w=50_000.0, energy_wh=wh,
                          started_ts_ms=started)  # fmt: skip
    whole = await status_of(client, auth, parent)
    assert whole["status"] == "done"
    assert whole["delivered_energy"] == pytest.approx(37.35)  # kWh
    member = await status_of(client, auth, members[0]["instruction_id"])
    assert member["delivered_energy"] == pytest.approx(24.75)
    async with db() as session:
        done = (
            await session.scalars(
                select(DispatchStatusEvent).where(DispatchStatusEvent.status == "done")
            )
        ).all()
    assert sorted(e.energy_wh or 0 for e in done) == [12_600.0, 24_750.0]
    assert all(e.started_ts_ms == started and e.p_applied_w == 50_000.0 for e in done)


async def test_the_status_is_two_statements_kept_until_a_report_and_expires_by_the_hub_clock(
    app: Litestar, client: AsyncTestClient[Litestar], auth: AuthFor, ingest: HubContext
) -> None:
    """A VPP-level instruction reads its row and its members' executions grouped (two
    statements however many members); the read is kept until a report is stored, and what
    depends on the hub clock (``expired``) follows the clock, not the kept read."""
    parent, members = await dispatched(client, auth, [100.0, 50.0])
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "dispatch_" in statement:
            statements.append(statement)

    engine = app.state.hub.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert (await status_of(client, auth, parent))["status"] == "pending"
        assert len(statements) == 2
        assert (await status_of(client, auth, parent))["status"] == "pending"
        assert len(statements) == 2  # kept: no dispatch table was written since
        edge = Edge(ingest)
        for m in members:
            await edge.report(m["instruction_id"], m["device_id"], "executing",
                              p_actual_w=1000.0)  # fmt: skip
        whole = await status_of(client, auth, parent)
        assert whole["status"] == "executing" and whole["actual_power"] == pytest.approx(2.0)
        assert len(statements) == 4  # the report made the kept read stale

        later = await client.post(  # a second instruction nobody reports on
            DISPATCH,
            json={"vpp_id": await vpp_of(ingest, parent),
                  "dispatch_instructions": [{"target_power": 10.0, "duration": 60}]},
            headers=auth("operator"),
        )  # fmt: skip
        assert later.status_code == 201, later.text
        silent = later.json()["instructions"][0]["instruction_id"]
        assert (await status_of(client, auth, silent))["status"] == "pending"
        read = len(statements)
        hub = app.state.hub
        hub.clock = ScaledClock(1.0, start=time.time() + 120)  # past the 60 s instruction
        try:
            past = await status_of(client, auth, silent)
        finally:
            hub.clock = RealClock()
        assert past["status"] == "expired"
        assert len(statements) == read  # from the kept read
        assert dt.datetime.fromisoformat(past["timestamp"]).timestamp() > time.time() + 100
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def vpp_of(ctx: HubContext, instruction_id: str) -> str:
    async with ctx.sessions() as session:
        row = await session.get(DispatchInstruction, instruction_id)
        assert row is not None
        return row.vpp_id
