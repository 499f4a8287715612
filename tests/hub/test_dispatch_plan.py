"""The one dispatch seam: a DispatchPlan from any caller, targets of several VPPs adding up
on one device, 96-slot day plans, the transactional schedule outbox and versions that stay
monotonic with two hubs on one database. SQLite and PostgreSQL, real mosquitto where the
schedule has to reach an edge."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub._context import HubContext
from hub.app import create_app
from hub.auth import SYSTEM
from hub.dispatch import (
    MAX_INTERVALS,
    DispatchPlan,
    PendingTarget,
    PlanTarget,
    band_violations,
    build_intervals,
    build_schedule,
    drain_outbox,
    stage_schedules,
    submit_plan,
)
from hub.store import (
    AuditEntry,
    DispatchExecution,
    DispatchInstruction,
    DispatchOutbox,
    Edge,
    create_engine,
    sessionmaker,
)
from hub.store._versions import GENERATIONS
from lingtan.broker import Mosquitto
from protocol import DispatchSchedule, decode_as
from protocol.topics import EdgeTopics
from tests.support import SAFETY_TIMEOUT, refused_port

from .conftest import JWT_SECRET, AuthFor, add_role_users, auth_for, wait_until
from .helpers import hub_context, make_battery, make_vpp, set_status
from .test_execution_status import Edge as StatusEdge

DISPATCH = "/api/v1/vpp/trading/execute-dispatch"


@pytest.fixture
async def service(clean_db: str) -> AsyncIterator[HubContext]:
    """What a market connector, a strategy or the backtest holds: the hub's context, on
    the app's database (its own engine: the test client runs the app in its own loop)."""
    async with hub_context(clean_db) as ctx:
        yield ctx


async def online_battery(
    client: AsyncTestClient[Litestar], h: dict[str, str], **kw: Any
) -> dict[str, Any]:
    inst = await make_battery(client, h, **kw)
    await set_status(client, h, inst["id"], "ONLINE")
    return inst


async def outbox(db: async_sessionmaker[AsyncSession], edge: str) -> list[DispatchOutbox]:
    async with db() as session:
        rows = await session.scalars(
            select(DispatchOutbox).where(DispatchOutbox.edge_id == edge).order_by(DispatchOutbox.id)
        )
        return list(rows)


async def newest_schedule(db: async_sessionmaker[AsyncSession], edge: str) -> DispatchSchedule:
    rows = await outbox(db, edge)
    assert rows, f"no schedule staged for {edge}"
    return decode_as(rows[-1].payload, DispatchSchedule)


def slot_start() -> dt.datetime:
    now = dt.datetime.now(dt.UTC)
    return now.replace(second=0, microsecond=0) + dt.timedelta(minutes=5)


