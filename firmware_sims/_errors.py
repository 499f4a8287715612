"""The one root exception of the simulators.

::

    SimError
    ├── SimConfigError   a site config or preset is malformed (names the field)
    └── SimControlError  a fault/control request is malformed or names an unknown device
"""

from __future__ import annotations


class SimError(Exception):
    """Root of every error raised by :mod:`firmware_sims`."""


class SimConfigError(SimError, ValueError):
    """A site configuration (TOML, preset or arguments) is invalid."""


class SimControlError(SimError, ValueError):
    """A control request (fault injection) is invalid."""
