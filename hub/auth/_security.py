"""Authentication and authorisation: argon2 passwords, JWT sessions, API keys, roles.

Every request under ``/api/`` except the login carries either ``Authorization: Bearer
<jwt>`` or ``X-API-Key: <key>``; the middleware turns it into a :class:`Principal` or
answers 401. Both are checked against the ``users`` row on every request: a disabled or
deleted user is refused at once, and a role change applies to tokens already issued.
Handlers declare the roles they accept with :func:`requires` (403 otherwise).

Roles: ``viewer`` reads; ``operator`` also manages templates, instances, VPPs and
dispatch; ``trader`` reads and dispatches; ``admin`` does everything, including users,
API keys and the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any, Final, Literal

import jwt
import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.errors import ForbiddenError, UnauthorizedError
from hub.store import ApiKey, User

Role = Literal["viewer", "operator", "trader", "admin"]
ALL_ROLES: Final[tuple[Role, ...]] = ("viewer", "operator", "trader", "admin")
WRITERS: Final[tuple[Role, ...]] = ("operator", "admin")
DISPATCHERS: Final[tuple[Role, ...]] = ("operator", "trader", "admin")
ADMINS: Final[tuple[Role, ...]] = ("admin",)

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
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"])
            return Principal(
                user_id=str(claims["sub"]),
                username=str(claims["name"]),
                role=claims["role"] if claims["role"] in ALL_ROLES else "viewer",
            )
        except (jwt.PyJWTError, KeyError) as exc:
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


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Bearer JWT or X-API-Key; anything else on a protected route is 401.

    The token service and sessions come from the app's state (owned by the lifespan).
    """

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        ctx = connection.app.state.hub
        sessions: async_sessionmaker[AsyncSession] = ctx.sessions
        authorization = connection.headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            tokens: TokenService = ctx.tokens
            claimed = tokens.check(authorization[7:].strip())
            async with sessions() as session:  # one primary-key read
                principal = await principal_for_user(session, claimed)
            return AuthenticationResult(user=principal, auth="jwt")
        key = connection.headers.get("x-api-key")
        if key:
            async with sessions() as session:
                principal = await principal_for_api_key(session, key)
            return AuthenticationResult(user=principal, auth="api_key")
        raise UnauthorizedError("credentials required: Authorization: Bearer <token> or X-API-Key")


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
