"""Store-and-forward outbox: every uplink batch is committed to SQLite before it is published.

Rows are keyed by ``(sid, seq)``. ``sid`` grows by one per agent start and is persisted in
the database; ``seq`` counts from 1 within a sid and is shared by telemetry batches and
dispatch statuses, so one hub :class:`~protocol.Ack` covers both. A row keeps the key it was
stored with forever: a restart replays it under the same key, never under a new one.

Durability: WAL journal, ``synchronous=FULL``; appends are committed in batches
(``commit_interval_s``) to spare flash storage, and nothing is handed to the publisher
before its commit. ``kill -9`` loses at most what was appended but not yet committed, and
that was never published.

Bounds (stated policy): the hub's ack deletes rows up to ``(sid, seq)`` of that sid (acks
are per session id). When the live size exceeds the quota, the oldest telemetry rows are
downsampled: every second row of the oldest fifth keeps its key but loses its points (the
sequence stays contiguous, so the hub's contiguous ack still advances). Rows older than the
TTL are emptied the same way. The newest data is never touched; dispatch statuses are never
thinned. An alarm gauge turns on at 90 % of the quota.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import aiosqlite
import msgspec

from protocol import DispatchStatus, TelemetryBatch, encode

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


class OutboxError(AgentError):
    """The outbox database cannot be used."""


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row read back for replay."""

    sid: int
    seq: int
    kind: Literal[0, 1]
    ts_ms: int
    payload: bytes


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
    ) -> None:
        self._path = Path(path)
        self._quota = quota_bytes
        self._ttl_ms = int(ttl_s * 1000)
        self._db: aiosqlite.Connection | None = None
        self.sid = 0
        self._next_seq = 1
        self._pending: list[tuple[int, int, int, int, int, bytes]] = []
        self._pending_msgs: list[Committed] = []
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
            self._db = await aiosqlite.connect(self._path)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=FULL")
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
            raise OutboxError(f"cannot open outbox {self._path}: {exc}") from exc
        self.bytes_used = await self._bytes_used()
        _log.info("outbox %s open: session id %d", self._path, self.sid)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self._db is not None:
                await self.commit()
        finally:
            await self._close()

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

    def append(self, message: Uplinked) -> None:
        """Queue a message (already carrying its ``(sid, seq)``) for the next commit."""
        kind = KIND_DATA if isinstance(message, TelemetryBatch) else KIND_STATUS
        npoints = len(message.points) if isinstance(message, TelemetryBatch) else 0
        payload = encode(message)
        stored = zlib.compress(payload, 1) if len(payload) >= COMPRESS_ABOVE else payload
        self._pending.append((message.sid, message.seq, kind, message.ts_ms, npoints, stored))
        self._pending_msgs.append(Committed(message, payload))

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

        Returns the messages that are now durable (the publisher may send them).
        """
        rows, msgs = self._pending, self._pending_msgs
        acks = self._pending_acks
        if not rows and not acks:
            return []
        self._pending, self._pending_msgs, self._pending_acks = [], [], {}
        db = self.db
        try:
            if rows:
                await db.executemany(
                    "INSERT OR IGNORE INTO outbox (sid, seq, kind, ts_ms, npoints, payload) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
            for sid, seq in acks.items():
                await db.execute("DELETE FROM outbox WHERE sid = ? AND seq <= ?", (sid, seq))
                self.last_ack = (sid, seq)
            if acks and self.last_ack is not None:
                await db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    [("ack_sid", self.last_ack[0]), ("ack_seq", self.last_ack[1])],
                )
            await db.commit()
        except Exception as exc:
            raise OutboxError(f"outbox commit failed: {exc}") from exc
        if rows:
            self.committed_key = max([self.committed_key, *((r[0], r[1]) for r in rows)])
        return msgs

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
        """Apply the TTL and the quota (see the module docstring). Returns rows thinned."""
        db = self.db
        thinned = 0
        cutoff = now_ms - self._ttl_ms
        cur = await db.execute(
            "UPDATE outbox SET payload = ?, npoints = 0 "
            "WHERE kind = 0 AND npoints > 0 AND ts_ms < ?",
            (b"", cutoff),
        )
        thinned += cur.rowcount
        await cur.close()
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
            cur = await db.execute(
                "UPDATE outbox SET payload = ?, npoints = 0 WHERE (sid, seq) IN ("
                "  SELECT sid, seq FROM (SELECT sid, seq, row_number() OVER (ORDER BY sid, seq)"
                "   AS n FROM outbox WHERE kind = 0 AND npoints > 0"
                "   AND (sid < ? OR (sid = ? AND seq < ?)) ORDER BY sid, seq LIMIT ?)"
                "  WHERE n % 2 = 0)",
                (b"", protected[0], protected[0], protected[1], max(2, live // 5)),
            )
            thinned += cur.rowcount
            await cur.close()
            await db.commit()
            self.bytes_used = await self._bytes_used()
        if thinned:
            await db.commit()
            self.downsampled_rows += thinned
            _log.warning("outbox over quota or TTL: %d old rows downsampled", thinned)
        return thinned

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
        async with self.db.execute(
            "SELECT sid, seq, kind, ts_ms, payload FROM outbox "
            "WHERE (sid > ? OR (sid = ? AND seq > ?)) AND (sid < ? OR (sid = ? AND seq <= ?)) "
            "ORDER BY sid, seq LIMIT ?",
            (a_sid, a_sid, a_seq, upto[0], upto[0], upto[1], limit),
        ) as cur:
            rows = await cur.fetchall()
        return [
            StoredRow(int(r[0]), int(r[1]), 1 if r[2] else 0, int(r[3]), bytes(r[4])) for r in rows
        ]

    async def stats(self) -> OutboxStats:
        async with self.db.execute(
            "SELECT count(*), coalesce(sum(npoints), 0), min(ts_ms) FROM outbox"
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        self.bytes_used = await self._bytes_used()
        return OutboxStats(int(row[0]), int(row[1]), self.bytes_used, row[2])

    @property
    def last_key(self) -> tuple[int, int]:
        """The newest key handed out so far (``seq`` 0 before the first)."""
        return (self.sid, self._next_seq - 1)


def stored_payload(data: bytes) -> bytes:
    """The JSON payload of a stored row (compressed rows start with a zlib header)."""
    return zlib.decompress(data) if data[:1] == b"\x78" else data


def as_history(row: StoredRow, edge: str) -> bytes:
    """The payload of a stored row re-encoded with ``hist=true`` (timestamps untouched).

    A row thinned by the quota or TTL policy goes out as an empty batch under its own key.
    """
    if not row.payload:
        empty = TelemetryBatch(
            edge=edge, sid=row.sid, seq=row.seq, ts_ms=row.ts_ms, hist=True, points=[]
        )
        return encode(empty)
    message: Uplinked
    payload = stored_payload(row.payload)
    if row.kind == KIND_DATA:
        message = msgspec.json.decode(payload, type=TelemetryBatch)
    else:
        message = msgspec.json.decode(payload, type=DispatchStatus)
    return encode(msgspec.structs.replace(message, hist=True))


__all__ = [
    "COMPRESS_ABOVE",
    "KIND_DATA",
    "KIND_STATUS",
    "Committed",
    "Outbox",
    "OutboxError",
    "OutboxStats",
    "StoredRow",
    "Uplinked",
    "as_history",
    "stored_payload",
]
