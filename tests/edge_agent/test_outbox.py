"""The SQLite outbox: keys, durability, acks, replay reads, quota and TTL policy."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import msgspec
import pytest

from edge_agent import Outbox, OutboxError
from edge_agent._outbox import (
    KIND_DATA,
    KIND_STATUS,
    Committed,
    StoredRow,
    as_history,
    stored_payload,
)
from protocol import DispatchStatus, Point, TelemetryBatch, decode_uplink, encode
from protocol.aio import SQLITE_WORKER
from tests.support import SAFETY_TIMEOUT

T0 = 1_767_225_600_000


def batch(box: Outbox, n_points: int = 3, ts: int = T0) -> TelemetryBatch:
    sid, seq = box.next_key()
    points = [
        Point(device="d", name=f"p{i}", value=(seq * 7919 + i) * 1.37, ts_ms=ts + i)
        for i in range(n_points)
    ]
    return TelemetryBatch(edge="e", sid=sid, seq=seq, ts_ms=ts, points=points)


async def test_session_id_grows_per_start_and_keys_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    async with Outbox(path) as box:
        assert box.sid == 1
        for _ in range(3):
            box.append(batch(box))
        committed = await box.commit()
        assert [c.message.seq for c in committed] == [1, 2, 3]
    async with Outbox(path) as box:
        assert box.sid == 2
        rows = await box.read_after(None, box.last_key, 100)
        assert [(r.sid, r.seq) for r in rows] == [(1, 1), (1, 2), (1, 3)]
        box.append(batch(box))
    async with Outbox(path) as box:  # the uncommitted append was flushed on a clean exit
        rows = await box.read_after(None, (9, 9), 100)
        assert [(r.sid, r.seq) for r in rows][-1] == (2, 1)


async def test_nothing_is_handed_out_before_commit(tmp_path: Path) -> None:
    async with Outbox(tmp_path / "o.db") as box:
        box.append(batch(box))
        assert box.pending == 1
        assert await box.read_after(None, box.last_key, 10) == []
        assert len(await box.commit()) == 1
        assert await box.commit() == []


async def test_ack_deletes_up_to_key_of_that_session_only(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    async with Outbox(path) as box:
        for _ in range(4):
            box.append(batch(box))
        await box.commit()
    async with Outbox(path) as box:
        box.append(batch(box))
        await box.commit()
        box.ack(2, 1)  # acks of the new session do not touch the old one
        box.ack(1, 2)
        box.ack(1, 1)  # an older ack never moves backwards
        await box.commit()
        rows = await box.read_after(None, (9, 9), 100)
        assert [(r.sid, r.seq) for r in rows] == [(1, 3), (1, 4)]
        assert box.last_ack is not None
    async with Outbox(path) as box:
        assert box.last_ack is not None
        stats = await box.stats()
        assert stats.rows == 2 and stats.points == 6


async def test_replay_payload_is_history_with_original_timestamps(tmp_path: Path) -> None:
    async with Outbox(tmp_path / "o.db") as box:
        original = batch(box, ts=T0 - 5000)
        box.append(original)
        sid, seq = box.next_key()
        box.append(DispatchStatus(edge="e", sid=sid, seq=seq, ts_ms=T0, schedule_id="s",
                                  version=1, status="accepted"))  # fmt: skip
        await box.commit()
        rows = await box.read_after(None, box.last_key, 10)
    assert [r.kind for r in rows] == [KIND_DATA, KIND_STATUS]
    replayed = decode_uplink(as_history(rows[0], "e"))
    assert isinstance(replayed, TelemetryBatch) and replayed.hist
    assert msgspec.structs.replace(replayed, hist=False) == msgspec.structs.replace(
        original, floor_seq=1
    )
    status = decode_uplink(as_history(rows[1], "e"))
    assert isinstance(status, DispatchStatus) and status.hist and status.floor_seq == 1


async def test_over_quota_the_oldest_are_thinned_newest_kept_keys_contiguous(
    tmp_path: Path,
) -> None:
    async with Outbox(tmp_path / "o.db", quota_bytes=60_000) as box:
        for i in range(400):
            box.append(batch(box, n_points=20, ts=T0 + i))
            if i % 50 == 0:
                await box.commit()
        await box.commit()
        before = await box.stats()
        assert before.bytes_used > 60_000
        thinned = await box.enforce_bounds(T0 + 1000)
        after = await box.stats()
        rows = await box.read_after(None, box.last_key, 1000)
    assert thinned > 0 and after.points < before.points
    assert after.bytes_used <= 60_000 or after.points < before.points // 2
    assert [r.seq for r in rows] == list(range(1, 401))  # no key lost: no gap for the hub
    assert all(r.payload for r in rows[-40:])  # the newest tenth is untouched
    empty = next(r for r in rows if not r.payload)
    placeholder = decode_uplink(as_history(empty, "e"))
    assert isinstance(placeholder, TelemetryBatch) and placeholder.points == []
    assert box.quota_fraction > 0


async def test_after_a_restart_the_newest_rows_of_the_last_session_are_not_thinned(
    tmp_path: Path,
) -> None:
    # The protected newest tenth used to be counted in the current session only: after a
    # restart during an outage every row of the previous session, newest included, could
    # be thinned while the new session had not written anything yet.
    path = tmp_path / "o.db"
    async with Outbox(path) as box:
        for i in range(400):
            box.append(batch(box, n_points=20, ts=T0 + i))
        await box.commit()
    async with Outbox(path, quota_bytes=20_000) as box:
        assert await box.enforce_bounds(T0 + 1000) > 0
        rows = await box.read_after(None, (1, 400), 1000)
    assert [r.seq for r in rows] == list(range(1, 401))
    assert all(r.payload for r in rows[-40:])  # the newest tenth is untouched
    assert not all(r.payload for r in rows[:40])  # the oldest were thinned


async def test_ttl_empties_old_rows(tmp_path: Path) -> None:
    async with Outbox(tmp_path / "o.db", ttl_s=10.0) as box:
        box.append(batch(box, ts=T0))
        box.append(batch(box, ts=T0 + 20_000))
        await box.commit()
        assert await box.enforce_bounds(T0 + 25_000) == 1
        rows = await box.read_after(None, box.last_key, 10)
    assert [bool(r.payload) for r in rows] == [False, True]


async def test_large_payloads_are_stored_compressed(tmp_path: Path) -> None:
    async with Outbox(tmp_path / "o.db") as box:
        big = batch(box, n_points=50)
        box.append(big)
        [committed] = await box.commit()
        [row] = await box.read_after(None, box.last_key, 10)
    assert committed.payload == encode(msgspec.structs.replace(big, floor_seq=1))  # plain JSON
    assert len(row.payload) < len(committed.payload) / 2
    assert stored_payload(row.payload) == committed.payload


def floors(committed: list[Committed]) -> list[tuple[int, int]]:
    return [(c.message.seq, c.message.floor_seq) for c in committed]


async def test_floor_seq_is_the_oldest_unacked_row_of_the_session(tmp_path: Path) -> None:
    async with Outbox(tmp_path / "o.db") as box:
        box.append(batch(box))
        box.append(batch(box))  # pending rows count: seq 1 is not stored yet
        assert floors(await box.commit()) == [(1, 1), (2, 1)]
        for _ in range(3):
            box.append(batch(box))
        await box.commit()
        box.ack(1, 3)  # the hub stored 1..3: rows deleted, the floor moves up
        await box.commit()
        box.append(batch(box))
        assert floors(await box.commit()) == [(6, 4)]
        box.ack(1, 6)
        await box.commit()
        box.append(batch(box))  # nothing unacked left: the floor is the message itself
        assert floors(await box.commit()) == [(7, 7)]
        [row] = await box.read_after(None, box.last_key, 10)
        assert row.floor_seq == 7


async def test_a_row_in_a_commit_in_flight_keeps_the_floor_down(tmp_path: Path) -> None:
    async with Outbox(tmp_path / "o.db") as box:
        for _ in range(200):
            box.append(batch(box, n_points=20))
        flight = asyncio.create_task(box.commit())
        await asyncio.sleep(0)  # the commit has taken the pending rows and is writing
        assert box.pending == 0 and not flight.done()
        box.append(batch(box))
        await flight
        assert floors(await box.commit()) == [(201, 1)]


async def test_replayed_rows_are_restamped_with_the_floor_of_their_session_now(
    tmp_path: Path,
) -> None:
    path = tmp_path / "o.db"
    async with Outbox(path) as box:
        for _ in range(4):
            box.append(batch(box))
        await box.commit()
    async with Outbox(path) as box:  # a restart: session 1's rows are still unacked
        box.append(batch(box))
        assert floors(await box.commit()) == [(1, 1)]  # session 2 starts at its seq 1
        rows = await box.read_after(None, (1, 4), 10)
        assert [r.floor_seq for r in rows] == [1, 1, 1, 1]
        box.ack(1, 2)
        await box.commit()
        rows = await box.read_after(None, (1, 4), 10)
        assert [(r.seq, r.floor_seq) for r in rows] == [(3, 3), (4, 3)]
        replayed = [decode_uplink(as_history(r, "e")) for r in rows]
        assert [m.floor_seq for m in replayed] == [3, 3]  # type: ignore[union-attr]
        # a thinned row goes out empty, with the floor as well
        thin = StoredRow(1, 3, 0, T0, b"", 3)  # kind 0: data
        placeholder = decode_uplink(as_history(thin, "e"))
        assert isinstance(placeholder, TelemetryBatch) and placeholder.floor_seq == 3


async def test_a_cancelled_commit_keeps_its_rows(tmp_path: Path) -> None:
    async with Outbox(tmp_path / "o.db") as box:
        for _ in range(300):
            box.append(batch(box, n_points=30))
        flight = asyncio.create_task(box.commit())
        await asyncio.sleep(0)
        assert box.pending == 0
        flight.cancel()
        with pytest.raises(asyncio.CancelledError):
            await flight
        assert box.pending == 300  # back in front, nothing lost
        assert [c.message.seq for c in await box.commit()] == list(range(1, 301))
        rows = await box.read_after(None, box.last_key, 1000)
    assert [r.seq for r in rows] == list(range(1, 301))


async def test_the_shutdown_flush_finishes_under_repeated_cancellation(tmp_path: Path) -> None:
    # The final commit on exit used to be cancellable after it had emptied the pending
    # list: a shutdown that cancelled twice (as Agent.__aexit__ does) lost those rows.
    path = tmp_path / "o.db"
    ready = asyncio.Event()

    async def agent_like() -> None:
        async with Outbox(path) as box:
            for _ in range(2_000):
                box.append(batch(box, n_points=30))
            ready.set()
            await asyncio.Event().wait()  # runs until cancelled

    task = asyncio.create_task(agent_like())
    async with asyncio.timeout(SAFETY_TIMEOUT):
        await ready.wait()
    cancels = 0
    async with asyncio.timeout(SAFETY_TIMEOUT):
        while not task.done():  # cancel again and again while the flush runs
            task.cancel()
            cancels += 1
            await asyncio.sleep(0.001)
    assert cancels > 2  # the flush was still running when cancelled again
    with pytest.raises(asyncio.CancelledError):
        await task
    async with Outbox(path) as box:
        rows = await box.read_after(None, (1, 10_000), 10_000)
    assert [r.seq for r in rows] == list(range(1, 2_001))


async def test_space_freed_by_acks_goes_back_to_the_file_system(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    async with Outbox(path) as box:
        for _ in range(1_000):
            box.append(batch(box, n_points=30))
        await box.commit()
        box.ack(1, 1_000)
        await box.commit()
        async with box.db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
            await cur.fetchall()
        before = path.stat().st_size
        reclaimed = await box.reclaim(max_pages=100_000)
        async with box.db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
            await cur.fetchall()
        after = path.stat().st_size
    assert reclaimed > 100 and after < before / 4  # the file shrank, not just its content


async def test_a_failing_commit_keeps_the_newest_rows_and_dispatch_statuses_longest(
    tmp_path: Path,
) -> None:
    async with Outbox(tmp_path / "o.db", retain_on_error=4) as box:
        box.append(batch(box))
        await box.commit()
        sid, seq = box.next_key()
        box.append(DispatchStatus(edge="e", sid=sid, seq=seq, ts_ms=T0, schedule_id="s",
                                  version=1, status="accepted"))  # fmt: skip
        for _ in range(5):
            box.append(batch(box))
        await box.db.close()  # the connection breaks under the outbox (our own seam)
        with pytest.raises(OutboxError) as caught:
            await box.commit()
    assert "commit failed" in str(caught.value)
    # 6 rows pending, 4 kept: the status (seq 2) and the three newest batches (5..7)
    assert box.pending == 4 and box.lost_rows == 2 and box.lost_seqs == [(1, 3, 4)]
    assert [c.message.seq for c in box._pending_msgs] == [2, 5, 6, 7]
    assert box.floor(1) == 1  # seq 1 is stored and unacked: the floor waits for it


def test_a_loop_that_ends_mid_call_leaves_the_outbox_closed_and_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGTERM during start-up ends the agent's loop while a call of the outbox runs:
    its thread closes the file and ends quietly (aiosqlite's own died with "Exception in
    thread ... Event loop is closed", leaving the file open; protocol.aio.sqlite_worker)."""
    died: list[type[BaseException]] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_type))
    started = threading.Event()

    def slow() -> int:
        started.set()
        time.sleep(0.3)
        return 1

    async def leave() -> threading.Thread:
        box = await Outbox(tmp_path / "o.db").__aenter__()
        await box.db.create_function("slow", 0, slow)
        asyncio.get_running_loop().create_task(box.db.execute("SELECT slow()"))
        await asyncio.to_thread(started.wait, SAFETY_TIMEOUT)
        thread: threading.Thread = box.db._thread
        return thread  # asyncio.run cancels the call's task and closes the loop

    worker = asyncio.run(leave())
    worker.join(SAFETY_TIMEOUT)
    assert not worker.is_alive()
    assert worker.name == SQLITE_WORKER and not worker.daemon  # pending writes finish
    assert died == []
