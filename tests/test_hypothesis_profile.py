"""The suite's Hypothesis profile (tests/conftest.py)."""

from __future__ import annotations

from hypothesis import settings


def test_properties_have_no_wall_clock_deadline() -> None:
    """A loaded CI machine must not fail a property for being slow (200 ms by default):
    every ``@given`` without a deadline of its own runs under this profile."""
    assert settings().deadline is None
