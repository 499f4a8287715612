"""``/api/v1/auth``: console login (JWT), the caller, API keys."""

from __future__ import annotations

import asyncio

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import select

from hub._deps import Caller, Ctx, Session
from hub.errors import ForbiddenError, NotFoundError, UnauthorizedError
from hub.store import ApiKey, User, new_id

from ._schemas import ApiKeyCreate, ApiKeyOut, LoginIn, Me, TokenOut
from ._security import Principal, new_api_key, verify_password
from ._service import audit


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ("auth",)

    @post("/login", exclude_from_auth=True, status_code=200)
    async def login(self, session: Session, ctx: Ctx, data: JSONBody[LoginIn]) -> TokenOut:
        """Exchange a username and password for a bearer token."""
        user = (
            await session.execute(select(User).where(User.username == data.username))
        ).scalar_one_or_none()
        # argon2 takes tens of milliseconds of CPU: not on the event loop.
        ok = await asyncio.to_thread(
            verify_password, user.password_hash if user else None, data.password
        )
        if user is None or not ok or user.disabled:
            raise UnauthorizedError("wrong username or password")
        principal = Principal(user_id=user.id, username=user.username, role=user.role)  # type: ignore[arg-type]
        return TokenOut(
            access_token=ctx.tokens.issue(principal),
            expires_in=ctx.tokens.ttl_s,
            role=user.role,
        )

    @get("/me")
    async def me(self, principal: Caller) -> Me:
        return Me(
            user_id=principal.user_id,
            username=principal.username,
            role=principal.role,
            via=principal.via,
        )

    @post("/api-keys")
    async def create_api_key(
        self, session: Session, principal: Caller, data: JSONBody[ApiKeyCreate]
    ) -> ApiKeyOut:
        """A key for a machine acting as the caller (same role). Shown once."""
        owner = await session.get(User, principal.user_id)
        if owner is None or owner.disabled:
            raise UnauthorizedError("the calling user no longer exists or is disabled")
        key, digest = new_api_key()
        row = ApiKey(
            id=new_id(), user_id=principal.user_id, name=data.name, key_hash=digest, prefix=key[:10]
        )
        session.add(row)
        audit(
            session,
            principal,
            "create",
            "api_key",
            row.id,
            None,
            {"name": data.name, "prefix": row.prefix},
        )
        await session.commit()
        return ApiKeyOut(id=row.id, name=row.name, key=key, prefix=row.prefix)

    @delete("/api-keys/{key_id:str}")
    async def revoke_api_key(
        self, session: Session, principal: Caller, key_id: FromPath[str]
    ) -> None:
        """Revoke a key (its owner or an admin); it stops working at once."""
        row = await session.get(ApiKey, key_id)
        if row is None:
            raise NotFoundError(f"API key {key_id} not found")
        if row.user_id != principal.user_id and principal.role != "admin":
            raise ForbiddenError("only the key's owner or an admin may revoke it")
        if not row.revoked:
            row.revoked = True
            audit(
                session,
                principal,
                "revoke",
                "api_key",
                row.id,
                {"revoked": False, "prefix": row.prefix},
                {"revoked": True, "prefix": row.prefix},
            )
            await session.commit()
