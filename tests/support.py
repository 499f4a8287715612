"""Helpers shared by every test package (import as ``tests.support``)."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
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


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback TCP port where a connection is refused for as long as the block runs:
    bound but never listening, so no other test (another xdist worker's server) can take
    it meanwhile, as it can a port a ``free_port()`` found free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
