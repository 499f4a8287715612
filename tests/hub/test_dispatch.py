"""execute-dispatch and execution-status without a broker (the schedule is only stored)."""

from __future__ import annotations

import datetime as dt

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.dispatch import build_schedule
from hub.store import DispatchInstruction
from protocol import DispatchSchedule

from .conftest import AuthFor
from .helpers import make_battery, make_vpp, set_status

DISPATCH = "/api/v1/vpp/trading/execute-dispatch"
STATUS = "/api/v1/vpp/trading/execution-status"


async def test_member_and_vpp_level_instructions(
    app: Litestar, client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    fast = await make_battery(client, h, name="fast", device="b1", kw=100)
    slow = await make_battery(client, h, name="slow", device="b2", kw=100)
    unbound = await make_battery(client, h, name="loose", edge=None, kw=100)
    outsider = await make_battery(client, h, name="outsider", device="b9", kw=100)
    for inst in (fast, slow, unbound):
        await set_status(client, h, inst["id"], "ONLINE")
    vpp = await make_vpp(client, h, [fast["id"], slow["id"], unbound["id"]])
    r = await client.put(
        f"/api/v1/vpp/vpps/{vpp['id']}/resources",
        json={"update_resources": [{"resource_id": slow["id"], "priority": 2}]},
        headers=h,
    )
    assert r.status_code == 200
    now = app.state.hub.clock.now_ms()
    app.state.hub.cache.put("default/park-a", "b1", "bms_max_discharge_w", 80_000.0, now)

    r = await client.post(
        DISPATCH,
        json={
            "vpp_id": vpp["id"],
            "dispatch_instructions": [
                {"target_power": 120.0, "duration": 600},
                {"resource_id": slow["id"], "target_power": -150.0, "duration": 60},
                {"resource_id": vpp["id"], "target_power": -50.0, "duration": 60},
            ],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    vpp_level, member, negative = r.json()["instructions"]
    shares = {m["resource_id"]: m["target_power"] for m in vpp_level["members"]}
    # priority 1 (fast, limited to 80 kW by its BMS) first, the rest from priority 2
    assert shares == {fast["id"]: 80.0, slow["id"]: 40.0}
    assert unbound["id"] not in shares  # no (edge, device): cannot be dispatched
    assert member["feasible_power"] == -100.0 and member["infeasible_power"] == -50.0
    assert negative["feasible_power"] == -50.0
    assert vpp_level["resource_id"] is None and member["resource_id"] == slow["id"]

    status = (await client.get(f"{STATUS}/{vpp_level['instruction_id']}", headers=h)).json()
    assert status["status"] == "pending" and status["actual_power"] is None
    assert status["target_power"] == 120.0
    # one source, the edges' execution reports: live telemetry is not mixed in
    app.state.hub.cache.put("default/park-a", "b1", "p_w", 79_000.0, now)
    app.state.hub.cache.put("default/park-a", "b2", "p_w", 41_000.0, now)
    status = (await client.get(f"{STATUS}/{vpp_level['instruction_id']}", headers=h)).json()
    assert status["actual_power"] is None and status["deviation"] is None
    assert status["delivered_energy"] is None and status["applied_power"] is None

    bad = [
        ({"resource_id": outsider["id"], "target_power": 1, "duration": 60}, 422),
        ({"resource_id": unbound["id"], "target_power": 1, "duration": 60}, 409),
        (
            {
                "target_power": 1,
                "duration": 60,
                "start_time": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat(),
            },
            422,
        ),
        ({"target_power": 1e9, "duration": 60}, 400),
        ({"target_power": 1, "duration": 0}, 400),
    ]
    for instruction, code in bad:
        r = await client.post(
            DISPATCH,
            json={"vpp_id": vpp["id"], "dispatch_instructions": [instruction]},
            headers=h,
        )
        assert r.status_code == code, (instruction, r.text)
    r = await client.post(
        DISPATCH,
        json={"vpp_id": "nope", "dispatch_instructions": [{"target_power": 1, "duration": 1}]},
        headers=h,
    )
    assert r.status_code == 404


async def test_start_time_is_bounded_to_a_year_around_now(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    inst = await make_battery(client, h, device="b1")
    await set_status(client, h, inst["id"], "ONLINE")
    vpp = await make_vpp(client, h, [inst["id"]])
    for start in ("9999-12-31T23:00:00Z", "3001-01-01T00:00:00Z", "2000-01-01T00:00:00Z"):
        r = await client.post(
            DISPATCH,
            json={
                "vpp_id": vpp["id"],
                "dispatch_instructions": [
                    {"target_power": 1, "duration": 7 * 86400, "start_time": start}
                ],
            },
            headers=h,
        )
        assert r.status_code == 422, (start, r.text)
        assert r.json()["errors"][0]["field"] == "dispatch_instructions[0].start_time"


async def test_a_schedule_longer_than_an_edge_accepts_is_refused(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    inst = await make_battery(client, h, device="b1")
    await set_status(client, h, inst["id"], "ONLINE")
    vpp = await make_vpp(client, h, [inst["id"]])
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)

    def instructions(first: int, count: int) -> list[dict[str, object]]:
        # one minute on, one minute off: one interval each
        return [
            {
                "resource_id": inst["id"],
                "target_power": 1,
                "duration": 60,
                "start_time": (start + dt.timedelta(minutes=2 * (first + i))).isoformat(),
            }
            for i in range(count)
        ]

    for batch in range(4):
        r = await client.post(
            DISPATCH,
            json={"vpp_id": vpp["id"], "dispatch_instructions": instructions(500 * batch, 500)},
            headers=h,
        )
        assert r.status_code == 201, r.text  # 2000 intervals: the most an edge accepts
    r = await client.post(
        DISPATCH,
        json={"vpp_id": vpp["id"], "dispatch_instructions": instructions(2000, 1)},
        headers=h,
    )
    assert r.status_code == 409, r.text
    assert "2001 intervals, more than the 2000" in r.json()["detail"]


async def test_a_dispatch_nobody_can_take_is_rejected_with_the_requested_power(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    inst = await make_battery(client, h, device="b1")  # OFFLINE: no headroom to give
    vpp = await make_vpp(client, h, [inst["id"]])
    r = await client.post(
        DISPATCH,
        json={"vpp_id": vpp["id"], "dispatch_instructions": [{"target_power": 40, "duration": 60}]},
        headers=h,
    )
    assert r.status_code == 201, r.text
    instruction = r.json()["instructions"][0]
    assert instruction["members"] == [] and instruction["infeasible_power"] == 40.0
    status = (await client.get(f"{STATUS}/{instruction['instruction_id']}", headers=h)).json()
    assert status["status"] == "rejected" and status["target_power"] == 40.0
    assert status["reason"]


async def test_live_power_counts_only_while_the_instruction_is_in_force(
    app: Litestar, client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    inst = await make_battery(client, h, device="b1")
    await set_status(client, h, inst["id"], "ONLINE")
    vpp = await make_vpp(client, h, [inst["id"]])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    r = await client.post(
        DISPATCH,
        json={
            "vpp_id": vpp["id"],
            "dispatch_instructions": [
                {"target_power": 40, "duration": 600, "start_time": later.isoformat()}
            ],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    instruction = r.json()["instructions"][0]["instruction_id"]
    app.state.hub.cache.put("default/park-a", "b1", "p_w", -30_000.0, app.state.hub.clock.now_ms())
    status = (await client.get(f"{STATUS}/{instruction}", headers=h)).json()
    assert status["status"] == "pending"
    assert status["actual_power"] is None and status["deviation"] is None


async def test_max_offline_s_is_stored_and_the_strictest_goes_into_the_schedule(
    app: Litestar,
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    db: async_sessionmaker[AsyncSession],
) -> None:
    h = auth("operator")
    inst = await make_battery(client, h, device="b1")
    await set_status(client, h, inst["id"], "ONLINE")
    vpp = await make_vpp(client, h, [inst["id"]])
    hub = app.state.hub

    async def schedule_now() -> DispatchSchedule:
        async with db() as session:
            built = await build_schedule(session, ("default", "park-a"), hub.clock.now_ms(), 3600.0)
            await session.rollback()
        assert built is not None
        return built

    def body(duration: int, max_offline_s: float | None = None) -> dict[str, object]:
        out: dict[str, object] = {
            "vpp_id": vpp["id"],
            "dispatch_instructions": [
                {"resource_id": inst["id"], "target_power": 10, "duration": duration}
            ],
        }
        if max_offline_s is not None:
            out["max_offline_s"] = max_offline_s
        return out

    # a plain dispatch (a market award, a day plan) runs through any outage
    r = await client.post(DISPATCH, json=body(3600), headers=h)
    assert r.status_code == 201, r.text
    assert (await schedule_now()).max_offline_s is None
    # regulation-like signals ask for a bound; the strictest of the schedule's wins
    for limit in (120.0, 45.0):
        r = await client.post(DISPATCH, json=body(60, limit), headers=h)
        assert r.status_code == 201, r.text
    async with db() as session:
        stored = sorted(
            v for v in await session.scalars(select(DispatchInstruction.max_offline_s))
             if v is not None
        )  # fmt: skip
    assert stored == [45.0, 45.0, 120.0, 120.0]  # the VPP-level row and its member's
    assert (await schedule_now()).max_offline_s == 45.0
    for bad in (0, -5, 1e12, "soon"):
        r = await client.post(DISPATCH, json=body(60, bad), headers=h)  # type: ignore[arg-type]
        assert r.status_code == 400, (bad, r.text)
        assert "max_offline_s" in r.text
