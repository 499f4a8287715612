"""Dependencies shared by the controllers: the hub context, a session, the caller, paging."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from hub._context import HubContext
from hub.auth import Principal, current


def provide_ctx(state: State) -> HubContext:
    ctx: HubContext = state.hub
    return ctx


async def provide_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    ctx: HubContext = state.hub
    async with ctx.sessions() as session:
        yield session


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return current(request)


Page = Annotated[int, QueryParameter(ge=1, le=1_000_000, description="1-based page number")]
Size = Annotated[int, QueryParameter(ge=1, le=500, description="items per page")]

Session = NamedDependency[AsyncSession]
Ctx = NamedDependency[HubContext]
Caller = NamedDependency[Principal]
