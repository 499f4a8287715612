"""Singleton jobs: one leader per job across hub replicas, with a fencing token.

``async with elect(ctx, "trading-loop") as lease:`` (PostgreSQL advisory lock on a
dedicated connection; an in-process lock on SQLite), or a :class:`SingletonJob` in
``hub.app.JOBS`` that the lifespan's :class:`JobSupervisor` runs every ``interval_s``.
Writes call ``await lease.check(session)`` in their transaction.
"""

from ._builtin import SCHEDULE_REPAIR, TELEMETRY_RETENTION, repair_schedules, telemetry_retention
from ._election import Lease, LeaseLostError, elect, lock_key
from ._supervisor import JobRun, JobSupervisor, SingletonJob

__all__ = [
    "SCHEDULE_REPAIR",
    "TELEMETRY_RETENTION",
    "JobRun",
    "JobSupervisor",
    "Lease",
    "LeaseLostError",
    "SingletonJob",
    "elect",
    "lock_key",
    "repair_schedules",
    "telemetry_retention",
]
