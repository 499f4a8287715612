"""REST API: one Litestar Controller per resource."""

from ._admin import AuditController, EdgeController, UserController
from ._auth import AuthController
from ._instances import ResourceInstanceController
from ._ops import OpsController
from ._templates import ResourceTemplateController
from ._trading import TradingController
from ._vpps import VppController

CONTROLLERS = (
    OpsController,
    AuthController,
    ResourceTemplateController,
    ResourceInstanceController,
    VppController,
    TradingController,
    UserController,
    AuditController,
    EdgeController,
)

__all__ = [
    "CONTROLLERS",
    "AuditController",
    "AuthController",
    "EdgeController",
    "OpsController",
    "ResourceInstanceController",
    "ResourceTemplateController",
    "TradingController",
    "UserController",
    "VppController",
]
