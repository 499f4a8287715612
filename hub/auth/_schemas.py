"""Request and response bodies of auth: login, API keys, users, the audit log, edges."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import Meta

from hub._dto import Id, In, Name, Out

# --------------------------------------------------------------------------- security


class LoginIn(In, kw_only=True):
    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Annotated[str, Meta(min_length=1, max_length=256)]


class TokenOut(Out, kw_only=True):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    role: str


class Me(Out, kw_only=True):
    user_id: str
    username: str
    role: str
    via: str


class ApiKeyCreate(In, kw_only=True):
    name: Name


class ApiKeyOut(Out, kw_only=True):
    id: str
    name: str
    key: str
    """Shown once; only its hash is stored."""
    prefix: str


class UserCreate(In, kw_only=True):
    username: Annotated[
        str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$(?!\n)")
    ]
    password: Annotated[str, Meta(min_length=8, max_length=256)]
    role: Literal["viewer", "operator", "trader", "admin"]


class UserUpdate(In, kw_only=True):
    disabled: bool | None = None
    role: Literal["viewer", "operator", "trader", "admin"] | None = None


class UserOut(Out, kw_only=True):
    id: str
    username: str
    role: str
    disabled: bool
    created_at: dt.datetime


class AuditOut(Out, kw_only=True):
    id: int
    ts: dt.datetime
    actor: str
    role: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(Out, kw_only=True):
    items: list[AuditOut]
    total: int
    page: int
    size: int


class EdgeCreate(In, kw_only=True):
    id: Id
    name: Annotated[str, Meta(max_length=100)] = ""
    tenant: Id | None = None
    """The edge's tenant (its topics' ``vpp/v1/{tenant}/...``); default ``VPP_HUB_TENANT``."""


class EdgeOut(Out, kw_only=True):
    id: str
    tenant: str
    name: str
    mqtt_username: str
    online: bool
    last_seen: dt.datetime | None


class EdgeCredentials(Out, kw_only=True):
    edge: EdgeOut
    mqtt_password: str
    agent_config_toml: str
    acl: str
