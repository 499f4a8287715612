"""Store-and-forward over a real mosquitto: broker outages and ``kill -9`` of the agent.

The hub stand-in acks the highest contiguous seq of each session id, as the hub does.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from edge_agent import Agent
from edge_agent._sync import INFLIGHT_WINDOW
from lingtan.broker import Mosquitto
from protocol import DispatchStatus, State, TelemetryBatch, decode_as
from protocol.clock import ManualClock
from tests.edge_agent.conftest import Harness, advance_until, make_config, spawn_agent, until
from tests.edge_agent.hub import HubStandIn
from tests.support import SAFETY_TIMEOUT

pytestmark = pytest.mark.mosquitto

FAST = "commit_interval_s = 0.05\nflush_rate_per_s = 400.0"


def cycles_by_key(hub: HubStandIn) -> dict[tuple[int, int], int]:
    """The agent's own cycle counter carried by each telemetry batch, by key."""
    out: dict[tuple[int, int], int] = {}
    for r in hub.received:
        if isinstance(r.message, TelemetryBatch):
            for p in r.message.points:
                if p.name == "agent.cycle":
                    assert isinstance(p.value, int)
                    out[(r.sid, r.seq)] = p.value
    return out


async def test_broker_outage_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    config = make_config(tmp_path, mqtt_port=mosquitto.port, control_period_s=0.05,
                         outbox_extra=FAST)  # fmt: skip
    hub = HubStandIn(mosquitto.port, "acme", "site-1")
    async with hub, Agent(config) as agent:
        sid = agent.outbox.sid
        await until(lambda: hub.contiguous(sid) >= 20, "live data")
        mosquitto.stop()
        stopped_at = agent.outbox.last_key[1]
        await until(lambda: agent.outbox.last_key[1] >= stopped_at + 30, "data during outage")
        assert agent.link is not None and not agent.link.connected
        connects = agent.link.connects
        mosquitto.start()
        await until(lambda: agent.link is not None and agent.link.connects > connects, "reconnect")
        resumed_at = agent.link.connected_key[1]
        await until(lambda: hub.contiguous(sid) >= resumed_at + 20, "backlog and live data")
        await until(lambda: (agent.outbox.last_ack or (0, 0))[1] >= resumed_at, "acks")
    keys = hub.keys()
    counts = Counter(keys)
    top = hub.contiguous(sid)
    assert set(range(1, top + 1)) <= {seq for s, seq in keys if s == sid}  # no gap
    # Nothing twice, except what QoS 1 itself may repeat: a batch the broker had taken
    # but whose PUBACK was lost when it stopped (the hub deduplicates those by key).
    # Everything stored during the outage, the backlog, arrives exactly once.
    twice = [seq for (s, seq), n in counts.items() if n > 1]
    assert all(stopped_at - INFLIGHT_WINDOW <= seq <= stopped_at for seq in twice), twice
    assert len(twice) <= 2, twice

    def plain(m: TelemetryBatch | DispatchStatus) -> TelemetryBatch | DispatchStatus:
        # hist and floor_seq are delivery data: a replay re-stamps the floor as it is now
        return msgspec.structs.replace(m, hist=False, floor_seq=0)

    same = {(r.sid, r.seq): plain(r.message) for r in hub.received if r.seq in twice}
    assert all(  # a repeat is the same batch under the same key, never new data
        plain(r.message) == same[(r.sid, r.seq)] for r in hub.received if r.seq in twice
    )
    outage = [r for r in hub.received if stopped_at + 2 < r.seq <= resumed_at]
    assert outage and all(r.hist for r in outage)  # replayed backlog is marked
    live_after = [r for r in hub.received if r.seq > resumed_at]
    assert live_after and not any(r.hist for r in live_after)
    # original timestamps: the batches of the outage keep their own times, in order
    stamps = [r.message.ts_ms for r in sorted(outage, key=lambda r: r.seq)]
    assert stamps == sorted(stamps)
    replayed = agent.metrics.registry.get_sample_value("vpp_agent_replayed_total")
    assert replayed is not None and replayed >= len(outage)


