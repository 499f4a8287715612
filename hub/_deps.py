"""Dependencies shared by the controllers: the hub context, a session, the caller, paging."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Annotated, Any, TypeVar

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub._context import HubContext
from hub.auth import Principal, current
from hub.errors import NotFoundError

T = TypeVar("T")


def provide_ctx(state: State) -> HubContext:
    ctx: HubContext = state.hub
    return ctx


async def provide_session(
    state: State, request: Request[Any, Any, Any]
) -> AsyncGenerator[AsyncSession, None]:
    """A session on the primary; for a GET one without an explicit transaction (reads
    see what is committed, as before, with two round trips fewer), unless the route says
    it writes (``opt={"writes": True}``: a GET that stores what it fetched)."""
    ctx: HubContext = state.hub
    reads = request.method == "GET" and not request.route_handler.opt.get("writes")
    sessions = ctx.primary_reads if reads else None
    async with (sessions or ctx.sessions)() as session:
        yield session


async def provide_reader(state: State) -> AsyncGenerator[AsyncSession, None]:
    """A session for read-only queries that need not see their own writes:
    :meth:`HubContext.reader` (the read replica when configured)."""
    ctx: HubContext = state.hub
    async with ctx.reader()() as session:
        yield session


_log = logging.getLogger(__name__)
_REPLICA_WARN_S = 60.0
_replica_warned = [-_REPLICA_WARN_S]


async def on_reader(ctx: HubContext, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """``read`` in a session of :meth:`HubContext.reader` (the read replica when one is
    configured). The primary answers instead when the replica cannot be reached (a warning
    a minute at most), and when the replica does not know what the request names
    (``NotFoundError``: created on the primary within the replication lag), so a row just
    created is never reported missing; its data may still lag."""
    if ctx.read_sessions is not None:
        async with ctx.read_sessions() as session:
            try:
                await session.connection()
            except (OSError, TimeoutError, DBAPIError) as exc:
                now = time.monotonic()
                if now - _replica_warned[0] >= _REPLICA_WARN_S:
                    _replica_warned[0] = now
                    _log.warning("read replica unreachable (%s): reading the primary", exc)
            else:
                try:
                    return await read(session)
                except NotFoundError:
                    pass
    async with (ctx.primary_reads or ctx.sessions)() as session:  # no BEGIN/ROLLBACK
        return await read(session)


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return current(request)


Page = Annotated[int, QueryParameter(ge=1, le=1_000_000, description="1-based page number")]
Size = Annotated[int, QueryParameter(ge=1, le=500, description="items per page")]

Session = NamedDependency[AsyncSession]
Reader = NamedDependency[AsyncSession]
Ctx = NamedDependency[HubContext]
Caller = NamedDependency[Principal]
