"""The strategy lifecycle (seed 3.1.5 ``status``): which transitions exist and who may make
them. Pure; the service checks the facts (a finished backtest of the current config) and
calls :func:`transition_problem`.

::

    DRAFT ──▶ TESTING ──▶ ACTIVE ◀──▶ SUSPENDED
      ▲          │  ▲                    │
      └──────────┘  └────────────────────┘ (and SUSPENDED ──▶ DRAFT)

* DRAFT → TESTING: the config is ready to be backtested.
* TESTING → ACTIVE, SUSPENDED → ACTIVE: only with a COMPLETED backtest of the strategy's
  current type and config, by a trader or an admin.
* ACTIVE → SUSPENDED: a trader, an admin or the circuit breaker (the system).
* TESTING → DRAFT, SUSPENDED → TESTING / DRAFT: back to editing or testing.
* An ACTIVE strategy's type and config do not change (suspend it first), and a VPP has at
  most one ACTIVE strategy (two would both bid for the same resources).
"""

from __future__ import annotations

from typing import Final, Literal

Status = Literal["DRAFT", "TESTING", "ACTIVE", "SUSPENDED"]

TRADERS: Final = ("trader", "admin")
"""Roles that write strategies (viewers and operators read them)."""

TRANSITIONS: Final[frozenset[tuple[Status, Status]]] = frozenset(
    {
        ("DRAFT", "TESTING"),
        ("TESTING", "DRAFT"),
        ("TESTING", "ACTIVE"),
        ("ACTIVE", "SUSPENDED"),
        ("SUSPENDED", "ACTIVE"),
        ("SUSPENDED", "TESTING"),
        ("SUSPENDED", "DRAFT"),
    }
)


def transition_problem(
    current: Status, target: Status, *, role: str, backtested: bool
) -> str | None:
    """Why ``current -> target`` is refused (None: allowed). ``backtested``: the strategy
    has a COMPLETED backtest of its current type and config."""
    if role not in TRADERS:
        return f"only a trader or an admin changes a strategy's status (caller: {role})"
    if current == target:
        return None
    if (current, target) not in TRANSITIONS:
        allowed = sorted(t for c, t in TRANSITIONS if c == current)
        return f"{current} -> {target} is not a transition (from {current}: {', '.join(allowed)})"
    if target == "ACTIVE" and not backtested:
        return (
            "only a strategy with a finished (COMPLETED) backtest of its current config "
            "may become ACTIVE"
        )
    return None


def editable(status: str) -> bool:
    """Whether the type and config may change in this status."""
    return status != "ACTIVE"
