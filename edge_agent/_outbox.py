"""Store-and-forward outbox: every uplink batch is committed to SQLite before it is published.

Rows are keyed by ``(sid, seq)``. ``sid`` grows by one per agent start and is persisted in
the database; ``seq`` counts from 1 within a sid and is shared by telemetry batches and
dispatch statuses, so one hub :class:`~protocol.Ack` covers both. A row keeps the key it was
stored with forever: a restart replays it under the same key, never under a new one.

Durability: WAL journal, ``synchronous=FULL``; appends are committed in batches
(``commit_interval_s``) to spare flash storage. The agent publishes a message live when it
is appended (live data must not wait for the batched commit); replay reads committed rows
only. ``kill -9`` loses at most what was appended but not yet committed; what had been
published of it may have reached the hub, never the other way round, and a new session
never reuses its keys.

Bounds (stated policy): the hub's ack deletes rows up to ``(sid, seq)`` of that sid (acks
are per session id). When the live size exceeds the quota, the oldest telemetry rows are
downsampled: every second row of the oldest fifth keeps its key but loses its points (the
sequence stays contiguous, so the hub's contiguous ack still advances). Rows older than the
TTL are emptied the same way. The newest data is never touched; dispatch statuses are never
thinned. An alarm gauge turns on at 90 % of the quota. Freed pages go back to the file system
(``auto_vacuum=INCREMENTAL``, a bounded ``incremental_vacuum`` per upkeep pass, and a WAL
file capped by ``journal_size_limit``). Upkeep is the caller's to schedule in its own task:
it never runs inside a commit, and a commit waits for at most one upkeep statement.

``floor_seq``: every stored message carries the lowest seq of its session the edge may still
send: ``min(lowest stored-unacked seq of the sid, lowest seq appended but not yet stored,
this seq)``. The hub never waits below it; a seq below it that the hub has not stored is
gone for good. Replayed rows are re-stamped with the floor current at read time
(:attr:`StoredRow.floor_seq`), so a replay after acks or a storage error states the floor
as it is now. The lowest stored seq per sid is kept in memory: one indexed ``MIN`` after the
deletes of an ack, none per message.

Storage errors (disk full, read-only, I/O) never escape as anything but :class:`OutboxError`
(with a ``kind``), and never lose what can be kept: a failed commit keeps its rows for the
next attempt, up to ``retain_on_error`` rows; beyond it the oldest telemetry rows are
dropped (dispatch statuses only when nothing else is left) and counted in
:attr:`Outbox.lost_rows` (their seqs were allocated but are never stored: the floor passes
them, so the hub records the gap instead of waiting). A cancelled commit keeps all its rows.
:meth:`Outbox.flush` (used on exit) finishes the final commit even when its caller is
cancelled, within a timeout.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, NamedTuple

import aiosqlite
import msgspec
from aiosqlite.core import _STOP_RUNNING_SENTINEL

from protocol import DispatchStatus, TelemetryBatch, encode
from protocol.aio import wait_holding_cancellation, with_sqlite_worker

from ._errors import AgentError

_log = logging.getLogger(__name__)

KIND_DATA = 0
KIND_STATUS = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
    sid INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    npoints INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (sid, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outbox_ts ON outbox (ts_ms);
"""

Uplinked = TelemetryBatch | DispatchStatus
COMPRESS_ABOVE = 512
"""Payloads from this size on are stored zlib-compressed (level 1): JSON telemetry shrinks
several times, which is most of what the outbox writes to flash."""


class Committed(NamedTuple):
    """A message made durable by a commit, with its encoded (uncompressed) payload."""

    message: TelemetryBatch | DispatchStatus
    payload: bytes


StorageErrorKind = Literal["disk_full", "read_only", "io", "corrupt", "locked", "other"]
RETAIN_ON_ERROR: Final = 600
"""Rows a failing commit keeps in memory for the next attempt (10 min at 1 Hz)."""
FLUSH_TIMEOUT_S: Final = 10.0
VACUUM_PAGES: Final = 2_048
"""Free pages handed back to the file system per upkeep pass (8 MiB at 4 KiB pages)."""
WAL_LIMIT_BYTES: Final = 8 * 1024 * 1024


class OutboxError(AgentError):
    """The outbox database cannot be used; ``kind`` says why (for a metric label)."""

    def __init__(self, message: str, kind: StorageErrorKind = "other") -> None:
        super().__init__(message)
        self.kind: StorageErrorKind = kind


