"""What the app's lifespan owns and hands to controllers (one object, no globals)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from protocol.clock import Clock

from ._metrics import Metrics
from ._settings import Settings
from .auth import TokenService
from .store import LiveCache


class SchedulePublisher(Protocol):
    """The seam between dispatch (REST) and MQTT: "this edge's schedule changed"."""

    def schedule_changed(self, edge: str) -> None: ...

    @property
    def connected(self) -> bool: ...


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