async def test_a_plan_from_a_non_rest_caller_gives_the_same_instructions_and_schedule(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    service: HubContext,
    db: async_sessionmaker[AsyncSession],
) -> None:
    h = auth("operator")
    rest_vpp = await make_vpp(client, h, [(await online_battery(client, h, edge="park-a"))["id"]])
    award_vpp = await make_vpp(client, h, [(await online_battery(client, h, edge="park-b"))["id"]])
    start = slot_start()
    targets = [(40.0, 0), (-70.0, 900), (250.0, 1800)]  # the last is more than 100 kW
    r = await client.post(
        DISPATCH,
        json={
            "vpp_id": rest_vpp["id"],
            "dispatch_instructions": [
                {
                    "target_power": kw,
                    "duration": 900,
                    "start_time": (start + dt.timedelta(seconds=s)).isoformat(),
                }
                for kw, s in targets
            ],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    by_rest = r.json()

    plan = DispatchPlan(
        vpp_id=award_vpp["id"],
        targets=[
            PlanTarget(target_kw=kw, duration_s=900, start=start + dt.timedelta(seconds=s))
            for kw, s in targets
        ],
        source="market_award",
        created_by="award:SPOT-2026-12-01",
    )
    outcome = await submit_plan(service, plan)  # no HTTP, no Principal

    assert outcome.changed_edges == [("default", "park-b")]
    assert by_rest["published_edges"] == ["park-a"]
    assert (
        [(t.target_kw, t.feasible_kw, t.infeasible_kw) for t in outcome.targets]
        == [
            (i["target_power"], i["feasible_power"], i["infeasible_power"])
            for i in by_rest["instructions"]
        ]
        == [(40.0, 40.0, 0.0), (-70.0, -70.0, 0.0), (250.0, 100.0, 150.0)]
    )
    assert [[m.target_kw for m in t.members] for t in outcome.targets] == [
        [m["target_power"] for m in i["members"]] for i in by_rest["instructions"]
    ]
    a, b = await newest_schedule(db, "park-a"), await newest_schedule(db, "park-b")

    def shape(s: DispatchSchedule) -> list[tuple[int, int, list[tuple[str, float]]]]:
        return [
            (i.start_ts_ms, i.end_ts_ms, [(t.device, t.p_target_w) for t in i.targets])
            for i in s.intervals
        ]

    assert shape(a) == shape(b) and len(a.intervals) == 3
    assert a.intervals[2].targets[0].p_target_w == 100_000.0
    member = outcome.targets[0].members[0].instruction_id
    assert b.intervals[0].targets[0].instruction_id == member
    async with db() as session:
        row = await session.get(DispatchInstruction, member)
        assert row is not None
        assert (row.source, row.created_by) == ("market_award", "award:SPOT-2026-12-01")
        actors = set(await session.scalars(select(AuditEntry.actor)))
    assert {"operator-user", "award:SPOT-2026-12-01"} <= actors


async def test_two_vpps_on_one_device_add_up_and_a_sum_outside_its_band_is_refused(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    db: async_sessionmaker[AsyncSession],
) -> None:
    h = auth("operator")
    battery = await online_battery(client, h, device="b1", kw=100.0)
    spot = await make_vpp(client, h, [battery["id"]])
    reserve = await make_vpp(client, h, [battery["id"]], market="ANCILLARY")

    def body(vpp: dict[str, Any], kw: float) -> dict[str, Any]:
        return {
            "vpp_id": vpp["id"],
            "dispatch_instructions": [{"target_power": kw, "duration": 900}],
        }

    assert (await client.post(DISPATCH, json=body(spot, 60.0), headers=h)).status_code == 201
    assert (await client.post(DISPATCH, json=body(reserve, 30.0), headers=h)).status_code == 201
    schedule = await newest_schedule(db, "park-a")
    assert [t.p_target_w for t in schedule.intervals[0].targets] == [90_000.0]  # 60 + 30

    async with db() as session:
        before = await session.scalar(select(func.count()).select_from(DispatchInstruction))
    refused = await client.post(DISPATCH, json=body(reserve, 60.0), headers=h)  # 60 + 60 > 100
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert "device b1" in problem["detail"] and "[-100.000, 100.000] kW" in problem["detail"]
    assert "120.000 kW" in problem["detail"] and spot["id"] in problem["detail"]
    async with db() as session:  # nothing half-stored
        after = await session.scalar(select(func.count()).select_from(DispatchInstruction))
    assert after == before
    assert len(await outbox(db, "park-a")) == 2
    # The reserve VPP replacing its own 30 kW (latest wins within one VPP) within the band:
    assert (await client.post(DISPATCH, json=body(reserve, -20.0), headers=h)).status_code == 201
    schedule = await newest_schedule(db, "park-a")
    assert [t.p_target_w for t in schedule.intervals[0].targets] == [40_000.0]  # 60 - 20


async def test_a_96_slot_day_plan_is_one_schedule_published_only_when_it_changed(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    service: HubContext,
    db: async_sessionmaker[AsyncSession],
) -> None:
    h = auth("operator")
    day_vpp = await make_vpp(client, h, [(await online_battery(client, h, edge="park-a"))["id"]])
    other = await make_vpp(client, h, [(await online_battery(client, h, edge="park-b"))["id"]])
    assert MAX_INTERVALS >= 96
    plan = DispatchPlan.day(
        day_vpp["id"], slot_start(), [float(i % 7 - 3) * 10 for i in range(96)], source="strategy"
    )
    outcome = await submit_plan(service, plan)
    assert outcome.changed_edges == [("default", "park-a")] and len(outcome.targets) == 96
    [staged] = await outbox(db, "park-a")
    schedule = decode_as(staged.payload, DispatchSchedule)
    assert len(schedule.intervals) == 96 and schedule.version == 1
    assert schedule.intervals[5].targets[0].p_target_w == 20_000.0

    # Another VPP's plan on another edge leaves park-a's schedule alone ...
    await submit_plan(service, DispatchPlan.day(other["id"], slot_start(), [5.0] * 4))
    assert len(await outbox(db, "park-a")) == 1 and len(await outbox(db, "park-b")) == 1
    # ... and restaging an unchanged schedule stages nothing.
    async with db() as session:
        now = service.clock.now_ms()
        edges = {("default", "park-a"), ("default", "park-b")}
        assert await stage_schedules(session, edges, now, 3600.0) == []
        await session.commit()
    assert len(await outbox(db, "park-a")) == 1


@pytest.mark.mosquitto
async def test_a_schedule_committed_while_the_broker_is_down_reaches_the_edge_from_the_next_hub(
    clean_db: str, mosquitto: Mosquitto, db: async_sessionmaker[AsyncSession]
) -> None:
    def hub_settings(mqtt_url: str) -> Settings:
        return Settings(
            db_url=clean_db,
            mqtt_url=mqtt_url,
            jwt_secret=JWT_SECRET,
            rate_limit_per_minute=0,
            migrate_on_start=False,
        )

    # A hub whose broker is unreachable: the plan commits, its schedule stays in the outbox.
    with refused_port() as dead:  # nothing may listen there while this hub runs
        down = create_app(hub_settings(f"mqtt://127.0.0.1:{dead}"))
        async with AsyncTestClient(app=down) as client:
            await add_role_users(clean_db)
            h = auth_for(down)("operator")
            vpp = await make_vpp(client, h, [(await online_battery(client, h))["id"]])
            r = await client.post(
                DISPATCH,
                json={
                    "vpp_id": vpp["id"],
                    "dispatch_instructions": [{"target_power": 42.0, "duration": 900}],
                },
                headers=h,
            )
            assert r.status_code == 201, r.text
            assert (await client.get("/readyz")).json()["mqtt"] is False
    [pending] = await outbox(db, "park-a")
    assert pending.published_at is None

    topics = EdgeTopics("default", "park-a")
    async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="plan-edge") as edge:
        await edge.subscribe(topics.dispatch, qos=1)
        # The next hub on the same database publishes it at start-up.
        async with AsyncTestClient(app=create_app(hub_settings(mosquitto.url))):
            async with asyncio.timeout(SAFETY_TIMEOUT):
                message = await anext(aiter(edge.messages))
            assert isinstance(message.payload, bytes)
            schedule = decode_as(message.payload, DispatchSchedule)
            assert schedule.version == pending.version == 1
            assert schedule.intervals[0].targets[0].p_target_w == 42_000.0

            async def marked() -> bool:  # after the publish returned, in its own commit
                return all(r.published_at is not None for r in await outbox(db, "park-a"))

            await wait_until(marked)
    [done] = await outbox(db, "park-a")
    assert done.error is None


async def test_re_dispatching_a_vpp_marks_what_wins_nowhere_and_keeps_the_schedule(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    service: HubContext,
    db: async_sessionmaker[AsyncSession],
) -> None:
    h = auth("operator")
    vpp = await make_vpp(client, h, [(await online_battery(client, h))["id"]])

    def plan(kw: float, duration_s: int, priority: int = 0) -> DispatchPlan:
        target = PlanTarget(target_kw=kw, duration_s=duration_s)
        return DispatchPlan(vpp_id=vpp["id"], targets=[target], priority=priority)

    award = await submit_plan(service, plan(50.0, 900, priority=10))  # outranks what follows
    long = await submit_plan(service, plan(-30.0, 3600))  # outlasts what follows
    for kw in (10.0, 20.0, 30.0):
        await submit_plan(service, plan(kw, 900))

    async def live() -> list[tuple[float, bool]]:
        async with db() as session:
            rows = await session.execute(
                select(DispatchInstruction.target_power, DispatchInstruction.superseded)
                .where(DispatchInstruction.parent_id.is_not(None))
                .order_by(DispatchInstruction.created_at, DispatchInstruction.id)
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]

    # 10 and 20 kW are covered by the newer 30 kW; the award and the longer one still win
    assert await live() == [(50.0, False), (-30.0, False), (10.0, True), (20.0, True),
                            (30.0, False)]  # fmt: skip
    schedule = await newest_schedule(db, "park-a")
    # The award's priority holds over its 900 s, the 30 kW over the milliseconds by which
    # it outlasts the award, then what is left of the longer one.
    held = [(i.targets[0].p_target_w, i.targets[0].instruction_id) for i in schedule.intervals]
    assert held[0] == (50_000.0, award.targets[0].members[0].instruction_id)
    assert held[-1] == (-30_000.0, long.targets[0].members[0].instruction_id)
    assert {w for w, _ in held[1:-1]} <= {30_000.0}
    # The schedule built without the superseded rows is the one built with all of them.
    now = service.clock.now_ms()
    async with service.sessions() as session:
        rows = await session.execute(
            select(DispatchInstruction)
            .where(DispatchInstruction.parent_id.is_not(None))
            .order_by(DispatchInstruction.created_at, DispatchInstruction.id)
        )
        every = [
            PendingTarget(
                instruction_id=r.id,
                device=r.device_id or "",
                p_target_w=r.target_power * 1e3,
                start_ts_ms=int(r.start_time.replace(tzinfo=dt.UTC).timestamp() * 1000),
                end_ts_ms=int(r.end_time.replace(tzinfo=dt.UTC).timestamp() * 1000),
                created_order=n,
                group=r.vpp_id,
                priority=r.priority,
            )
            for n, r in enumerate(rows.scalars())
        ]
        built = await build_schedule(session, ("default", "park-a"), now, 3600.0)
    assert built is not None and built.intervals == build_intervals(every, now)


async def test_a_plans_rows_and_what_they_invalidate_are_the_same_on_both_databases(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    service: HubContext,
    db: async_sessionmaker[AsyncSession],
) -> None:
    """On PostgreSQL a plan is written by two data-modifying ``WITH`` statements
    (hub.dispatch._pg); every column, version and digest comes out as the one-statement-
    a-table path writes it on SQLite, and only the tables written are invalidated."""
    h = auth("operator")
    batteries = [await online_battery(client, h, name=f"b{i}", device=f"b{i}") for i in range(2)]
    vpp = await make_vpp(client, h, [b["id"] for b in batteries])
    start = slot_start()
    plan = DispatchPlan(
        vpp_id=vpp["id"],
        targets=[
            PlanTarget(target_kw=80.0, duration_s=900, start=start),
            PlanTarget(target_kw=-40.0, duration_s=600, start=start + dt.timedelta(hours=1)),
        ],
        source="strategy",
        priority=7,
        created_by="strategy:peak",
        max_offline_s=120.0,
    )
    tables = ("dispatch_instructions", "dispatch_executions", "audit_log", "dispatch_outbox")
    before = GENERATIONS.now()
    first = await submit_plan(service, plan)
    written = GENERATIONS.of(tables, GENERATIONS.now())[1:]
    assert all(n > before.get(t, 0) for t, n in zip(tables, written, strict=True)), written
    unrelated = ("vpps", "users", "vpp_resource_instances", "*")
    assert GENERATIONS.of(unrelated, GENERATIONS.now()) == GENERATIONS.of(unrelated, before)

    async with db() as session:
        rows = {r.id: r for r in await session.scalars(select(DispatchInstruction))}
        executions = list(await session.scalars(select(DispatchExecution)))
        [entry] = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "execute_dispatch")
        )
        edge = await session.get(Edge, ("default", "park-a"))
    assert len(rows) == 6 and len(executions) == 4
    for target in first.targets:
        parent = rows[target.instruction_id]
        assert (parent.parent_id, parent.resource_id, parent.edge_id) == (None, None, None)
        assert (parent.target_power, parent.requested_power) == (
            target.feasible_kw,
            target.target_kw,
        )
        assert (parent.start_time, parent.end_time) == (target.start, target.end)
        for member in target.members:
            child = rows[member.instruction_id]
            assert child.parent_id == parent.id and child.created_at == parent.created_at
            assert (child.resource_id, child.edge_tenant, child.edge_id, child.device_id) == (
                member.resource_id,
                "default",
                "park-a",
                member.device_id,
            )
            assert child.target_power == child.requested_power
            assert round(child.target_power, 3) == member.target_kw
            assert (child.start_time, child.end_time) == (target.start, target.end)
    assert {
        (r.vpp_id, r.created_by, r.max_offline_s, r.source, r.priority, r.superseded)
        for r in rows.values()
    } == {(vpp["id"], "strategy:peak", 120.0, "strategy", 7, False)}
    assert {e.instruction_id for e in executions} == {
        m.instruction_id for t in first.targets for m in t.members
    }
    assert {(e.status, e.reason, e.schedule_version, e.p_actual_w) for e in executions} == {
        ("pending", "", None, None)
    }
    assert all(e.updated_at.tzinfo is not None for e in executions)
    assert (entry.actor, entry.role, entry.action, entry.entity, entry.entity_id) == (
        "strategy:peak",
        SYSTEM.role,
        "execute_dispatch",
        "vpp",
        vpp["id"],
    )
    assert entry.before is None
    assert entry.after == {
        "instructions": [t.instruction_id for t in first.targets],
        "source": "strategy",
        "priority": 7,
    }
    [staged] = await outbox(db, "park-a")
    schedule = decode_as(staged.payload, DispatchSchedule)
    assert edge is not None and edge.schedule_digest is not None
    assert staged.version == schedule.version == edge.schedule_version == 1
    assert staged.published_at is None and schedule.max_offline_s == 120.0
    assert len(schedule.intervals) == 2

    # The same plan again: the old members win nowhere (marked), the content is the same
    # but for the instruction ids, so a new version is staged.
    second = await submit_plan(service, plan)
    async with db() as session:
        marked = set(
            await session.scalars(
                select(DispatchInstruction.id).where(DispatchInstruction.superseded)
            )
        )
        edge = await session.get(Edge, ("default", "park-a"))
    assert marked == {m.instruction_id for t in first.targets for m in t.members}
    assert second.changed_edges == [("default", "park-a")]
    assert edge is not None and edge.schedule_version == 2
    assert [r.version for r in await outbox(db, "park-a")] == [1, 2]
    # Restaging what is stored changes nothing: the stored digest is the content's.
    async with db() as session:
        assert (
            await stage_schedules(session, {("default", "park-a")}, service.clock.now_ms(), 3600.0)
            == []
        )
        await session.commit()