_SQLITE_KINDS: Final[tuple[tuple[StorageErrorKind, tuple[str, ...], tuple[str, ...]], ...]] = (
    # (kind, result-code prefixes, words of the message)
    ("disk_full", ("SQLITE_FULL",), ("disk is full",)),
    ("read_only", ("SQLITE_READONLY",), ("readonly", "read-only")),
    ("io", ("SQLITE_IOERR", "SQLITE_CANTOPEN"), ("i/o",)),
    ("corrupt", ("SQLITE_CORRUPT", "SQLITE_NOTADB"), ("malformed",)),
    ("locked", ("SQLITE_BUSY", "SQLITE_LOCKED"), ("locked",)),
)
_ERRNO_KINDS: Final[dict[int, StorageErrorKind]] = {
    errno.ENOSPC: "disk_full",
    errno.EDQUOT: "disk_full",
    errno.EROFS: "read_only",
}


def storage_error_kind(exc: BaseException) -> StorageErrorKind:
    """The kind of a storage failure (SQLite result code or OS errno).

    >>> storage_error_kind(OSError(28, "No space left on device"))
    'disk_full'
    """
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc).lower()
        for kind, codes, words in _SQLITE_KINDS:
            if name.startswith(codes) or any(w in text for w in words):
                return kind
        return "other"
    if isinstance(exc, OSError):
        return _ERRNO_KINDS.get(exc.errno or 0, "io")
    return "other"


def _storage_error(what: str, exc: BaseException, path: Path | None = None) -> OutboxError:
    kind = storage_error_kind(exc)
    if kind in {"io", "other"} and path is not None and _read_only(path):
        kind = "read_only"  # SQLite says "unable to open" or "I/O error" on a read-only mount
    return OutboxError(f"{what}: {exc} ({kind})", kind)


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row read back for replay."""

    sid: int
    seq: int
    kind: Literal[0, 1]
    ts_ms: int
    payload: bytes
    floor_seq: int = 0
    """The floor of the row's session when it was read (0: not known)."""


@dataclass(frozen=True, slots=True)
class OutboxStats:
    rows: int
    points: int
    bytes_used: int
    oldest_ts_ms: int | None


