"""Exceptions of the edge agent, one root per concern.

::

    AgentError                      anything the agent raises on purpose
    ├── ConfigError                 a config file or a pushed config that cannot be used
    └── DeviceError                 a device could not be read or written
        ├── DeviceTimeout           no answer within the configured timeout
        └── DeviceProtocolError     an answer that makes no sense (exception code, bad map)

Library errors (pymodbus, asyncua, sqlite, paho) never leave the module that uses the
library: they are translated at that seam with ``raise ... from exc``.
"""

from __future__ import annotations


class AgentError(Exception):
    """Root of every error the edge agent raises on purpose."""


class ConfigError(AgentError):
    """Configuration that cannot be used; ``field`` names the offending path."""

    def __init__(self, message: str, *, field: str = "$", line: int | None = None) -> None:
        where = f" (line {line})" if line is not None else ""
        super().__init__(f"{message}{where}")
        self.field = field
        self.line = line


class DeviceError(AgentError):
    """A device could not be read or written."""

    kind = "error"


class DeviceTimeout(DeviceError):  # noqa: N818 - the name is part of the contract
    """The device did not answer in time (or could not be connected to)."""

    kind = "timeout"


class DeviceProtocolError(DeviceError):
    """The device answered something unusable (exception response, unknown model)."""

    kind = "protocol"


__all__ = ["AgentError", "ConfigError", "DeviceError", "DeviceProtocolError", "DeviceTimeout"]