class SlowBroker:
    """A publish that waits until released, recording the versions it was handed."""

    def __init__(self) -> None:
        self.versions: list[int] = []
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def publish(self, topic: str, payload: bytes) -> None:
        self.versions.append(decode_as(payload, DispatchSchedule).version)
        self.entered.set()
        await self.release.wait()


def one_target(vpp: dict[str, Any], kw: float) -> DispatchPlan:
    return DispatchPlan(vpp_id=vpp["id"], targets=[PlanTarget(target_kw=kw, duration_s=900)])


async def test_a_plan_commits_while_the_outbox_waits_for_the_brokers_ack(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    service: HubContext,
    db: async_sessionmaker[AsyncSession],
) -> None:
    h = auth("operator")
    vpp = await make_vpp(client, h, [(await online_battery(client, h))["id"]])
    await submit_plan(service, one_target(vpp, 10.0))
    broker = SlowBroker()
    async with asyncio.timeout(SAFETY_TIMEOUT), asyncio.TaskGroup() as group:
        drain = group.create_task(drain_outbox(service, broker.publish))
        await broker.entered.wait()
        # The drainer holds no lock of the edge's row while the broker acks: the next plan
        # of the same edge stages its schedule meanwhile.
        outcome = await submit_plan(service, one_target(vpp, 20.0))
        assert outcome.changed_edges == [("default", "park-a")]
        assert [r.published_at is None for r in await outbox(db, "park-a")] == [True, True]
        broker.release.set()
        assert await drain == 1
    first, second = await outbox(db, "park-a")  # marked only once the publish returned
    assert (first.version, first.published_at is not None) == (1, True)
    assert (second.version, second.published_at) == (2, None)
    assert await drain_outbox(service, broker.publish) == 1
    assert broker.versions == [1, 2]
    [last] = await outbox(db, "park-a")
    assert last.version == 2 and last.published_at is not None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_hubs_draining_one_edge_publish_its_versions_in_order(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    service: HubContext,
    clean_db: str,
) -> None:
    h = auth("operator")
    vpp = await make_vpp(client, h, [(await online_battery(client, h))["id"]])
    await submit_plan(service, one_target(vpp, 10.0))
    other_engine = create_engine(clean_db)
    other = dataclasses.replace(service, engine=other_engine, sessions=sessionmaker(other_engine))
    first, second = SlowBroker(), SlowBroker()
    try:
        async with asyncio.timeout(SAFETY_TIMEOUT), asyncio.TaskGroup() as group:
            a = group.create_task(drain_outbox(service, first.publish))
            await first.entered.wait()
            await submit_plan(service, one_target(vpp, 20.0))
            second.release.set()
            b = group.create_task(drain_outbox(other, second.publish))
            await asyncio.sleep(0.5)
            # The second hub waits on the edge's drain lock: version 2 cannot reach the
            # broker before version 1 was acknowledged.
            assert second.versions == []
            first.release.set()
            assert (await a, await b) == (1, 1)
    finally:
        await other_engine.dispose()
    assert (first.versions, second.versions) == ([1], [2])


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_versions_stay_monotonic_with_two_hubs_on_one_postgresql(
    clean_db: str, db: async_sessionmaker[AsyncSession]
) -> None:
    def one_hub() -> Litestar:
        return create_app(
            Settings(
                db_url=clean_db,
                mqtt_url=None,
                jwt_secret=JWT_SECRET,
                rate_limit_per_minute=0,
                migrate_on_start=False,
            )
        )

    first, second = one_hub(), one_hub()
    async with AsyncTestClient(app=first) as a, AsyncTestClient(app=second) as b:
        await add_role_users(clean_db)
        h = auth_for(first)("operator")
        batteries = [await online_battery(a, h, name=f"b{i}", device=f"b{i}") for i in range(2)]
        vpps = [await make_vpp(a, h, [bat["id"]]) for bat in batteries]

        async def dispatch(
            client: AsyncTestClient[Litestar], vpp: dict[str, Any], kw: float
        ) -> int:
            r = await client.post(
                DISPATCH,
                json={
                    "vpp_id": vpp["id"],
                    "dispatch_instructions": [{"target_power": kw, "duration": 900}],
                },
                headers=h,
            )
            return r.status_code

        codes = await asyncio.gather(
            *(dispatch(a if i % 2 else b, vpps[i % 2], float(i)) for i in range(12))
        )
    assert codes == [201] * 12
    rows = await outbox(db, "park-a")
    versions = [r.version for r in rows]
    assert versions == list(range(1, 13)), versions  # unique, in commit order, no gaps