def committed_seqs(db: Path, sid: int) -> tuple[int, int]:
    """``(highest committed seq of sid, highest acked seq of sid)`` from the outbox file."""
    with sqlite3.connect(db) as conn:
        top = conn.execute("SELECT max(seq) FROM outbox WHERE sid = ?", (sid,)).fetchone()[0]
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    acked = meta.get("ack_seq", 0) if meta.get("ack_sid") == sid else 0
    return max(top or 0, acked), acked


async def test_kill_9_mid_stream_then_restart_has_no_gap_and_no_duplicate(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    config = make_config(tmp_path, mqtt_port=mosquitto.port, control_period_s=0.05,
                         outbox_extra=FAST)  # fmt: skip
    text = tmp_path / "agent.toml"
    from tests.edge_agent.conftest import config_text

    text.write_text(config_text(tmp_path, mqtt_port=mosquitto.port, control_period_s=0.05,
                                outbox_extra=FAST))  # fmt: skip
    assert config.outbox.path == str(tmp_path / "outbox.db")
    hub = HubStandIn(mosquitto.port, "acme", "site-1")
    async with hub:
        proc = spawn_agent(text)
        try:
            await until(lambda: hub.contiguous(1) >= 30, "first session's data")
            os.kill(proc.pid, signal.SIGKILL)
            await asyncio.to_thread(proc.wait, SAFETY_TIMEOUT)
            last_committed, _ = committed_seqs(tmp_path / "outbox.db", 1)
            assert last_committed >= 20
            proc = spawn_agent(text)
            await until(lambda: hub.contiguous(1) >= last_committed, "first session replayed")
            await until(lambda: hub.contiguous(2) >= 20, "second session live")
        finally:
            proc.send_signal(signal.SIGTERM)
            await asyncio.to_thread(proc.wait, SAFETY_TIMEOUT)
    seqs1 = {seq for sid, seq in list(hub.keys()) if sid == 1}
    assert set(range(1, last_committed + 1)) <= seqs1  # everything committed
    # Live data leaves before its commit: what the hub holds beyond the last commit was
    # published live just before the kill, never stored (its keys are never reused).
    extra = seqs1 - set(range(1, last_committed + 1))
    assert extra == set(range(last_committed + 1, last_committed + 1 + len(extra)))
    assert len(extra) <= 10
    # no batch re-published under a new key: each (session, cycle) sits under one key
    cycles = cycles_by_key(hub)
    owners: dict[tuple[int, int], set[tuple[int, int]]] = {}
    for key, cycle in cycles.items():
        owners.setdefault((key[0], cycle), set()).add(key)
    assert all(len(keys) == 1 for keys in owners.values())
    assert min(seq for sid, seq in list(hub.keys()) if sid == 2) == 1
    # the Will said the first agent died; the clean stop cleared the retained state itself
    states = [decode_as(p, State) for p in hub.retained_state]
    assert any(not s.online and s.sid == 1 for s in states)
    assert not states[-1].online and states[-1].sid == 2


async def test_an_agent_that_started_offline_loses_nothing_to_a_first_seen_hub(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """The hub counts a session's contiguity from the first seq it sees. Live data goes
    ahead of the backlog, so the agent sends its oldest stored row first."""
    mosquitto.stop()
    config = make_config(tmp_path, mqtt_port=mosquitto.port, control_period_s=0.05,
                         outbox_extra=FAST)  # fmt: skip
    hub = HubStandIn(mosquitto.port, "acme", "site-1", start_at_first_seen=True)
    async with Agent(config) as agent:
        await until(lambda: agent.outbox.committed_key[1] >= 40, "data stored offline")
        mosquitto.start()
        async with hub:
            await until(lambda: agent.link is not None and agent.link.connected, "connected")
            stored = agent.link.connected_key[1] if agent.link else 0
            await until(lambda: hub.contiguous(1) >= stored + 20, "backlog and live data")
    seqs = {seq for sid, seq in list(hub.keys()) if sid == 1}
    assert set(range(1, stored + 21)) <= seqs  # nothing acked unseen, nothing lost
    first = hub.received[0]
    assert (first.sid, first.seq, first.hist) == (1, 1, True)


async def test_a_hub_coming_back_gets_everything_unacked_even_what_the_broker_took(
    tmp_path: Path, mosquitto: Mosquitto, manual_clock: ManualClock
) -> None:
    """The broker acknowledging a message proves nothing about the hub: a hub that restarts
    with a clean session (or whose broker queue overflowed) never saw it. When the hub's
    state turns online again, the agent sends every row the hub has not acked."""
    config = make_config(tmp_path, mqtt_port=mosquitto.port, outbox_extra="commit_interval_s = 0")
    hub = HubStandIn(mosquitto.port, "acme", "site-1", auto_ack=False)
    async with hub, Agent(config, clock=manual_clock) as agent:
        h = Harness(agent, manual_clock)
        await hub.hub_online(True)
        assert await advance_until(h, lambda: hub.contiguous(agent.outbox.sid) >= 10, 200)
        sent = agent.outbox.committed_key[1]
        hub.forget()  # the broker took them; the hub lost them
        await hub.hub_online(False)
        assert await advance_until(
            h, lambda: agent.link is not None and not agent.link.hub_online, 50
        )
        await hub.hub_online(True)
        assert await advance_until(h, lambda: hub.contiguous(agent.outbox.sid) >= sent, 200)
        replayed = {r.seq for r in hub.received if r.hist}
        assert set(range(1, sent + 1)) <= replayed


async def test_acks_that_stall_on_a_lost_message_make_the_agent_send_it_again(
    tmp_path: Path, mosquitto: Mosquitto, manual_clock: ManualClock
) -> None:
    config = make_config(
        tmp_path, mqtt_port=mosquitto.port,
        outbox_extra="commit_interval_s = 0\nresend_after_s = 20.0",
    )  # fmt: skip
    # as the hub does, the stand-in repeats its (stuck) ack after every message it gets
    hub = HubStandIn(mosquitto.port, "acme", "site-1", repeat_acks=True)
    async with hub, Agent(config, clock=manual_clock) as agent:
        sid = agent.outbox.sid
        hub.drop_once.add((sid, 3))  # delivered by the broker, never stored by the hub
        h = Harness(agent, manual_clock)
        await hub.hub_online(True)
        assert await advance_until(h, lambda: agent.outbox.committed_key[1] >= 6, 15)
        # published by now, maybe not yet arrived (a loaded machine): wait, clock stopped
        await until(lambda: {4, 5, 6} <= {r.seq for r in hub.received if r.sid == sid}, "4-6")
        assert hub.contiguous(sid) == 2  # the hub waits at the gap
        assert agent.link is not None and agent.link.resends == 0
        # within two resend periods of the agent's clock the lost row goes out again
        assert await advance_until(h, lambda: hub.contiguous(sid) >= 6, 60)
        assert agent.link.resends >= 1
        assert await advance_until(h, lambda: (agent.outbox.last_ack or (0, 0))[1] >= 6, 40)


async def test_live_telemetry_does_not_wait_for_the_batched_commit(
    tmp_path: Path, mosquitto: Mosquitto, manual_clock: ManualClock
) -> None:
    """Batches leave when made; the commit (here once a minute) follows on its own."""
    config = make_config(tmp_path, mqtt_port=mosquitto.port, outbox_extra="commit_interval_s = 60")
    hub = HubStandIn(mosquitto.port, "acme", "site-1", auto_ack=False)
    async with hub, Agent(config, clock=manual_clock) as agent:
        h = Harness(agent, manual_clock)
        sid = agent.outbox.sid
        assert await advance_until(h, lambda: hub.contiguous(sid) >= 8, 30)
        committed = agent.outbox.committed_key
        live = {r.seq for r in hub.received if r.sid == sid and not r.hist}
        assert committed[0] != sid or max(live) > committed[1]  # published before its commit
        assert agent.outbox.pending > 0
    # the final flush on the way out stored every row that was published live
    with sqlite3.connect(tmp_path / "outbox.db") as conn:
        stored = {s for (s,) in conn.execute("SELECT seq FROM outbox WHERE sid = ?", (sid,))}
    assert live <= stored
