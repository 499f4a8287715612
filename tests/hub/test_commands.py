"""The command relay: ``POST .../commands`` through a real mosquitto to a real agent on the
simulated park (an EV charger), and the agent's reply back to the replica that waits.

Hub, agent and simulator share one manual clock: commands expire on it, the agent's
control cycles run on it. The HTTP wait (``timeout_s``) is real time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from edge_agent import Agent
from firmware_sims import EVCharger, SimSite, load_preset
from hub import Settings, serve
from hub.auth import Principal, Role, TokenService
from lingtan.broker import Mosquitto
from protocol import Command, Reply, State, decode_as, encode
from protocol.clock import ManualClock
from protocol.topics import EdgeTopics
from tests.edge_agent.conftest import Harness, advance_until, make_config, until
from tests.edge_agent.test_agent import T
from tests.edge_agent.test_chargers import _devices
from tests.edge_agent.test_sims import online, schedule
from tests.support import SAFETY_TIMEOUT

from .conftest import JWT_SECRET, AuthFor, add_role_users, wait_until
from .helpers import make_battery

Client = AsyncTestClient[Litestar]
Http = httpx.AsyncClient
TOKENS = TokenService(JWT_SECRET, 3600)


def _settings(db_url: str, mosquitto: Mosquitto, client_id: str = "hub-a") -> Settings:
    return Settings(
        db_url=db_url,
        mqtt_url=mosquitto.url,
        mqtt_client_id=client_id,
        mqtt_persistent_session=False,
        jwt_secret=JWT_SECRET,
        rate_limit_per_minute=0,
        migrate_on_start=False,
        run_jobs=False,
        heartbeat_write_s=0.0,
    )


def headers(role: Role) -> dict[str, str]:
    token = TOKENS.issue(Principal(user_id=f"{role}-id", username=f"{role}-user", role=role))
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def running(settings: Settings, clock: ManualClock) -> AsyncIterator[Http]:
    """The hub served by uvicorn in this event loop (the agent's too): its lifespan and its
    requests share one loop, as under ``vpp hub run``."""
    async with serve(settings, clock=clock) as url, Http(base_url=url, timeout=30) as http:

        async def connected() -> bool:
            ready = (await http.get("/readyz")).json()
            return bool(ready["mqtt"] and ready["commands"])

        await wait_until(connected)
        yield http


@pytest.fixture
async def hub(
    clean_db: str, mosquitto: Mosquitto, manual_clock: ManualClock
) -> AsyncIterator[Http]:
    await add_role_users(clean_db)
    async with running(_settings(clean_db, mosquitto), manual_clock) as http:
        yield http


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()


async def _edge_known(hub: Http, headers: dict[str, str], edge: str = "site-1") -> None:
    async def known() -> bool:
        edges = (await hub.get("/api/v1/edges", headers=headers)).json()
        return any(e["id"] == edge for e in edges)

    await wait_until(known)


async def _charger_instance(hub: Http, headers: dict[str, str]) -> str:
    r = await hub.get("/api/v1/vpp/resource-templates", params={"size": 100}, headers=headers)
    ids = {t["type"]: t["id"] for t in r.json()["items"]}
    r = await hub.post(
        "/api/v1/vpp/resource-instances",
        json={"template_id": ids["ev_charger"], "name": "evse-1", "capacity": 22.0,
              "parameters": {"rated_kw": 22.0}, "edge_id": "site-1", "device_id": "evse-1"},
        headers=headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _dropped(hub: Http, reason: str) -> float:
    """``hub_command_replies_dropped_total{reason}`` from the hub's ``/metrics``."""
    text = (await hub.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "hub_command_replies_dropped_total" and (
                sample.labels.get("reason") == reason
            ):
                return float(sample.value)
    return 0.0


async def _audit(hub: Http, headers: dict[str, str], cid: str) -> dict[str, Any]:
    r = await hub.get("/api/v1/audit-log", params={"entity": "command", "entity_id": cid},
                      headers=headers)  # fmt: skip
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 1, items
    entry: dict[str, Any] = items[0]
    return entry


@pytest.mark.mosquitto
async def test_an_ev_session_sent_through_the_api_lifts_the_chargers_pause(
    tmp_path: Path, mosquitto: Mosquitto, manual_clock: ManualClock,
    hub: Http,
) -> None:  # fmt: skip
    """The VPP has paused the charger (a cap below its minimum current); an operator sends
    a session (5 kWh in 10 minutes, the car takes 11 kW at most) to the charger's resource
    instance: the agent's reply comes back in the response, the session's floor lifts the
    pause to the car's 11 kW at once, and ``read`` through the same route shows the
    current limit the charger's register holds. Every command is in the audit log with its
    outcome."""
    op = headers("operator")
    site = SimSite(load_preset("park-s"), clock=manual_clock)
    charger = site.device("evse-1")
    assert isinstance(charger, EVCharger)
    day = next(d for d in range(30) if charger.session_for_day(d) is not None)
    car = charger.session_for_day(day)
    assert car is not None
    site.step(car.arrival + 60.0)  # a car is plugged in and wants energy
    async with site:
        port = site.endpoint("evse-1").port
        config = make_config(tmp_path, mqtt_port=mosquitto.port, devices=_devices(site, port))
        async with Agent(config, clock=manual_clock) as agent:
            await online(agent, "bess-1", "meter-1", "evse-1")
            await until(lambda: agent.link is not None and agent.link.connected, "agent link")
            await _edge_known(hub, op)
            instance = await _charger_instance(hub, op)
            url = f"/api/v1/vpp/resource-instances/{instance}/commands"
            h = Harness(agent, manual_clock)
            agent.on_message(T.dispatch, encode(schedule(manual_clock, {"evse-1": -3_000.0})))
            await h.cycles(3)
            assert charger.limit_a == 0.0 and charger.connected

            ping = await hub.post(url, json={"action": "ping"}, headers=op)
            assert ping.status_code == 200, ping.text
            assert ping.json()["ok"] and ping.json()["result"] == {"status": "online"}

            departure = manual_clock.now_ms() + 600_000
            body = {
                "action": "ev_session",
                "args": {
                    "energy_kwh": 5.0,
                    "departure_time": _iso(departure),
                    "max_power_kw": 11.0,
                },
            }
            r = await hub.post(url, json=body, headers=op)  # fmt: skip
            assert r.status_code == 200, r.text
            reply = r.json()
            assert reply["ok"] and reply["code"] == "ok" and reply["device_id"] == "evse-1"
            assert reply["result"] == {
                "energy_wh": 5000.0,
                "departure_ts_ms": departure,
                "max_power_w": 11_000.0,
            }
            session = agent.sessions["evse-1"]
            assert (session.cid, session.max_w) == (reply["cid"], 11_000.0)

            await h.cycles(2)
            # 10 min at 90 % of 11 kW is 1.65 kWh short of 5 kWh: the floor is the car's
            # 11 kW now, 15.9 A on three phases (not the charger's 32 A)
            assert charger.limit_a == pytest.approx(15.9, abs=0.1)
            evse = agent.health()["device_status"]["evse-1"]  # type: ignore[index]
            assert evse["source"] == "ev_session" and evse["requested_w"] == -3_000.0
            assert evse["session"]["max_power_w"] == 11_000.0

            def polled() -> bool:  # the agent has read the new limit back
                reading = agent.runners["evse-1"].reading
                return reading is not None and reading.values.get("current_limit_a") == 15.9

            assert await advance_until(h, polled, 30)
            read = await hub.post(url, json={"action": "read"}, headers=op)
            assert read.status_code == 200, read.text
            assert read.json()["result"]["current_limit_a"] == 15.9  # what the charger holds

            end = await hub.post(url, json={"action": "ev_session_end"}, headers=op)
            assert end.status_code == 200, end.text
            assert end.json()["result"]["delivered_wh"] >= 0  # the simulated car is full
            assert "evse-1" not in agent.sessions
            again = await hub.post(url, json={"action": "ev_session_end"}, headers=op)
            assert again.status_code == 422, again.text  # the agent refused: no session
            problem = again.json()
            assert problem["code"] == "rejected" and "no EV session" in problem["message"]

    admin = headers("admin")
    entry = await _audit(hub, admin, reply["cid"])
    assert entry["actor"] == "operator-user" and entry["action"] == "command.ev_session"
    after = entry["after"]
    assert after["outcome"] == "replied" and after["ok"] and after["code"] == "ok"
    assert (after["edge_id"], after["device_id"], after["instance_id"]) == (
        "site-1", "evse-1", instance)  # fmt: skip
    assert after["args"]["energy_kwh"] == 5.0 and after["result"]["energy_wh"] == 5000.0
    refused = await _audit(hub, admin, problem["cid"])
    assert refused["after"]["outcome"] == "replied" and refused["after"]["code"] == "rejected"


@pytest.mark.mosquitto
async def test_no_reply_in_time_is_504_and_the_late_agent_does_not_execute_it(
    tmp_path: Path, mosquitto: Mosquitto, manual_clock: ManualClock,
    hub: Http,
) -> None:  # fmt: skip
    """The agent is down when a session is sent: 504 once ``timeout_s`` has passed. When it
    comes back its persistent session hands it the command, which has expired: it refuses
    it (no session), and its reply, late, is dropped and counted at the hub."""
    op = headers("operator")
    async with SimSite(load_preset("park-s"), clock=manual_clock) as site:
        port = site.endpoint("evse-1").port
        config = make_config(tmp_path, mqtt_port=mosquitto.port, devices=_devices(site, port))
        async with Agent(config, clock=manual_clock) as agent:  # its broker session
            await until(lambda: agent.link is not None and agent.link.connected, "agent link")
            await _edge_known(hub, op)
        departure = manual_clock.now_ms() + 3_600_000
        body = {"action": "ev_session", "timeout_s": 0.5,
                "args": {"energy_kwh": 5.0, "departure_time": _iso(departure)}}  # fmt: skip
        r = await hub.post("/api/v1/edges/site-1/devices/evse-1/commands", json=body, headers=op)
        assert r.status_code == 504, r.text
        problem = r.json()
        assert problem["title"] == "Gateway timeout" and "expired" in problem["detail"]
        cid = problem["cid"]
        assert dt.datetime.fromisoformat(problem["expires_at"]) < dt.datetime.fromisoformat(
            _iso(manual_clock.now_ms() + 500)
        )
        entry = await _audit(hub, headers("admin"), cid)
        assert entry["after"]["outcome"] == "timeout"

        manual_clock.advance(5.0)
        late_before = await _dropped(hub, "late")
        async with Agent(config, clock=manual_clock) as agent:
            await until(lambda: cid in agent._replies, "the queued command reaches the agent")
            assert agent._replies[cid].code == "expired"
            assert not agent.sessions, "an expired command is not executed"

            async def counted() -> bool:
                manual_clock.advance(0.1)  # the agent paces its backlog on its clock
                return await _dropped(hub, "late") > late_before

            await wait_until(counted)


@pytest.mark.mosquitto
async def test_a_reply_reaches_the_replica_that_sent_the_command(
    clean_db: str, mosquitto: Mosquitto, manual_clock: ManualClock
) -> None:
    """Two replicas (both in ``$share/hub``): a command sent through replica B names B's
    reply topic under the edge's tree; B gets the reply and A sees nothing of it. A reply
    from another edge in that edge's name is not taken."""
    await add_role_users(clean_db)
    topics = EdgeTopics("acme", "park-x")
    op = headers("operator")
    async with (
        running(_settings(clean_db, mosquitto, "hub-a"), manual_clock) as hub_a,
        running(_settings(clean_db, mosquitto, "hub-b"), manual_clock) as hub_b,
        aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="fake-edge") as edge,
    ):
        await edge.subscribe(topics.cmd_filter, qos=1)
        await edge.publish(topics.state, encode(State(online=True, sid=1,
                           ts_ms=manual_clock.now_ms())), qos=1)  # fmt: skip
        await _edge_known(hub_b, op, "park-x")

        async def answer() -> Command:
            async for message in edge.messages:
                assert isinstance(message.payload, bytes)
                command = decode_as(message.payload, Command)
                reply = Reply(cid=command.cid, ok=True, result={"status": "online"},
                              ts_ms=manual_clock.now_ms())  # fmt: skip
                other = EdgeTopics("acme", "park-y").reply_to(command.reply_to.rsplit("/")[-1])
                await edge.publish(other, encode(reply), qos=1)  # not the edge commanded
                await edge.publish(command.reply_to, encode(reply), qos=1)
                return command
            raise AssertionError("no command")  # pragma: no cover

        async with asyncio.timeout(SAFETY_TIMEOUT), asyncio.TaskGroup() as group:
            answered = group.create_task(answer())
            r = await hub_b.post("/api/v1/edges/park-x/devices/bess-1/commands",
                                 json={"action": "ping"}, headers=op)  # fmt: skip
        assert r.status_code == 200, r.text
        command = answered.result()
        replica = command.reply_to.rsplit("/")[-1]
        assert command.reply_to == topics.reply_to(replica) and replica.startswith("hub-b-")
        assert r.json()["cid"] == command.cid and r.json()["result"] == {"status": "online"}

        async def refused_other_edge() -> bool:
            return await _dropped(hub_b, "wrong_edge") == 1

        await wait_until(refused_other_edge)
        assert await _dropped(hub_a, "late") == 0 and await _dropped(hub_a, "wrong_edge") == 0


async def test_commands_are_checked_before_anything_is_sent(client: Client, auth: AuthFor) -> None:
    """Without MQTT: a viewer is refused (403), a bad argument is 422 naming it, an unknown
    instance 404, one bound to no device 409, and a good command 503 (no broker)."""
    op = auth("operator")
    battery = await make_battery(client, op)
    url = f"/api/v1/vpp/resource-instances/{battery['id']}/commands"
    viewer = await client.post(url, json={"action": "ping"}, headers=auth("viewer"))
    assert viewer.status_code == 403, viewer.text
    soon = _iso(int(dt.datetime.now(dt.UTC).timestamp() * 1000) + 3_600_000)
    past = _iso(int(dt.datetime.now(dt.UTC).timestamp() * 1000) - 60_000)
    cases = [
        ({"action": "ev_session", "args": {"energy_kwh": 0, "departure_time": soon}},
         "args.energy_kwh"),
        ({"action": "ev_session", "args": {"energy_kwh": 5, "departure_time": past}},
         "args.departure_time"),
        ({"action": "ev_session", "args": {"energy_kwh": 5}}, "args.departure_time"),
        ({"action": "ev_session", "args": {"energy_kwh": 5, "departure_time": soon,
                                           "max_power_kw": -1}}, "args.max_power_kw"),
        ({"action": "ev_session", "args": {"energy_kwh": 5, "departure_time": "2026-01-01T00:00"}},
         "args.departure_time"),
        ({"action": "set_power", "args": {"power_kw": "lots"}}, "args.power_kw"),
        ({"action": "ping", "args": {"p_w": 1}}, "args.p_w"),
    ]  # fmt: skip
    for body, field in cases:
        r = await client.post(url, json=body, headers=op)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, (body, r.json())
    bad_timeout = await client.post(url, json={"action": "ping", "timeout_s": 600}, headers=op)
    assert bad_timeout.status_code == 400 and "timeout_s" in bad_timeout.text
    unknown = await client.post(url, json={"action": "reboot"}, headers=op)
    assert unknown.status_code == 400 and "action" in unknown.text
    missing = await client.post("/api/v1/vpp/resource-instances/nope/commands",
                                json={"action": "ping"}, headers=op)  # fmt: skip
    assert missing.status_code == 404
    unbound = await make_battery(client, op, name="unbound", edge=None)
    r = await client.post(f"/api/v1/vpp/resource-instances/{unbound['id']}/commands",
                          json={"action": "ping"}, headers=op)  # fmt: skip
    assert r.status_code == 409, r.text
    no_mqtt = await client.post(url, json={"action": "ping"}, headers=op)
    assert no_mqtt.status_code == 503 and "MQTT" in no_mqtt.json()["detail"]
    no_edge = await client.post("/api/v1/edges/ghost/devices/bess-1/commands",
                                json={"action": "ping"}, headers=op)  # fmt: skip
    assert no_edge.status_code == 404