def test_within_one_vpp_priority_then_recency_holds_and_vpps_add_up() -> None:
    def target(iid: str, order: int, w: float, group: str, priority: int = 0) -> PendingTarget:
        return PendingTarget(
            instruction_id=iid, device="b1", p_target_w=w, start_ts_ms=0, end_ts_ms=100,
            created_order=order, group=group, priority=priority,
        )  # fmt: skip

    award = target("award", 0, 50_000.0, "spot", priority=10)
    manual = target("manual", 1, -80_000.0, "spot")  # newer, but of lower priority
    reserve = target("reserve", 2, 20_000.0, "reserve")
    [interval] = build_intervals([award, manual, reserve], now_ms=0)
    [sum_] = interval.targets
    assert sum_.p_target_w == 70_000.0 and sum_.instruction_id == "reserve"
    without_award = build_intervals([manual, reserve], now_ms=0)
    assert without_award[0].targets[0].p_target_w == -60_000.0
    [v] = band_violations([award, reserve], {"b1": (-60_000.0, 60_000.0)}, now_ms=0)
    assert (v.p_target_w, v.groups) == (70_000.0, ["spot", "reserve"])
    assert band_violations([award, reserve], {"b1": (-100e3, 100e3)}, now_ms=0) == []


async def test_a_report_on_a_summed_target_counts_for_every_vpp_in_the_sum(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    service: HubContext,
) -> None:
    h = auth("operator")
    battery = await online_battery(client, h, device="b1", kw=100.0)
    spot = await make_vpp(client, h, [battery["id"]])
    reserve = await make_vpp(client, h, [battery["id"]], market="ANCILLARY")
    members = []
    for vpp, kw in ((spot, 60.0), (reserve, 30.0)):
        r = await client.post(
            DISPATCH,
            json={
                "vpp_id": vpp["id"],
                "dispatch_instructions": [{"target_power": kw, "duration": 900}],
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
        members.append(r.json()["instructions"][0]["members"][0]["instruction_id"])
    # The edge holds 90 kW and reports against the newest contributing instruction.
    edge = StatusEdge(service)  # through the hub's ingest (MqttBus.handle), no broker
    await edge.report(members[1], "b1", "executing", p_target_w=90_000.0, p_applied_w=90_000.0,
                      p_actual_w=87_000.0)  # fmt: skip
    statuses = [
        (await client.get(f"/api/v1/vpp/trading/execution-status/{m}", headers=h)).json()
        for m in members
    ]
    assert [s["status"] for s in statuses] == ["executing", "executing"]
    assert [s["actual_power"] for s in statuses] == [58.0, 29.0]  # 87 kW split 60:30
    assert [s["applied_power"] for s in statuses] == [60.0, 30.0]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_the_superseded_marks_are_planned_for_the_table_as_it_is_on_every_plan(
    client: AsyncTestClient[Litestar], auth: AuthFor, service: HubContext
) -> None:
    # PostgreSQL switches a prepared statement to one generic plan after five executions,
    # planned for the table as it was then; the marks' generic plan, made while
    # dispatch_instructions was small, scanned the whole table on every later plan.
    h = auth("operator")
    vpp = await make_vpp(client, h, [(await online_battery(client, h))["id"]])
    for kw in range(1, 10):  # each plan supersedes the one before
        await submit_plan(service, one_target(vpp, float(kw)))
    async with service.sessions() as session:
        plans = (
            await session.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE 'WITH marked AS%'"
                )
            )
        ).all()
        # and the setting ends with the plan's transaction
        assert await session.scalar(text("SELECT current_setting('plan_cache_mode')")) == "auto"
    assert plans, "the plans ran on another connection"
    assert sum(g for g, _ in plans) == 0
    assert sum(c for _, c in plans) >= 8


