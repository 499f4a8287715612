"""Authentication and authorisation: argon2 passwords, JWT sessions, API keys, roles.

Every request under ``/api/`` except the login carries either ``Authorization: Bearer
<jwt>`` or ``X-API-Key: <key>``; the middleware turns it into a :class:`Principal` or
answers 401. Both are checked against the ``users`` row: a disabled or deleted user is
refused at once, and a role change applies to tokens already issued. The check is cached
per app for :data:`AUTH_CACHE_S` and the cache is dropped after every commit in this
process that wrote a ``users`` or ``api_keys`` row (so a change made through this hub
applies to the very next request; one made by another process, a second ``--workers``
worker or ``vpp hub user``, within :data:`AUTH_CACHE_S`).
Handlers declare the roles they accept with :func:`requires` (403 otherwise).

Roles: ``viewer`` reads; ``operator`` also manages templates, instances, VPPs and
dispatch; ``trader`` reads and dispatches; ``admin`` does everything, including users,
API keys and the audit log.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal

import jwt
import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from hub.errors import ForbiddenError, UnauthorizedError
from hub.store import ApiKey, User

Role = Literal["viewer", "operator", "trader", "admin"]
ALL_ROLES: Final[tuple[Role, ...]] = ("viewer", "operator", "trader", "admin")
WRITERS: Final[tuple[Role, ...]] = ("operator", "admin")
DISPATCHERS: Final[tuple[Role, ...]] = ("operator", "trader", "admin")
ADMINS: Final[tuple[Role, ...]] = ("admin",)
TRADERS: Final[tuple[Role, ...]] = ("trader", "admin")
"""Who configures markets, submits bids, sets risk limits and resets a breaker."""

API_KEY_PREFIX: Final = "lt_"
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not-a-password")


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: a user by session or by one of their API keys."""

    user_id: str
    username: str
    role: Role
    via: Literal["jwt", "api_key"] = "jwt"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-work check (an unknown user still pays one argon2 verification)."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_api_key() -> tuple[str, str]:
    """A fresh key and its SHA-256 (what is stored)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class TokenService:
    """Issues and checks HS256 JWTs."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._secret = secret or secrets.token_urlsafe(48)
        self.ttl_s = ttl_s

    def issue(self, principal: Principal) -> str:
        now = int(time.time())
        claims = {
            "sub": principal.user_id,
            "name": principal.username,
            "role": principal.role,
            "iat": now,
            "exp": now + self.ttl_s,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def check(self, token: str) -> Principal:
        return self.check_with_expiry(token)[0]

    def check_with_expiry(self, token: str) -> tuple[Principal, float]:
        """The token's principal and its ``exp`` (epoch seconds)."""
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"])
            principal = Principal(
                user_id=str(claims["sub"]),
                username=str(claims["name"]),
                role=claims["role"] if claims["role"] in ALL_ROLES else "viewer",
            )
            return principal, float(claims.get("exp", float("inf")))
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
            raise UnauthorizedError("invalid or expired token") from exc


async def principal_for_user(session: AsyncSession, claimed: Principal) -> Principal:
    """The caller of a valid token as the database has them now: a deleted or disabled
    user is 401, and the role is the user's current one (not the one in the token)."""
    user = await session.get(User, claimed.user_id)
    if user is None or user.disabled:
        raise UnauthorizedError("the user of this token no longer exists or is disabled")
    return Principal(user_id=user.id, username=user.username, role=user.role)  # type: ignore[arg-type]


async def principal_for_api_key(session: AsyncSession, key: str) -> Principal:
    row = (
        await session.execute(
            select(User)
            .join(ApiKey, ApiKey.user_id == User.id)
            .where(ApiKey.key_hash == hash_api_key(key), ApiKey.revoked.is_(False))
        )
    ).scalar_one_or_none()
    if row is None or row.disabled:
        raise UnauthorizedError("invalid API key")
    return Principal(user_id=row.id, username=row.username, role=row.role, via="api_key")  # type: ignore[arg-type]


AUTH_CACHE_S: Final = 1.0
"""How long a checked token or API key is trusted without reading its user again, unless
a user or API key was written in this process meanwhile (then at once)."""
AUTH_CACHE_ENTRIES: Final = 10_000
AUTH_REFRESH_AFTER: Final = 0.5
"""Share of :data:`AUTH_CACHE_S` after which one request reads the user again while the
others are still served the cached principal (:meth:`PrincipalCache.get`)."""


class _Writes:
    """The write generation: bumped after every commit in this process that wrote a User or
    ApiKey row (a cache entry read at an older generation is not trusted)."""

    generation = 0


_WRITES = _Writes()


@event.listens_for(Session, "after_flush")
def _note_auth_writes(session: Session, _: UOWTransaction) -> None:
    # In after_flush the new/dirty/deleted sets still hold what was just written.
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, User | ApiKey):
            session.info["auth_written"] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_auth_writes(state: ORMExecuteState) -> None:
    # update(User)/delete(User) through a session bypass the flush.
    mapper = state.bind_mapper
    written = state.is_update or state.is_delete
    if written and mapper is not None and mapper.class_ in (User, ApiKey):
        state.session.info["auth_written"] = True


