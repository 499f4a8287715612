"""The Lingtan VPP edge agent: poll, protect, execute offline, store-and-forward.

Public interface::

    from edge_agent import Agent, load_config
    async with Agent(load_config("agent.toml")) as agent:
        ...

See ``docs/agent.md`` for the config format, the guarantees and the operations.
"""

from ._app import AGENT_VERSION, AdapterFactory, Agent, default_adapter_factory
from ._config import (
    AgentConfig,
    ChargerConfig,
    DefaultControlConfig,
    DeviceConfig,
    DeviceLimitsConfig,
    HubConfig,
    HvacConfig,
    MetricsConfig,
    OutboxConfig,
    RegisterMap,
    RegisterPoint,
    SiteLimitsConfig,
    SiteSection,
    load_config,
    parse_config,
)
from ._control import (
    CycleInput,
    Decision,
    ScheduleBook,
    decide,
    default_targets,
    limits_for,
)
from ._device import DeviceRunner, DeviceView, PointBuffer
from ._errors import AgentError, ConfigError, DeviceError, DeviceProtocolError, DeviceTimeout
from ._metrics import AgentMetrics
from ._outbox import Outbox, OutboxError, StoredRow
from ._pushed_config import merge_site_config
from ._safety import (
    Applied,
    Clamped,
    GuardContext,
    GuardResult,
    Limits,
    Rejected,
    SetpointRequest,
    allowed_range,
    guard,
    split_target,
)
from ._sync import HubLink

__all__ = [
    "AGENT_VERSION",
    "AdapterFactory",
    "Agent",
    "AgentConfig",
    "AgentError",
    "AgentMetrics",
    "Applied",
    "ChargerConfig",
    "Clamped",
    "ConfigError",
    "CycleInput",
    "Decision",
    "DefaultControlConfig",
    "DeviceConfig",
    "DeviceError",
    "DeviceLimitsConfig",
    "DeviceProtocolError",
    "DeviceRunner",
    "DeviceTimeout",
    "DeviceView",
    "GuardContext",
    "GuardResult",
    "HubConfig",
    "HubLink",
    "HvacConfig",
    "Limits",
    "MetricsConfig",
    "Outbox",
    "OutboxConfig",
    "OutboxError",
    "PointBuffer",
    "RegisterMap",
    "RegisterPoint",
    "Rejected",
    "ScheduleBook",
    "SetpointRequest",
    "SiteLimitsConfig",
    "SiteSection",
    "StoredRow",
    "allowed_range",
    "decide",
    "default_adapter_factory",
    "default_targets",
    "guard",
    "limits_for",
    "load_config",
    "merge_site_config",
    "parse_config",
    "split_target",
]