async def test_a_schedule_under_way_is_staged_again_only_when_its_content_changes(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    service: HubContext,
    db: async_sessionmaker[AsyncSession],
) -> None:
    """What schedule repair does every minute: while an instruction runs, the time line
    is cut from now on (the first interval starts now), which is no change for the edge;
    an instruction that ended is one."""
    h = auth("operator")
    vpp = await make_vpp(client, h, [(await online_battery(client, h, edge="park-a"))["id"]])
    start = slot_start()
    await submit_plan(
        service,
        DispatchPlan(
            vpp_id=vpp["id"],
            targets=[
                PlanTarget(target_kw=kw, duration_s=900, start=start + dt.timedelta(seconds=s))
                for kw, s in ((40.0, 0), (-30.0, 900))
            ],
            source="strategy",
            created_by="test",
        ),
    )
    start_ms = int(start.timestamp() * 1000)
    edge = {("default", "park-a")}
    staged: list[bool] = []
    for at_s in (0, 60, 120, 899, 960, 1020):  # the first ends at 900
        async with db() as session:
            staged.append(
                bool(await stage_schedules(session, edge, start_ms + at_s * 1000, 3600.0))
            )
            await session.commit()
    assert staged == [False, False, False, False, True, False]
    schedules = [decode_as(r.payload, DispatchSchedule) for r in await outbox(db, "park-a")]
    assert [len(s.intervals) for s in schedules] == [2, 1]
    assert schedules[1].intervals[0].targets[0].p_target_w == -30_000.0
