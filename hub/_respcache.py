"""A short-lived cache of GET responses that only the database makes, invalidated by writes.

A route opts in with ``@get(..., opt={"cached": True})`` when its response is made of
database rows only (no live cache, no in-process state). Its 200 responses are kept per
(path, query, Accept, caller's role, tenant) with the generations of the tables its
statements read (recorded as they run), taken before the handler ran
(:mod:`hub.store._versions`); a hit needs the same generations (no write to those tables
in this process since, the write's commit included) and an age under ``ttl_s``
(``Settings.response_cache_s``, 1 s: what another process wrote, another replica
included, is seen within that, as with the token cache). The middleware runs after
authentication, so a disabled user is refused as before; guards run inside the handler
and depend on the role only, so the role is part of the key and a response made for one
role is never served to another. Errors are not kept (problem details are made anew).
A kept response due for renewal (half ``ttl_s`` old) is made again by one background
task while every caller is still served the kept one (:class:`hub.store.Memo`), so no
request waits for a report being made again; a write still makes it stale at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPRequestEvent, Message, Receive, Scope, Send

from .store import Memo, recording

MAX_BODY = 1 << 20
"""Responses larger than this (1 MiB) are not kept."""

Key = tuple[str, bytes, bytes, str, str]
Entry = tuple[int, list[tuple[bytes, bytes]], bytes]


def response_cache(memo: Memo[Key, Entry], tenant: str) -> Any:
    """The middleware factory over one app's ``memo``. A kept response due for renewal
    is served to every caller while one background task makes it again (the request's
    scope, a fresh connection state, no body, its output kept and not sent:
    :meth:`Memo.get`)."""

    def factory(app: ASGIApp) -> ASGIApp:
        building = memo.building

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            handler = scope.get("route_handler")
            cached = handler is not None and handler.opt.get("cached") and memo.enabled
            if not cached or scope["type"] != ScopeType.HTTP or scope["method"] != "GET":
                await app(scope, receive, send)
                return
            user = scope.get("user")
            accept = b""
            for name, value in scope["headers"]:
                if name == b"accept":
                    accept = value
                    break
            key: Key = (
                scope["path"],
                scope.get("query_string", b""),
                accept,
                str(getattr(user, "role", "")),
                tenant,
            )

            def renew() -> Awaitable[None]:
                # the handler again for this caller's role, as a request of its own
                again: Scope = {**scope, "state": {}}
                return _make(app, memo, again, _no_body, _discard, key)

            hit = memo.get(key, renew)
            if hit is None and key in building:
                # One request makes a missing response, the others wait for it and check
                # it again (a write after it started makes it stale for them too).
                await building[key].wait()
                hit = memo.get(key, renew)
            if hit is not None:
                status, headers, body = hit
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            if key not in building:
                done = building[key] = asyncio.Event()
                try:
                    await _make(app, memo, scope, receive, send, key)
                finally:
                    if building.get(key) is done:
                        del building[key]
                    done.set()
                return
            await _make(app, memo, scope, receive, send, key)

        return middleware

    return factory


async def _make(
    app: ASGIApp, memo: Memo[Key, Entry], scope: Scope, receive: Receive, send: Send, key: Key
) -> None:
    """Run ``app`` for ``scope``, keeping a 200 response (at most :data:`MAX_BODY`) in
    ``memo`` with the tables its statements read."""
    at = memo.now()
    since = time.monotonic()
    start: dict[str, Any] = {}
    chunks: list[bytes] = []
    size = 0

    async def keep(message: Message) -> None:
        nonlocal size
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body" and start.get("status") == 200:
            body = message.get("body", b"")
            size += len(body)
            chunks.append(body)
            if not message.get("more_body", False) and size <= MAX_BODY:
                headers = list(start.get("headers", []))
                entry = (200, headers, b"".join(chunks))
                memo.put(key, tables, at, entry, size=size, since=since)
        await send(message)

    with recording() as tables:
        await app(scope, receive, keep)


async def _no_body() -> HTTPRequestEvent:
    """A renewal's request: a GET without a body."""
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(_message: Message) -> None:
    """A renewal's response goes only to the memo."""


def hit_rate(memo: Memo[Any, Any]) -> float:
    """Share of lookups answered from the memo (for tests and the bench)."""
    total = memo.hits + memo.misses
    return memo.hits / total if total else 0.0


__all__ = ["Entry", "Key", "hit_rate", "response_cache"]
