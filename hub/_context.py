"""What the app's lifespan owns and hands to controllers (one object, no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from protocol.clock import Clock

from ._metrics import Metrics
from ._settings import Settings
from .auth import TokenService
from .commands import CommandOutcome
from .jobs import JobSupervisor
from .markets._service import ConnectorRegistry
from .ops import Alert
from .store import LiveCache, LiveMirror, Memo
from .trading._runtime import TradingRuntime
from .vpps import PreparedMembers


class SchedulePublisher(Protocol):
    """The seam between dispatch (REST) and MQTT: "this edge's schedule changed"."""

    def schedule_changed(self, edge: tuple[str, str]) -> None: ...

    @property
    def connected(self) -> bool: ...


class CommandSender(Protocol):
    """The seam between the commands API and MQTT (``hub.commands.CommandRelay``)."""

    async def send(
        self,
        tenant: str,
        edge: str,
        device: str,
        op: str,
        args: dict[str, float | int | bool | str],
        timeout_s: float,
        *,
        cid: str | None = None,
    ) -> CommandOutcome: ...

    @property
    def connected(self) -> bool: ...


class BacktestRunner(Protocol):
    """The seam between the strategies API and the backtest workers: "a task is queued"."""

    def wake(self) -> None: ...


class AlertSink(Protocol):
    """Where :func:`hub.ops.notify` queues the hub's own alerts (``hub.ops.Notifier``)."""

    def submit(self, alert: Alert, *, only: str | None = None) -> int: ...


@dataclass(slots=True)
class HubContext:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    cache: LiveCache
    tokens: TokenService
    metrics: Metrics
    publisher: SchedulePublisher | None = None
    live_mirror: LiveMirror | None = None
    """Shares live values with the other replicas over Redis (None: in-process only)."""
    read_sessions: async_sessionmaker[AsyncSession] | None = None
    """Sessions on the read replica (``db_replica_url``); use :meth:`reader`."""
    primary_reads: async_sessionmaker[AsyncSession] | None = None
    """Sessions on the primary without an explicit transaction (no BEGIN/ROLLBACK round
    trips): what GET requests read with (``hub._deps.provide_session``)."""
    reads: Memo[Any, Any] = field(default_factory=lambda: Memo(0.0))
    """Rows read for aggregation and realtime reads, trusted until one of their tables is
    written (``hub.store.Memo``; the lifespan's has ``Settings.response_cache_s``)."""
    jobs: JobSupervisor | None = None
    """The singleton jobs' supervisor (None when the hub runs no jobs)."""
    markets: ConnectorRegistry | None = None
    """Live market connectors (made by the app's lifespan)."""
    trading: TradingRuntime | None = None
    """Strategy resolver, alert hooks and the trading loop's state (the lifespan's)."""
    backtests: BacktestRunner | None = None
    """The backtest worker pool (hub.strategy); None when this process runs none."""
    alerts: AlertSink | None = None
    """The hub's own alerts (``hub.ops.notify``); None until the lifespan starts it."""
    commands: CommandSender | None = None
    """Sends commands to edges and waits for their replies; None without MQTT."""
    members: PreparedMembers = field(default_factory=PreparedMembers)
    """The members of the VPPs dispatched to, from their rows, kept while the rows are
    unchanged (``hub.vpps.PreparedMembers``)."""

    def reader_primary(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the primary for reads (autocommit when the lifespan made them)."""
        return self.primary_reads or self.sessions

    def reader(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for read-only queries that need not see their own writes (reports,
        history, lists): the read replica when configured, else the primary."""
        return self.read_sessions or self.primary_reads or self.sessions
