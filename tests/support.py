"""Helpers shared by every test package (import as ``tests.support``)."""

from __future__ import annotations

import os
from typing import Final, NoReturn

import pytest

SAFETY_TIMEOUT: Final = 30.0
"""Upper bound for any single await in a test: a hang fails fast instead of at the global
timeout. It is a guard against deadlock, never a performance assertion. `make test` runs
three tests at a time on two cores, where starting a process can take many seconds."""

IN_CI: Final = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def service_missing(reason: str) -> NoReturn:
    """Skip locally, but fail under ``CI=true``: CI must never hide a missing service."""
    if IN_CI:
        pytest.fail(f"required service missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)  # only outside CI: with CI=true the line above fails the run
