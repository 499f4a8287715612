"""Auth: users and roles, JWT sessions, API keys, the audit log, edge credentials.

Everything here does I/O (argon2, JWT, SQLAlchemy, Litestar) and loads lazily.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._admin import (
        AuditController,
        UserController,
    )
    from ._controller import (
        AuthController,
    )
    from ._edges import (
        EdgeController,
    )
    from ._security import (
        ADMINS,
        ALL_ROLES,
        DISPATCHERS,
        TRADERS,
        WRITERS,
        AuthMiddleware,
        Principal,
        Role,
        TokenService,
        current,
        hash_password,
        new_api_key,
        requires,
        verify_password,
    )
    from ._service import (
        SYSTEM,
        acl_lines,
        agent_config_toml,
        audit,
        audit_row,
        audit_values,
        create_edge,
        create_user,
    )

_LAZY = {
    "ADMINS": "._security",
    "ALL_ROLES": "._security",
    "DISPATCHERS": "._security",
    "WRITERS": "._security",
    "AuthMiddleware": "._security",
    "Principal": "._security",
    "Role": "._security",
    "TokenService": "._security",
    "TRADERS": "._security",
    "current": "._security",
    "hash_password": "._security",
    "new_api_key": "._security",
    "requires": "._security",
    "verify_password": "._security",
    "SYSTEM": "._service",
    "acl_lines": "._service",
    "agent_config_toml": "._service",
    "audit": "._service",
    "audit_row": "._service",
    "audit_values": "._service",
    "create_edge": "._service",
    "create_user": "._service",
    "AuthController": "._controller",
    "AuditController": "._admin",
    "UserController": "._admin",
    "EdgeController": "._edges",
}

__all__ = [
    "ADMINS",
    "ALL_ROLES",
    "DISPATCHERS",
    "SYSTEM",
    "TRADERS",
    "WRITERS",
    "AuditController",
    "AuthController",
    "AuthMiddleware",
    "EdgeController",
    "Principal",
    "Role",
    "TokenService",
    "UserController",
    "acl_lines",
    "agent_config_toml",
    "audit",
    "audit_row",
    "audit_values",
    "create_edge",
    "create_user",
    "current",
    "hash_password",
    "new_api_key",
    "requires",
    "verify_password",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
