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

Writes made inside :func:`background_writes` (the ingest, the singleton jobs: work no
caller of this process asked for) count like any other, and are also told apart
(:meth:`Generations.callers_of`): a reader that promises callers their own writes (the
console snapshot) waits only for the others, and treats these as another replica's.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import Context, ContextVar
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import Pool

_log = logging.getLogger(__name__)

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
    """Per-table write counters of this process (one instance: :data:`GENERATIONS`), of
    every write and of the writes made outside :func:`background_writes` (``callers``)."""

    def __init__(self) -> None:
        self._by_table: dict[str, int] = {}
        self._by_callers: dict[str, int] = {}

    def bump(self, tables: Iterable[str], *, callers: bool = True) -> None:
        by_table, by_callers = self._by_table, self._by_callers
        for table in tables:
            by_table[table] = by_table.get(table, 0) + 1
            if callers:
                by_callers[table] = by_callers.get(table, 0) + 1

    def callers_now(self) -> dict[str, int]:
        """:meth:`now` of the writes made outside :func:`background_writes`."""
        return dict(self._by_callers)

    def callers_of(
        self, tables: tuple[str, ...], at: dict[str, int] | None = None
    ) -> tuple[int, ...]:
        """:meth:`of` the writes made outside :func:`background_writes` (``at``: from
        :meth:`callers_now`)."""
        get = (self._by_callers if at is None else at).get
        return (get(ALL, 0), *(get(t, 0) for t in tables))

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


_background: ContextVar[bool] = ContextVar("hub_background_writes", default=False)


@contextmanager
def background_writes() -> Iterator[None]:
    """The writes of this context (this task and the tasks and greenlets it starts) are
    made for no caller of this process (the ingest, a singleton job): still counted, and
    told apart (:meth:`Generations.callers_of` leaves them out)."""
    token = _background.set(True)
    try:
        yield
    finally:
        _background.reset(token)


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
        callers = not _background.get()
        GENERATIONS.bump(tables, callers=callers)
        key = "hub_written" if callers else "hub_written_background"
        conn.info.setdefault(key, set()).update(tables)
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
    written = record.info.pop("hub_written_background", None)
    if written:
        GENERATIONS.bump(written, callers=False)


def _with_volatile(tables: Iterable[str]) -> tuple[str, ...]:
    """``tables`` and their volatile columns' pseudo-tables (a reader of a table reads all
    of its columns unless it says otherwise)."""
    out = set(tables)
    out.update(f"{t}.{c}" for t, c in VOLATILE_COLUMNS if t in out)
    return tuple(sorted(out))


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


REFRESH_AFTER: Final = 0.5
"""Share of ``ttl_s`` after which a kept value in use is read again while every caller is
still served it (:meth:`Memo.get`)."""
MAX_RENEWING: Final = 64
"""Renewals a memo runs in the background at once; past this a due value is read again by
the caller that found it due (in line), as without a way to renew it."""


