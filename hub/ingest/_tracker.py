"""Which ``(edge, sid, seq)`` are stored, and the highest contiguous seq to acknowledge.

Choice: per ``(edge, sid)`` contiguity starts at the lowest seq seen for that sid (an edge
may start a session at 0 or 1, and after an outbox trim at any number). The acknowledged
seq is persisted in ``ingest_cursors`` so that after a hub restart contiguity continues
from it instead of restarting at whatever arrives first (live data overtakes replayed
backlog, so "first seen" after a restart would be too high). Seqs at or below the ack are
duplicates; seqs above it are held until the gap closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class _Session:
    acked: int
    ahead: set[int] = field(default_factory=set)


class AckTracker:
    def __init__(self) -> None:
        self._sessions: dict[tuple[str, int], _Session] = {}

    def known(self, edge: str, sid: int) -> bool:
        return (edge, sid) in self._sessions

    def restore(self, edge: str, sid: int, acked: int) -> None:
        """Continue after a persisted ack (from ``ingest_cursors``)."""
        held = self._sessions.get((edge, sid))
        if held is None or held.acked < acked:
            self._sessions[(edge, sid)] = _Session(acked=acked)

    def stored(self, edge: str, sid: int, seqs: list[int]) -> int:
        """Record seqs as stored; return the highest contiguous seq of the session."""
        session = self._sessions.get((edge, sid))
        if session is None:
            low = min(seqs)
            session = self._sessions[(edge, sid)] = _Session(acked=low - 1)
        session.ahead.update(s for s in seqs if s > session.acked)
        while session.acked + 1 in session.ahead:
            session.acked += 1
            session.ahead.discard(session.acked)
        return session.acked

    def acked(self, edge: str, sid: int) -> int | None:
        session = self._sessions.get((edge, sid))
        return None if session is None else session.acked
