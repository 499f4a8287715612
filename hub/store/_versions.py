"""Which tables this process has written: one generation counter per table.

Every statement that writes (``INSERT``/``UPDATE``/``DELETE``, through the ORM, Core or
raw SQL, on any engine of this process) bumps the generation of the table it names right
after it executed (an autocommit write is visible then) and once more when its connection
goes back to the pool (after the commit: a reader that read the old rows between the two
carries the first generation and is not trusted). A writing ``WITH`` bumps every table its
parts write. A statement whose table cannot be read off its text (DDL, ``TRUNCATE``,
``MERGE``) bumps every table; one the driver says changed no row bumps nothing.

A memo of database reads (:class:`Memo`) keeps a value with the generations of the tables
it read (recorded as the statements run, :func:`recording`), taken *before* the read, and
for at most ``ttl_s``: a write made in this process
is seen by the next read; one made by another process (another replica, ``vpp hub user``,
``psql``) within ``ttl_s``.

An ``UPDATE`` that sets only columns listed in :data:`VOLATILE_COLUMNS` (the ingest's
throttled ``last_heartbeat``, with ``updated_at``) bumps ``"table.column"`` for each instead
of the table, so readers
that never show that column (aggregation, the realtime binding) are not invalidated by
heartbeats; readers that show it name both.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

ALL: Final = "*"
VOLATILE_COLUMNS: Final = frozenset(
    {("vpp_resource_instances", "last_heartbeat"), ("vpp_resource_instances", "updated_at")}
)
"""(table, column) pairs an UPDATE may set without invalidating readers that show neither
(the ingest's heartbeat sets ``last_heartbeat`` and, through the model's onupdate,
``updated_at``)."""

_WRITE = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.IGNORECASE
)
_SET = re.compile(r"\bSET\b", re.IGNORECASE)
_SET_TOKEN = re.compile(
    r"'(?:[^']|'')*'|\"(\w+)\"|[(),]|\b(FROM|WHERE|RETURNING)\b|(\w+)", re.IGNORECASE
)
_WRITES_INSIDE = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_CTE_WRITE = re.compile(
    r"\b(?:INSERT\s+INTO|DELETE\s+FROM|(UPDATE)|(MERGE))\b\s*(?:ONLY\s+)?(?:\"(\w+)\"|(\w+))?",
    re.IGNORECASE,
)
_NOT_A_WRITE = re.compile(r"\b(?:DO|FOR|KEY)\s*$", re.IGNORECASE)
"""What precedes an ``UPDATE`` that writes nothing itself: ``ON CONFLICT DO UPDATE`` (the
``INSERT``'s table), ``FOR [NO KEY] UPDATE`` (a row lock)."""
_READS = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SHOW", "EXPLAIN")


class Generations:
    """Per-table write counters of this process (one instance: :data:`GENERATIONS`)."""

    def __init__(self) -> None:
        self._by_table: dict[str, int] = {}

    def bump(self, tables: Iterable[str]) -> None:
        by_table = self._by_table
        for table in tables:
            by_table[table] = by_table.get(table, 0) + 1

    def now(self) -> dict[str, int]:
        """Every table's generation (to stamp a read with, once its tables are known)."""
        return dict(self._by_table)

    def of(self, tables: tuple[str, ...], at: dict[str, int] | None = None) -> tuple[int, ...]:
        """The generations of ``tables`` and of "every table" (now, or in ``at``)."""
        get = (self._by_table if at is None else at).get
        return (get(ALL, 0), *(get(t, 0) for t in tables))


GENERATIONS: Final = Generations()


def written_tables(statement: str) -> tuple[str, ...]:
    """The tables ``statement`` writes: () for a read, (``ALL``,) when unknown.

    >>> written_tables('UPDATE vpps SET name=$1 WHERE vpps.id = $2')
    ('vpps',)
    >>> written_tables('UPDATE vpp_resource_instances SET last_heartbeat=? WHERE x = ?')
    ('vpp_resource_instances.last_heartbeat',)
    >>> written_tables('SELECT vpps.id FROM vpps FOR UPDATE')
    ()
    >>> written_tables('TRUNCATE telemetry')
    ('*',)
    """
    head = statement.lstrip()[:9].upper()
    if head.startswith(_READS) or head.startswith(("PRAGMA", "SET ")):
        return ()
    match = _WRITE.match(statement)
    if match is None:
        if head.startswith("WITH"):
            return _cte_writes(statement) if _WRITES_INSIDE.search(statement) else ()
        return (ALL,)
    table = match.group(1).lower()
    if head.startswith("UPDATE"):
        set_at = _SET.search(statement, match.end())
        if set_at is not None:
            columns = _set_columns(statement, set_at.end())
            if columns and all((table, c) in VOLATILE_COLUMNS for c in columns):
                return tuple(f"{table}.{c}" for c in sorted(columns))
    return (table,)


def _cte_writes(statement: str) -> tuple[str, ...]:
    """The tables a ``WITH`` statement's data-modifying parts (and its main statement)
    write, sorted; (``ALL``,) when one cannot be read off (a ``MERGE``, a table name that
    does not follow its keyword).

    >>> _cte_writes('WITH a AS (INSERT INTO "x" SELECT 1), b AS (UPDATE y SET c = 1) '
    ...             'DELETE FROM z; SELECT * FROM edges FOR UPDATE OF edges')
    ('x', 'y', 'z')
    >>> _cte_writes("WITH a AS (INSERT INTO x VALUES (1) ON CONFLICT DO UPDATE SET v = 1) "
    ...             "SELECT * FROM t FOR NO KEY UPDATE")
    ('x',)
    """
    tables: set[str] = set()
    for found in _CTE_WRITE.finditer(statement):
        update, merge, quoted, name = found.groups()
        if update is not None and _NOT_A_WRITE.search(statement, 0, found.start()):
            continue
        table = quoted or name
        if merge is not None or table is None:
            return (ALL,)
        tables.add(table.lower())
    return tuple(sorted(tables)) if tables else (ALL,)


def _set_columns(statement: str, start: int) -> set[str]:
    """The columns an ``UPDATE``'s ``SET`` list (from ``start``) assigns: the first name
    of each item at the top level (not inside parentheses or quotes), up to the first
    top-level ``FROM``, ``WHERE`` or ``RETURNING``.

    >>> sorted(_set_columns("SET a=(SELECT x FROM t WHERE y=1), b=2 FROM u WHERE c=3", 3))
    ['a', 'b']
    """
    columns: set[str] = set()
    depth = 0
    expect = True  # the next name at the top level is an assigned column
    for token in _SET_TOKEN.finditer(statement, start):
        quoted, keyword, word = token.groups()
        text = token.group()
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif depth == 0:
            if keyword is not None:
                break
            if text == ",":
                expect = True
            elif expect and (quoted or word):
                columns.add((quoted or word).lower())
                expect = False
    return columns


_TABLE_REF = re.compile(r"\b(?:FROM|JOIN)\s+\"?(\w+)\"?", re.IGNORECASE)
_reading: ContextVar[set[str] | None] = ContextVar("hub_tables_read", default=None)


def read_tables(statement: str) -> set[str]:
    """The tables a SELECT names (``FROM``/``JOIN``; subqueries included).

    >>> sorted(read_tables('SELECT a.x FROM vpps AS a JOIN "users" ON a.y = users.z'))
    ['users', 'vpps']
    """
    return {t.lower() for t in _TABLE_REF.findall(statement)}


@contextmanager
def recording() -> Iterator[set[str]]:
    """The tables read by the statements executed in this context (this task and the
    tasks and greenlets it starts) while it is open."""
    tables: set[str] = set()
    token = _reading.set(tables)
    try:
        yield tables
    finally:
        _reading.reset(token)


class Statements:
    """What one request (or any code in a :func:`counting` block) asked of the database:
    statements executed, their time (s, the wait for the database included) and
    connections checked out of a pool."""

    __slots__ = ("checkouts", "count", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.checkouts = 0


_counting: ContextVar[Statements | None] = ContextVar("hub_statements", default=None)


@contextmanager
def counting() -> Iterator[Statements]:
    """The statements executed in this context while it is open (see :class:`Statements`)."""
    stats = Statements()
    token = _counting.set(stats)
    try:
        yield stats
    finally:
        _counting.reset(token)


@event.listens_for(Engine, "before_cursor_execute")
def _before_execute(
    _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
) -> None:
    if context is not None and _counting.get() is not None:
        context._hub_started = time.perf_counter()


@event.listens_for(Pool, "checkout")
def _checked_out(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    stats = _counting.get()
    if stats is not None:
        stats.checkouts += 1


@event.listens_for(Engine, "after_cursor_execute")
def _after_execute(
    conn: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
) -> None:
    stats = _counting.get()
    if stats is not None:
        stats.count += 1
        started = getattr(context, "_hub_started", None)
        if started is not None:
            stats.seconds += time.perf_counter() - started
    tables = written_tables(statement)
    if tables and _wrote_nothing(cursor, statement, tables):
        tables = ()
    if tables:
        GENERATIONS.bump(tables)
        conn.info.setdefault("hub_written", set()).update(tables)
    reading = _reading.get()
    if reading is not None:
        reading.update(read_tables(statement))
        reading.update(t.split(".")[0] for t in tables)


def _wrote_nothing(cursor: Any, statement: str, tables: tuple[str, ...]) -> bool:
    """Whether a plain ``INSERT``/``UPDATE``/``DELETE`` (of one named table, without
    ``RETURNING``) changed no row: the driver said 0 rows (an executemany: 0 in all).
    Such a statement invalidates nothing (the ingest's guarded updates match no row most
    of the time). Unknown counts (-1: asyncpg's executemany, DDL) count as written; so do
    ``RETURNING`` statements (SQLite counts their rows only as they are fetched)."""
    if tables == (ALL,) or getattr(cursor, "rowcount", -1) != 0:
        return False
    if statement.lstrip()[:4].upper() == "WITH":
        return False  # the count is the main statement's, not its data-modifying parts'
    return "RETURNING" not in statement.upper()


@event.listens_for(Pool, "checkin")
def _after_transaction(_dbapi_connection: Any, record: Any) -> None:
    if record is None:
        return
    written = record.info.pop("hub_written", None)
    if written:
        GENERATIONS.bump(written)


def _with_volatile(tables: Iterable[str]) -> tuple[str, ...]:
    """``tables`` and their volatile columns' pseudo-tables (a reader of a table reads all
    of its columns unless it says otherwise)."""
    out = set(tables)
    out.update(f"{t}.{c}" for t, c in VOLATILE_COLUMNS if t in out)
    return tuple(sorted(out))


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


REFRESH_AFTER: Final = 0.5
"""Share of ``ttl_s`` after which one caller is asked to read a kept value again while
the others are still served it (:meth:`Memo.get`)."""


class Memo(Generic[K, V]):
    """Values read from the database, trusted while the tables they were read from have
    not been written by this process and for at most ``ttl_s``.

        at = memo.now()                      # before reading
        with recording() as tables:
            value = await read(...)
        memo.put(key, tables, at, value)     # or name the tables read
        memo.get(key)                        # the value, or None once stale

    Refresh ahead: once a value is :data:`REFRESH_AFTER` of ``ttl_s`` old, the first
    :meth:`get` answers None (that caller reads and puts it again) and the others are
    served the value until it expires, so a value in steady use is renewed by one request
    before it runs out instead of every concurrent request waiting for a read at once
    (the p99 tail of every kept read, once per ``ttl_s``). Nothing is served past
    ``ttl_s`` or after a write to its tables.
    """

    def __init__(
        self, ttl_s: float = 1.0, max_entries: int = 10_000, max_bytes: int = 64 << 20
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        """Past this many bytes put (``size=``) since it was last emptied, the memo is
        emptied: it never holds more, however many distinct keys are asked for."""
        self._bytes = 0
        self._entries: dict[K, list[Any]] = {}
        """key -> [tables, their generations, expiry, refresh due (0: claimed), value]"""
        self.building: dict[Hashable, asyncio.Event] = {}
        """Keys being read now (:func:`remembered`: the others wait for that read)."""
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    @staticmethod
    def now() -> dict[str, int]:
        return GENERATIONS.now()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is not None:
            tables, stamp, until, refresh, value = entry
            now = time.monotonic()
            if stamp == GENERATIONS.of(tables) and now < until:
                if refresh and now >= refresh:
                    entry[3] = 0.0  # claimed: this caller reads it again, the rest hit
                    self.misses += 1
                    return None
                self.hits += 1
                return value  # type: ignore[no-any-return]
            del self._entries[key]
        self.misses += 1
        return None

    def put(
        self,
        key: K,
        tables: Iterable[str],
        at: dict[str, int],
        value: V,
        *,
        volatile: bool = True,
        size: int = 0,
    ) -> None:
        """Keep ``value``, read from ``tables`` after ``at`` (:meth:`now`). ``volatile``
        False: the value shows none of :data:`VOLATILE_COLUMNS`."""
        if self.ttl_s <= 0:
            return
        self._bytes += size
        if len(self._entries) >= self.max_entries or self._bytes > self.max_bytes:
            self.clear()
            self._bytes = size
        names = _with_volatile(tables) if volatile else tuple(sorted(set(tables)))
        now = time.monotonic()
        self._entries[key] = [
            names,
            GENERATIONS.of(names, at),
            now + self.ttl_s,
            now + self.ttl_s * REFRESH_AFTER,
            value,
        ]

    def drop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


async def remembered(
    memo: Memo[Any, V], key: Hashable, read: Callable[[], Awaitable[V]], *, volatile: bool = True
) -> V:
    """``memo``'s value for ``key``, else ``await read()`` kept with the tables it read.
    ``volatile`` False: the value shows none of :data:`VOLATILE_COLUMNS`."""
    if not memo.enabled:
        return await read()
    hit = memo.get(key)
    if hit is None and key in memo.building:
        # one reads, the others wait for it and check it again (a write since it started
        # makes it stale for them too)
        await memo.building[key].wait()
        hit = memo.get(key)
    if hit is not None:
        return hit

    async def read_and_keep() -> V:
        at = memo.now()
        with recording() as tables:
            value = await read()
        memo.put(key, tables, at, value, volatile=volatile)
        return value

    if key in memo.building:  # another read started after this one's: no need to wait
        return await read_and_keep()
    done = memo.building[key] = asyncio.Event()
    try:
        return await read_and_keep()
    finally:
        del memo.building[key]
        done.set()