class Memo(Generic[K, V]):
    """Values read from the database, trusted while the tables they were read from have
    not been written by this process and for at most ``ttl_s``.

        at = memo.now()                      # before reading
        with recording() as tables:
            value = await read(...)
        memo.put(key, tables, at, value)     # or name the tables read
        memo.get(key)                        # the value, or None once stale

    Stale while renewing: once a value is :data:`REFRESH_AFTER` of ``ttl_s`` old, the
    first :meth:`get` that passes ``renew`` starts one background task that reads it again
    (one per key, at most :data:`MAX_RENEWING` at once; kept referenced, cancelled when
    :meth:`renewing` ends) and every caller, that one included, is served the kept value
    meanwhile: a value in steady use is renewed before it runs out and no request waits
    for that read (the p99 tail of every kept read, once per ``ttl_s``). A failed renewal
    is logged and counted (:attr:`renew_failures`) and drops the value, so the next caller
    reads it again in line (and meets the error itself). Without ``renew`` the first
    caller past the mark is answered None and reads it again in line while the others are
    served (refresh ahead). Nothing is served past ``ttl_s`` or after a write to its
    tables.
    """

    def __init__(
        self,
        ttl_s: float = 1.0,
        max_entries: int = 10_000,
        max_bytes: int = 64 << 20,
        *,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        """Past this many bytes put (``size=``) since it was last emptied, the memo is
        emptied: it never holds more, however many distinct keys are asked for."""
        self.sessions = sessions
        """Sessions of its own for :func:`remembered` to renew a value in the background
        with (None: renewed in line by a caller)."""
        self._bytes = 0
        self._entries: dict[K, list[Any]] = {}
        """key -> [tables, their generations, expiry, refresh due (0: claimed), value]"""
        self.building: dict[Hashable, asyncio.Event] = {}
        """Keys being read now (:func:`remembered`: the others wait for that read)."""
        self._renewing: dict[Hashable, asyncio.Task[None]] = {}
        self._closed = True  # until renewing() is entered
        self._failing = False
        self.hits = 0
        self.misses = 0
        self.renewals = 0
        """Background renewals started."""
        self.renew_failures = 0
        """Background renewals that raised or did not keep a new value."""

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    @staticmethod
    def now() -> dict[str, int]:
        return GENERATIONS.now()

    def get(self, key: K, renew: Callable[[], Awaitable[object]] | None = None) -> V | None:
        """The kept value of ``key`` (None when missing or stale). Once it is due for
        renewal, ``renew()`` (which puts the new value) runs in the background for the
        first caller that passes it; without ``renew`` that caller gets None."""
        entry = self._entries.get(key)
        if entry is not None:
            tables, stamp, until, refresh, value = entry
            now = time.monotonic()
            if stamp == GENERATIONS.of(tables) and now < until:
                if refresh and now >= refresh:
                    entry[3] = 0.0  # claimed: renewed once, by one caller
                    if renew is None or not self._renew(key, entry, renew):
                        self.misses += 1
                        return None  # this caller reads it again, the rest hit
                self.hits += 1
                return value  # type: ignore[no-any-return]
            del self._entries[key]
        self.misses += 1
        return None

    def _renew(self, key: K, entry: list[Any], renew: Callable[[], Awaitable[object]]) -> bool:
        """Start renewing ``key`` in the background; False when it cannot (closed, too
        many renewals running): the caller reads it in line then."""
        if key in self.building or key in self._renewing:
            return True  # a read of it is under way already
        if self._closed or len(self._renewing) >= MAX_RENEWING:
            return False
        self.renewals += 1
        done = self.building[key] = asyncio.Event()  # callers that miss wait for it
        # a context of its own: the caller's recording()/counting() do not see its reads
        task = asyncio.get_running_loop().create_task(
            self._renewal(key, entry, renew, done),
            name=f"memo-renew {key!r}"[:200],
            context=Context(),
        )
        self._renewing[key] = task
        return True

    async def _renewal(
        self,
        key: K,
        entry: list[Any],
        renew: Callable[[], Awaitable[object]],
        done: asyncio.Event,
    ) -> None:
        try:
            await renew()
        except Exception as exc:  # a renewal must not end anything else
            self._renew_failed(key, exc)
        else:
            if self._entries.get(key) is entry:  # it kept no new value (an error response)
                self._renew_failed(key, None)
            elif self._failing:
                self._failing = False
                _log.info("renewing kept reads works again (%r)", key)
        finally:
            if self._entries.get(key) is entry:
                del self._entries[key]  # not renewed: the next caller reads it again
            if self.building.get(key) is done:
                del self.building[key]
            self._renewing.pop(key, None)
            done.set()

    def _renew_failed(self, key: K, exc: BaseException | None) -> None:
        self.renew_failures += 1
        if self._failing:  # logged once until one works again
            _log.debug("renewing %r failed again: %r", key, exc)
            return
        self._failing = True
        if exc is None:
            _log.warning("renewing %r kept no value (an error response); read again in line", key)
        else:
            _log.warning("renewing %r failed; read again in line", key, exc_info=exc)

    @asynccontextmanager
    async def renewing(self) -> AsyncIterator[None]:
        """Renew due values in the background while open (its owner's lifespan); at the
        end the renewals under way are cancelled and waited for. Closed, a due value is
        read again in line by the caller that found it due."""
        self._closed = False
        try:
            yield
        finally:
            self._closed = True
            tasks = list(self._renewing.values())
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    def put(
        self,
        key: K,
        tables: Iterable[str],
        at: dict[str, int],
        value: V,
        *,
        volatile: bool = True,
        size: int = 0,
        since: float | None = None,
    ) -> None:
        """Keep ``value``, read from ``tables`` after ``at`` (:meth:`now`). ``volatile``
        False: the value shows none of :data:`VOLATILE_COLUMNS`. ``since``: when its read
        began (``time.monotonic()``; default now): it expires ``ttl_s`` after."""
        if self.ttl_s <= 0:
            return
        self._bytes += size
        if len(self._entries) >= self.max_entries or self._bytes > self.max_bytes:
            self.clear()
            self._bytes = size
        names = _with_volatile(tables) if volatile else tuple(sorted(set(tables)))
        now = time.monotonic() if since is None else since
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
    memo: Memo[Any, V],
    key: Hashable,
    read: Callable[[Any], Awaitable[V]],
    session: Any,
    *,
    volatile: bool = True,
) -> V:
    """``memo``'s value for ``key``, else ``await read(session)`` kept with the tables it
    read. A value due for renewal is read again in the background by ``read`` on a
    session of ``memo.sessions`` (when it has some; else by this caller, in line), so
    ``read`` must use only the session (or connection) it is given. ``volatile`` False:
    the value shows none of :data:`VOLATILE_COLUMNS`."""
    if not memo.enabled:
        return await read(session)

    async def read_and_keep(on: Any) -> V:
        at = memo.now()
        since = time.monotonic()
        with recording() as tables:
            value = await read(on)
        memo.put(key, tables, at, value, volatile=volatile, since=since)
        return value

    renew = None
    if memo.sessions is not None:
        sessions = memo.sessions

        async def renew() -> None:
            async with sessions() as own:
                await read_and_keep(own)

    hit = memo.get(key, renew)
    if hit is None and key in memo.building:
        # one reads, the others wait for it and check it again (a write since it started
        # makes it stale for them too)
        await memo.building[key].wait()
        hit = memo.get(key, renew)
    if hit is not None:
        return hit
    if key in memo.building:  # another read started after this one's: no need to wait
        return await read_and_keep(session)
    done = memo.building[key] = asyncio.Event()
    try:
        return await read_and_keep(session)
    finally:
        if memo.building.get(key) is done:
            del memo.building[key]
        done.set()
