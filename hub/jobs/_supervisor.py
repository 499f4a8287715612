"""Singleton jobs run by a supervisor in the hub's lifespan (one leader per job).

Every replica runs the supervisor; for each job it campaigns (:func:`~._election.elect`)
and, while it leads, calls the job every ``interval_s`` (on the hub's clock). A run that
raises is logged and counted, and the next run comes after the interval; losing the lease
cancels the running job and the supervisor campaigns again.

Stopping (leaving ``async with``) cancels a job between its runs at once, but lets a run
that is under way finish, for up to ``stop_s``: a run cancelled part-way is cut in the
middle of a database call (a commit returning its connection to the pool, a rollback), and
the driver's connection is left to be torn down mid-call. A run that outlasts ``stop_s``
is cancelled after all (the hub's shutdown stays bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hub.store import background_writes

from ._election import CHECK_S, RETRY_S, Lease, LeaseLostError, elect

if TYPE_CHECKING:
    from hub._context import HubContext
    from hub._settings import Settings

_log = logging.getLogger(__name__)

JobRun = Callable[["HubContext", Lease], Awaitable[None]]

STOP_S = 5.0
"""How long stopping the supervisor waits for the runs under way to finish."""


def _always(_: Settings) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class SingletonJob:
    """A job that must run in one replica at a time.

    ``run(ctx, lease)`` does one pass; its writes call ``await lease.check(session)``
    before they commit. ``interval_s`` is a number or read from the settings;
    ``enabled(settings)`` False leaves the job out; ``wait_first`` waits one interval
    before a new leader's first run (housekeeping that need not run at start-up)."""

    name: str
    interval_s: float | Callable[[Settings], float]
    run: JobRun
    enabled: Callable[[Settings], bool] = field(default=_always)
    wait_first: bool = False

    def interval(self, settings: Settings) -> float:
        return self.interval_s(settings) if callable(self.interval_s) else self.interval_s


class JobSupervisor:
    """``async with JobSupervisor(ctx, jobs):`` campaigns for every enabled job."""

    def __init__(
        self,
        ctx: HubContext,
        jobs: tuple[SingletonJob, ...] | list[SingletonJob],
        *,
        retry_s: float = RETRY_S,
        check_s: float = CHECK_S,
        stop_s: float = STOP_S,
    ) -> None:
        self._ctx = ctx
        self._jobs = [job for job in jobs if job.enabled(ctx.settings)]
        self._retry_s = retry_s
        self._check_s = check_s
        self._stop_s = stop_s
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._leases: dict[str, Lease] = {}

    def leading(self) -> dict[str, int]:
        """Jobs this process leads now, with their fencing tokens."""
        return {name: lease.token for name, lease in self._leases.items() if not lease.lost}

    async def __aenter__(self) -> JobSupervisor:
        names = [job.name for job in self._jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"singleton job names must be unique: {names}")
        with background_writes():  # a job's writes are no caller's (hub.store)
            self._tasks = [
                asyncio.create_task(self._campaign(job), name=f"job:{job.name}")
                for job in self._jobs
            ]
        return self

    async def __aexit__(self, *_: object) -> None:
        self._stopping = True  # a run under way goes on to its end (see _run)
        for task in self._tasks:
            task.cancel()
        try:
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=self._stop_s)
        finally:
            late = [task for task in self._tasks if not task.done()]
            if late:
                _log.warning(
                    "jobs %s still running after %.0f s: cancelling them",
                    sorted(task.get_name() for task in late),
                    self._stop_s,
                )
            for task in late:
                task.cancel()  # cancels the run itself (see _run)
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._tasks = []

    async def _campaign(self, job: SingletonJob) -> None:
        metrics = self._ctx.metrics
        while True:
            try:
                async with elect(
                    self._ctx, job.name, retry_s=self._retry_s, check_s=self._check_s
                ) as lease:
                    self._leases[job.name] = lease
                    metrics.job_leader.labels(job.name).set(1)
                    await self._lead(job, lease)
            except LeaseLostError as exc:
                metrics.job_runs.labels(job.name, "lost").inc()
                _log.warning("job %s: lease lost (%s); campaigning again", job.name, exc)
            finally:
                self._leases.pop(job.name, None)
                metrics.job_leader.labels(job.name).set(0)
            await asyncio.sleep(self._retry_s)

    async def _lead(self, job: SingletonJob, lease: Lease) -> None:
        metrics = self._ctx.metrics
        if job.wait_first:
            await self._ctx.clock.sleep(job.interval(self._ctx.settings))
        while True:
            try:
                await self._run(job, lease)
            except (LeaseLostError, asyncio.CancelledError):
                raise
            except Exception:
                metrics.job_runs.labels(job.name, "error").inc()
                _log.exception("job %s failed; next run after the interval", job.name)
            else:
                metrics.job_runs.labels(job.name, "ok").inc()
            if lease.lost:
                raise LeaseLostError(job.name)
            await self._ctx.clock.sleep(job.interval(self._ctx.settings))

    async def _run(self, job: SingletonJob, lease: Lease) -> None:
        """One run of ``job``, in a task of its own. Cancelled because the lease is lost,
        the run is cancelled at once (it may no longer write; fencing refuses its commit
        anyway). Cancelled because the supervisor stops, the run finishes first; a second
        cancellation (``stop_s`` is up) cancels it. The cancellation is raised either way."""

        async def one_run() -> None:
            await job.run(self._ctx, lease)

        run = asyncio.create_task(one_run(), name=f"job:{job.name}:run")
        try:
            await asyncio.shield(run)
        except asyncio.CancelledError:
            if not self._stopping or lease.lost:
                run.cancel()
            try:
                await run  # a cancellation of ours now reaches the run as well
            except asyncio.CancelledError:
                pass
            except Exception:
                self._ctx.metrics.job_runs.labels(job.name, "error").inc()
                _log.exception("job %s failed while stopping", job.name)
            raise


__all__ = ["JobRun", "JobSupervisor", "SingletonJob"]