@event.listens_for(Session, "after_commit")
def _drop_auth_cache(session: Session) -> None:
    if session.info.pop("auth_written", False):
        _WRITES.generation += 1


@event.listens_for(Session, "after_soft_rollback")
def _forget_auth_writes(session: Session, _: object) -> None:
    session.info.pop("auth_written", None)


class PrincipalCache:
    """Credentials (a bearer token or an API key's hash) -> the principal read from the
    database, with the write generation it was read at and when it stops being trusted."""

    def __init__(self) -> None:
        self._entries: dict[str, list[Any]] = {}
        """key -> [principal, write generation, expiry, refresh due (0: claimed), exp]"""
        self.loading: dict[str, asyncio.Event] = {}
        """Credentials whose user is being read now: concurrent requests with them wait
        for that read instead of each reading the user (then check the cache again)."""
        self.reads = 0
        """Principals read from the database (one statement on a connection of its own
        each), for the counters of a route's own work."""

    def get(self, key: str) -> Principal | None:
        """The principal while it is trusted. Refresh ahead (as ``hub.store.Memo``): past
        :data:`AUTH_REFRESH_AFTER` of :data:`AUTH_CACHE_S` the first caller gets None and
        reads the user again while the others are still served the entry until it
        expires, so concurrent requests with one token do not all wait for that read
        once a second. A user or API key written in this process (disabled, deleted, a
        new role) is never served from an older entry."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        principal, generation, until, refresh, expires_at = entry
        now = time.monotonic()
        if generation != _WRITES.generation or now > until:
            del self._entries[key]
            return None
        if time.time() >= expires_at:  # the token's own exp
            del self._entries[key]
            return None
        if refresh and now >= refresh and key not in self.loading:
            entry[3] = 0.0  # claimed: this caller reads the user, the others go on
            return None
        return principal  # type: ignore[no-any-return]

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)

    def put(self, key: str, principal: Principal, generation: int, expires_at: float) -> None:
        if len(self._entries) >= AUTH_CACHE_ENTRIES:
            self._entries.clear()
        now = time.monotonic()
        self._entries[key] = [
            principal,
            generation,
            now + AUTH_CACHE_S,
            now + AUTH_CACHE_S * AUTH_REFRESH_AFTER,
            expires_at,
        ]


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Bearer JWT or X-API-Key; anything else on a protected route is 401.

    The token service and sessions come from the app's state (owned by the lifespan); the
    :class:`PrincipalCache` lives in the app's state too (one per app, shared by routes).
    """

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        state = connection.app.state
        ctx = state.hub
        cache: PrincipalCache | None = getattr(state, "auth_cache", None)
        if cache is None:
            cache = state.auth_cache = PrincipalCache()
        authorization = connection.headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
            principal = cache.get(token)
            if principal is None:
                tokens: TokenService = ctx.tokens
                claimed, expires_at = tokens.check_with_expiry(token)
                if token in cache.loading:
                    await cache.loading[token].wait()
                    principal = cache.get(token)
            if principal is None:
                principal = await _read_once(
                    cache, token, expires_at, lambda s: principal_for_user(s, claimed), ctx
                )
            return AuthenticationResult(user=principal, auth="jwt")
        key = connection.headers.get("x-api-key")
        if key:
            cached = "key:" + key
            principal = cache.get(cached)
            if principal is None and cached in cache.loading:
                await cache.loading[cached].wait()
                principal = cache.get(cached)
            if principal is None:
                principal = await _read_once(
                    cache, cached, float("inf"), lambda s: principal_for_api_key(s, key), ctx
                )
            return AuthenticationResult(user=principal, auth="api_key")
        raise UnauthorizedError("credentials required: Authorization: Bearer <token> or X-API-Key")


async def _read_once(
    cache: PrincipalCache,
    key: str,
    expires_at: float,
    read: Callable[[AsyncSession], Awaitable[Principal]],
    ctx: Any,
) -> Principal:
    """``read`` the principal (one primary-key read) and cache it; while it runs, other
    requests with the same credentials wait for it (:attr:`PrincipalCache.loading`)."""
    generation = _WRITES.generation  # before the read: a write meanwhile wins
    done = None if key in cache.loading else cache.loading.setdefault(key, asyncio.Event())
    try:
        sessions: async_sessionmaker[AsyncSession] = ctx.sessions
        cache.reads += 1
        async with sessions() as session:
            principal = await read(session)
        cache.put(key, principal, generation, expires_at)
        return principal
    except UnauthorizedError:
        cache.drop(key)  # a refresh found the user gone: nobody is served the old entry
        raise
    finally:
        if done is not None:
            del cache.loading[key]
            done.set()


def current(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise UnauthorizedError("credentials required")
    return user


def requires(*roles: Role) -> Any:
    """A guard admitting only ``roles``."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = current(connection)
        if principal.role not in allowed:
            needs = ", ".join(sorted(allowed))
            raise ForbiddenError(f"role {principal.role!r} may not do this (needs one of {needs})")

    return guard
