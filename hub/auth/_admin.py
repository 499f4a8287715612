"""Admin resources: ``/api/v1/users``, ``/api/v1/audit-log``."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import func, select

from hub._deps import Caller, Page, Session, Size
from hub.errors import NotFoundError
from hub.store import AuditEntry, User, row_dict

from ._schemas import AuditOut, AuditPage, UserCreate, UserOut, UserUpdate
from ._security import ADMINS, requires
from ._service import audit, create_user


def _user_out(u: User) -> UserOut:
    return UserOut(
        id=u.id, username=u.username, role=u.role, disabled=u.disabled, created_at=u.created_at
    )


class UserController(Controller):
    path = "/api/v1/users"
    tags = ("admin",)
    guards = (requires(*ADMINS),)

    @get("/", opt={"cached": True})
    async def list_users(self, session: Session) -> list[UserOut]:
        return [_user_out(u) for u in await session.scalars(select(User).order_by(User.username))]

    @post("/")
    async def add_user(
        self, session: Session, principal: Caller, data: JSONBody[UserCreate]
    ) -> UserOut:
        user = await create_user(session, data.username, data.password, data.role)
        await session.flush()
        after = row_dict(user)
        after.pop("password_hash", None)
        audit(session, principal, "create", "user", user.id, None, after)
        await session.commit()
        return _user_out(user)

    @patch("/{user_id:str}")
    async def update_user(
        self,
        session: Session,
        principal: Caller,
        user_id: FromPath[str],
        data: JSONBody[UserUpdate],
    ) -> UserOut:
        """Disable or enable a user, or change their role; tokens and API keys already
        issued follow at once (they are checked against the user on every request)."""
        user = await session.get(User, user_id)
        if user is None:
            raise NotFoundError(f"user {user_id} not found")
        before = {"role": user.role, "disabled": user.disabled}
        if data.disabled is not None:
            user.disabled = data.disabled
        if data.role is not None:
            user.role = data.role
        audit(
            session,
            principal,
            "update",
            "user",
            user.id,
            before,
            {"role": user.role, "disabled": user.disabled},
        )
        await session.commit()
        return _user_out(user)


class AuditController(Controller):
    path = "/api/v1/audit-log"
    tags = ("admin",)
    guards = (requires(*ADMINS),)

    @get("/", opt={"cached": True})
    async def list_audit(
        self,
        session: Session,
        entity: Annotated[str | None, QueryParameter(max_length=50)] = None,
        entity_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        actor: Annotated[str | None, QueryParameter(max_length=100)] = None,
        page: Page = 1,
        size: Size = 50,
    ) -> AuditPage:
        """Every write, newest first: who, what, when, before and after."""
        query = select(AuditEntry)
        if entity is not None:
            query = query.where(AuditEntry.entity == entity)
        if entity_id is not None:
            query = query.where(AuditEntry.entity_id == entity_id)
        if actor is not None:
            query = query.where(AuditEntry.actor == actor)
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await session.scalars(
            query.order_by(AuditEntry.id.desc()).limit(size).offset((page - 1) * size)
        )
        items = [
            AuditOut(
                id=r.id,
                ts=r.ts,
                actor=r.actor,
                role=r.role,
                action=r.action,
                entity=r.entity,
                entity_id=r.entity_id,
                before=r.before,
                after=r.after,
            )
            for r in rows
        ]
        return AuditPage(items=items, total=total or 0, page=page, size=size)