class Outbox:
    """The SQLite outbox. Use as an async context manager; ``sid`` is set on entry."""

    def __init__(
        self,
        path: str | Path,
        *,
        quota_bytes: int = 512 * 1024 * 1024,
        ttl_s: float = 30 * 86_400.0,
        retain_on_error: int = RETAIN_ON_ERROR,
    ) -> None:
        self._path = Path(path)
        self._quota = quota_bytes
        self._ttl_ms = int(ttl_s * 1000)
        self._retain = max(0, retain_on_error)
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.sid = 0
        self._next_seq = 1
        self._pending: list[tuple[int, int, int, int, int, bytes]] = []
        self._pending_msgs: list[Committed] = []
        self._unstored_min: dict[int, int] = {}
        """Lowest seq per sid appended but not stored yet (pending or in a commit)."""
        self._stored_min: dict[int, int] = {}
        """Lowest seq per sid stored in the table (acked rows are deleted)."""
        self.lost_rows = 0
        """Rows whose seqs were allocated but that were never stored (storage errors)."""
        self.lost_seqs: list[tuple[int, int, int]] = []
        """The latest lost ranges ``(sid, first seq, last seq)`` (at most 16), for health."""
        self.storage_error: OutboxError | None = None
        """The last storage error, until a write succeeds again."""
        self._pending_acks: dict[int, int] = {}
        self._acked: dict[int, int] = {}
        self.last_ack: tuple[int, int] | None = None
        self.committed_key: tuple[int, int] = (0, 0)
        """The newest key known to be committed (what replay may read up to)."""
        self.downsampled_rows = 0
        self.bytes_used = 0

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise OutboxError("the outbox is not open")
        return self._db

    async def __aenter__(self) -> Outbox:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # a thread that closes the file itself if the loop ends mid-call (protocol.aio)
            connection = aiosqlite.connect(self._path)
            self._db = await with_sqlite_worker(connection, stop=_STOP_RUNNING_SENTINEL)
            # before the first table: a new file hands freed pages back incrementally
            await self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=FULL")
            await self._db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            await self._db.executescript(_SCHEMA)
            async with self._db.execute("SELECT value FROM meta WHERE key='sid'") as cur:
                row = await cur.fetchone()
            self.sid = (int(row[0]) if row else 0) + 1
            async with self._db.execute(
                "SELECT sid, seq FROM outbox ORDER BY sid DESC, seq DESC LIMIT 1"
            ) as cur:
                newest = await cur.fetchone()
            if newest is not None:
                self.committed_key = (int(newest[0]), int(newest[1]))
            async with self._db.execute("SELECT sid, min(seq) FROM outbox GROUP BY sid") as cur:
                self._stored_min = {int(r[0]): int(r[1]) for r in await cur.fetchall()}
            await self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('sid', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (self.sid,),
            )
            async with self._db.execute(
                "SELECT value FROM meta WHERE key IN ('ack_sid', 'ack_seq') ORDER BY key"
            ) as cur:
                ack = [int(r[0]) for r in await cur.fetchall()]
            if len(ack) == 2:
                self.last_ack = (ack[0], ack[1])
            await self._db.commit()
        except Exception as exc:  # sqlite3.Error, OSError: translated at this seam
            await self._close()
            raise _storage_error(f"cannot open outbox {self._path}", exc, self._path) from exc
        self.bytes_used = await self._bytes_used()
        _log.info("outbox %s open: session id %d", self._path, self.sid)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self._db is not None:
                await self.flush()
        finally:
            await asyncio.shield(self._close())

    async def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> None:
        """Commit what is pending, finishing even if the caller is cancelled meanwhile.

        The commit runs in its own task; cancellations of the caller are held back until it
        is done (or ``timeout_s`` of loop time passed), then the caller's cancellation goes
        on. A storage error is logged (the rows stay pending; nothing else can be done).
        """
        task = asyncio.ensure_future(self.commit())
        cancelled = await wait_holding_cancellation(task, timeout_s)
        if not task.done():
            _log.error("outbox flush still running after %g s: left behind", timeout_s)
        elif not task.cancelled():
            try:
                task.result()
            except OutboxError as exc:
                _log.error("final outbox commit failed, %d rows not stored: %s",
                           len(self._pending), exc)  # fmt: skip
        if cancelled is not None:
            raise cancelled

    async def _close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    # ------------------------------------------------------------------ writing

    def next_key(self) -> tuple[int, int]:
        """Reserve the next ``(sid, seq)``."""
        key = (self.sid, self._next_seq)
        self._next_seq += 1
        return key

    def floor(self, sid: int, seq: int | None = None) -> int:
        """The lowest seq of ``sid`` the edge may still send (``seq``: a message of it)."""
        candidates = [self._stored_min.get(sid), self._unstored_min.get(sid), seq]
        known = [c for c in candidates if c is not None]
        return min(known) if known else 0

    def append(self, message: Uplinked) -> Committed:
        """Queue a message (already carrying its ``(sid, seq)``) for the next commit.

        The message is stored with its ``floor_seq`` stamped (see the module docstring);
        returns it with its encoded payload, which the caller may publish at once.
        """
        sid, seq = message.sid, message.seq
        if seq < self._unstored_min.get(sid, seq + 1):
            self._unstored_min[sid] = seq
        message = msgspec.structs.replace(message, floor_seq=self.floor(sid, seq))
        kind = KIND_DATA if isinstance(message, TelemetryBatch) else KIND_STATUS
        npoints = len(message.points) if isinstance(message, TelemetryBatch) else 0
        payload = encode(message)
        stored = zlib.compress(payload, 1) if len(payload) >= COMPRESS_ABOVE else payload
        self._pending.append((message.sid, message.seq, kind, message.ts_ms, npoints, stored))
        committed = Committed(message, payload)
        self._pending_msgs.append(committed)
        return committed

    def ack(self, sid: int, seq: int) -> None:
        """Record the hub's ack; rows up to it are deleted at the next commit."""
        if seq > self._pending_acks.get(sid, -1):
            self._pending_acks[sid] = seq
        if seq > self._acked.get(sid, -1):
            self._acked[sid] = seq

    def is_acked(self, sid: int, seq: int) -> bool:
        """Whether the hub has acked ``(sid, seq)`` (deleted or about to be)."""
        return seq <= self._acked.get(sid, -1)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def commit(self) -> list[Committed]:
        """Write everything appended and acked since the last commit in one transaction.

        Returns the messages that are now durable (the publisher may send them). Raises
        :class:`OutboxError` on a storage error: the rows stay pending for the next commit
        (the oldest beyond ``retain_on_error`` are dropped and counted as lost). A
        cancelled commit keeps every row.
        """
        async with self._write_lock:
            rows, msgs = self._pending, self._pending_msgs
            acks = self._pending_acks
            if not rows and not acks:
                return []
            self._pending, self._pending_msgs, self._pending_acks = [], [], {}
            try:
                floors = await self._write(rows, acks)
            except BaseException as exc:
                self._restore(rows, msgs, acks, failed=not isinstance(exc, asyncio.CancelledError))
                if isinstance(exc, Exception):
                    error = _storage_error("outbox commit failed", exc, self._path)
                    self.storage_error = error
                    raise error from exc
                raise
            self.storage_error = None
            for sid, seq in acks.items():
                self.last_ack = (sid, seq)
            for sid in acks:
                low = floors.get(sid)
                if low is None:
                    self._stored_min.pop(sid, None)
                else:
                    self._stored_min[sid] = low
            for row in rows:
                if row[1] < self._stored_min.get(row[0], row[1] + 1):
                    self._stored_min[row[0]] = row[1]
            self._unstored_min = _lowest(self._pending)
            if rows:
                self.committed_key = max([self.committed_key, *((r[0], r[1]) for r in rows)])
            return msgs

    async def _write(
        self, rows: list[tuple[int, int, int, int, int, bytes]], acks: dict[int, int]
    ) -> dict[int, int | None]:
        """One transaction; returns the lowest stored seq of each acked sid afterwards."""
        db = self.db
        floors: dict[int, int | None] = {}
        try:
            if rows:
                await db.executemany(
                    "INSERT OR IGNORE INTO outbox (sid, seq, kind, ts_ms, npoints, payload) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
            for sid, seq in acks.items():
                await db.execute("DELETE FROM outbox WHERE sid = ? AND seq <= ?", (sid, seq))
                async with db.execute("SELECT min(seq) FROM outbox WHERE sid = ?", (sid,)) as c:
                    low = (await c.fetchone() or (None,))[0]
                floors[sid] = int(low) if low is not None else None
            if acks:
                sid, seq = next(reversed(acks.items()))  # the last one recorded is kept
                await db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    [("ack_sid", sid), ("ack_seq", seq)],
                )
            await db.commit()
        except BaseException:
            await self._rollback()
            raise
        return floors

    async def _rollback(self) -> None:
        db = self._db
        if db is None:
            return
        try:
            await asyncio.shield(db.rollback())
        except Exception as exc:  # the connection itself may be unusable; the next try says
            _log.debug("outbox rollback failed: %s", exc)

    def _restore(
        self,
        rows: list[tuple[int, int, int, int, int, bytes]],
        msgs: list[Committed],
        acks: dict[int, int],
        *,
        failed: bool,
    ) -> None:
        """Put the rows and acks of a commit that did not happen back in front."""
        self._pending = rows + self._pending
        self._pending_msgs = msgs + self._pending_msgs
        for sid, seq in acks.items():
            if seq > self._pending_acks.get(sid, -1):
                self._pending_acks[sid] = seq
        excess = len(self._pending) - self._retain
        if failed and excess > 0:
            # the oldest telemetry goes first; dispatch statuses only when nothing else is left
            order = sorted(range(len(self._pending)),
                           key=lambda i: (self._pending[i][2] != KIND_DATA, i))  # fmt: skip
            victims = set(order[:excess])
            dropped = [r for i, r in enumerate(self._pending) if i in victims]
            self._pending = [r for i, r in enumerate(self._pending) if i not in victims]
            self._pending_msgs = [m for i, m in enumerate(self._pending_msgs) if i not in victims]
            self.lost_rows += len(dropped)
            for sid, first, last in _ranges([(r[0], r[1]) for r in dropped]):
                prev = self.lost_seqs[-1] if self.lost_seqs else None
                if prev is not None and prev[0] == sid and prev[2] == first - 1:
                    self.lost_seqs[-1] = (sid, prev[1], last)  # the same outage goes on
                    continue
                self.lost_seqs = [*self.lost_seqs, (sid, first, last)][-16:]
                _log.error("outbox: storage failing, rows from seq %d of session %d on are "
                           "being lost (oldest telemetry first, beyond %d kept in memory)",
                           first, sid, self._retain)  # fmt: skip
        self._unstored_min = _lowest(self._pending)

    # ------------------------------------------------------------------ bounds

    async def _bytes_used(self) -> int:
        db = self.db
        async with db.execute("PRAGMA page_count") as cur:
            pages = (await cur.fetchone() or (0,))[0]
        async with db.execute("PRAGMA freelist_count") as cur:
            free = (await cur.fetchone() or (0,))[0]
        async with db.execute("PRAGMA page_size") as cur:
            size = (await cur.fetchone() or (4096,))[0]
        return int((pages - free) * size)

    async def enforce_bounds(self, now_ms: int) -> int:
        """Apply the TTL and the quota (see the module docstring). Returns rows thinned.

        Each step is its own short transaction, so a commit waits for one step at most.
        Raises :class:`OutboxError` on a storage error.
        """
        try:
            return await self._enforce_bounds(now_ms)
        except OutboxError:
            raise
        except Exception as exc:
            await self._rollback()
            raise _storage_error("outbox upkeep failed", exc, self._path) from exc

    async def _enforce_bounds(self, now_ms: int) -> int:
        db = self.db
        thinned = 0
        cutoff = now_ms - self._ttl_ms
        async with self._write_lock:
            cur = await db.execute(
                "UPDATE outbox SET payload = ?, npoints = 0 "
                "WHERE kind = 0 AND npoints > 0 AND ts_ms < ?",
                (b"", cutoff),
            )
            thinned += cur.rowcount
            await cur.close()
            await db.commit()
        self.bytes_used = await self._bytes_used()
        # Never touch the newest tenth of the rows; thin the oldest non-empty rows (every
        # second one per pass, oldest fifth at a time) until under the quota.
        async with db.execute("SELECT count(*) FROM outbox") as c:
            total = int((await c.fetchone() or (0,))[0])
        protected = await self._oldest_protected_key(total)
        rounds = 0
        while self.bytes_used > self._quota and rounds < 64:
            rounds += 1
            async with db.execute(
                "SELECT count(*) FROM outbox WHERE kind = 0 AND npoints > 0 "
                "AND (sid < ? OR (sid = ? AND seq < ?))",
                (protected[0], protected[0], protected[1]),
            ) as c:
                live = int((await c.fetchone() or (0,))[0])
            if live < 2:
                break
            async with self._write_lock:
                cur = await db.execute(
                    "UPDATE outbox SET payload = ?, npoints = 0 WHERE (sid, seq) IN ("
                    "  SELECT sid, seq FROM (SELECT sid, seq, row_number() OVER (ORDER BY sid,"
                    "   seq) AS n FROM outbox WHERE kind = 0 AND npoints > 0"
                    "   AND (sid < ? OR (sid = ? AND seq < ?)) ORDER BY sid, seq LIMIT ?)"
                    "  WHERE n % 2 = 0)",
                    (b"", protected[0], protected[0], protected[1], max(2, live // 5)),
                )
                thinned += cur.rowcount
                await cur.close()
                await db.commit()
            self.bytes_used = await self._bytes_used()
        if thinned:
            self.downsampled_rows += thinned
            _log.warning("outbox over quota or TTL: %d old rows downsampled", thinned)
        return thinned

    async def reclaim(self, max_pages: int = VACUUM_PAGES) -> int:
        """Hand up to ``max_pages`` free pages back to the file system; returns how many.

        A file created before incremental vacuum was the default cannot do it (SQLite needs
        a full VACUUM to switch): it keeps reusing its free pages instead.
        """
        db = self.db
        try:
            async with db.execute("PRAGMA auto_vacuum") as cur:
                mode = int((await cur.fetchone() or (0,))[0])
            if mode != 2:  # 2: INCREMENTAL
                return 0
            async with db.execute("PRAGMA freelist_count") as cur:
                free = int((await cur.fetchone() or (0,))[0])
            if free == 0:
                return 0
            async with self._write_lock:
                # run to completion (sqlite3's execute() would free one page: the pragma
                # returns no rows, so the statement is reset after its first step)
                await db.executescript(f"PRAGMA incremental_vacuum({int(max_pages)});")
            async with db.execute("PRAGMA freelist_count") as cur:
                left = int((await cur.fetchone() or (0,))[0])
        except Exception as exc:
            await self._rollback()
            raise _storage_error("outbox vacuum failed", exc, self._path) from exc
        return free - left

    async def _oldest_protected_key(self, total_rows: int) -> tuple[int, int]:
        """The oldest key of the newest tenth of the stored rows, whatever their session.

        After a restart the newest rows usually belong to an earlier session, so the
        protected tenth is counted over the table, not over this session's sequence.
        """
        newest = max(1, total_rows // 10)
        async with self.db.execute(
            "SELECT sid, seq FROM outbox ORDER BY sid DESC, seq DESC LIMIT 1 OFFSET ?",
            (newest - 1,),
        ) as cur:
            row = await cur.fetchone()
        return (int(row[0]), int(row[1])) if row is not None else (self.sid, 1)

    @property
    def quota_fraction(self) -> float:
        return self.bytes_used / self._quota if self._quota else 0.0

    # ------------------------------------------------------------------ reading

    async def read_after(
        self, after: tuple[int, int] | None, upto: tuple[int, int], limit: int
    ) -> list[StoredRow]:
        """Rows with ``after < (sid, seq) <= upto``, oldest first."""
        a_sid, a_seq = after if after is not None else (-1, -1)
        try:
            async with self.db.execute(
                "SELECT sid, seq, kind, ts_ms, payload FROM outbox "
                "WHERE (sid > ? OR (sid = ? AND seq > ?)) AND (sid < ? OR (sid = ? AND seq <= ?))"
                " ORDER BY sid, seq LIMIT ?",
                (a_sid, a_sid, a_seq, upto[0], upto[0], upto[1], limit),
            ) as cur:
                rows = await cur.fetchall()
        except (sqlite3.Error, OSError) as exc:
            # A read that fails is a storage error like any other: recorded, and the
            # replay simply finds nothing this time (it is asked for again later).
            self.storage_error = _storage_error("outbox read failed", exc, self._path)
            _log.warning("%s", self.storage_error)
            return []
        return [
            StoredRow(int(r[0]), int(r[1]), 1 if r[2] else 0, int(r[3]), bytes(r[4]),
                      self.floor(int(r[0]), int(r[1])))
            for r in rows
        ]  # fmt: skip

    async def stats(self) -> OutboxStats:
        try:
            async with self.db.execute(
                "SELECT count(*), coalesce(sum(npoints), 0), min(ts_ms) FROM outbox"
            ) as cur:
                row = await cur.fetchone()
            assert row is not None
            self.bytes_used = await self._bytes_used()
        except (sqlite3.Error, OSError) as exc:
            raise _storage_error("outbox stats failed", exc, self._path) from exc
        return OutboxStats(int(row[0]), int(row[1]), self.bytes_used, row[2])

    @property
    def last_key(self) -> tuple[int, int]:
        """The newest key handed out so far (``seq`` 0 before the first)."""
        return (self.sid, self._next_seq - 1)


def _lowest(rows: list[tuple[int, int, int, int, int, bytes]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for row in rows:
        if row[1] < out.get(row[0], row[1] + 1):
            out[row[0]] = row[1]
    return out


def _ranges(keys: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Consecutive runs ``(sid, first, last)`` of sorted keys."""
    out: list[tuple[int, int, int]] = []
    for sid, seq in sorted(keys):
        if out and out[-1][0] == sid and out[-1][2] == seq - 1:
            out[-1] = (sid, out[-1][1], seq)
        else:
            out.append((sid, seq, seq))
    return out


def stored_payload(data: bytes) -> bytes:
    """The JSON payload of a stored row (compressed rows start with a zlib header)."""
    return zlib.decompress(data) if data[:1] == b"\x78" else data


def as_history(row: StoredRow, edge: str) -> bytes:
    """The payload of a stored row re-encoded with ``hist=true`` (timestamps untouched) and
    ``floor_seq`` re-stamped with the floor of its session when it was read.

    A row thinned by the quota or TTL policy goes out as an empty batch under its own key.
    """
    if not row.payload:
        empty = TelemetryBatch(edge=edge, sid=row.sid, seq=row.seq, ts_ms=row.ts_ms, hist=True,
                               floor_seq=row.floor_seq, points=[])  # fmt: skip
        return encode(empty)
    message: Uplinked
    payload = stored_payload(row.payload)
    if row.kind == KIND_DATA:
        message = msgspec.json.decode(payload, type=TelemetryBatch)
    else:
        message = msgspec.json.decode(payload, type=DispatchStatus)
    if not row.floor_seq:  # not known: the floor it was stored with
        return encode(msgspec.structs.replace(message, hist=True))
    return encode(msgspec.structs.replace(message, hist=True, floor_seq=row.floor_seq))


__all__ = [
    "COMPRESS_ABOVE",
    "KIND_DATA",
    "KIND_STATUS",
    "Committed",
    "Outbox",
    "OutboxError",
    "OutboxStats",
    "StorageErrorKind",
    "StoredRow",
    "Uplinked",
    "as_history",
    "storage_error_kind",
    "stored_payload",
]
