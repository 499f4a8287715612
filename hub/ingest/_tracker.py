"""Which ``(edge, sid, seq)`` are stored, and the highest contiguous seq to acknowledge.

Choice: per ``(edge, sid)`` contiguity starts at the lowest seq *seen* for that sid (an
edge may start a session at 0 or 1, and after an outbox trim at any number). A seq counts
as seen when it arrives, whether or not storing it succeeds, so a batch that failed to
store keeps later ones from being acknowledged past it. The acknowledged seq is persisted
in ``ingest_cursors`` and restored after a hub restart, so contiguity continues from it
instead of restarting at whatever arrives first (live data overtakes replayed backlog):
the cursor of an ``(edge, sid)`` is read (:meth:`AckTracker.restore`) *before* its first
seqs are :meth:`~AckTracker.seen`. If that read fails, :meth:`~AckTracker.seen` still
records the seqs and the next successful restore replaces its guess.
Seqs at or below the ack are duplicates; stored seqs above a gap wait until it closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(slots=True)
class _Session:
    start: int
    acked: int
    ahead: set[int] = field(default_factory=set)


class AckTracker:
    def __init__(self) -> None:
        self._sessions: dict[tuple[str, int], _Session] = {}
        self._restored: set[tuple[str, int]] = set()

    def needs_restore(self, edge: str, sid: int) -> bool:
        """Whether the persisted cursor of ``(edge, sid)`` has not been read yet."""
        return (edge, sid) not in self._restored

    def restore(self, edge: str, sid: int, acked: int | None) -> None:
        """Continue after the persisted ack (``ingest_cursors``; None: nothing persisted).

        Called once per ``(edge, sid)`` before its seqs are :meth:`seen`; it replaces
        what :meth:`seen` guessed while the cursor could not be read (nothing has been
        stored for it then: storing needs the cursor first)."""
        key = (edge, sid)
        if key in self._restored:
            return  # only the first read counts: the tracker is ahead of the database
        self._restored.add(key)
        if acked is None:
            return
        held = self._sessions.get(key)
        ahead = set() if held is None else {s for s in held.ahead if s > acked}
        session = _Session(start=acked, acked=acked, ahead=ahead)
        self._advance(session)
        self._sessions[key] = session

    def seen(self, edge: str, sid: int, seqs: list[int]) -> None:
        """Seqs that arrived (stored or not): without a persisted cursor, the first ones
        fix where contiguity starts."""
        if (edge, sid) not in self._sessions and seqs:
            low = min(seqs)
            self._sessions[(edge, sid)] = _Session(start=low, acked=low - 1)

    def stored(self, edge: str, sid: int, seqs: list[int]) -> int | None:
        """Record seqs as stored; return the highest contiguous seq, None if nothing yet."""
        self.seen(edge, sid, seqs)
        session = self._sessions[(edge, sid)]
        session.ahead.update(s for s in seqs if s > session.acked)
        self._advance(session)
        return session.acked if session.acked >= session.start else None

    @staticmethod
    def _advance(session: _Session) -> None:
        while session.acked + 1 in session.ahead:
            session.acked += 1
            session.ahead.discard(session.acked)

    def snapshot(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], _Session | None]:
        """Copies of these sessions, to roll back to when a transaction fails."""
        out: dict[tuple[str, int], _Session | None] = {}
        for key in keys:
            held = self._sessions.get(key)
            out[key] = None if held is None else replace(held, ahead=set(held.ahead))
        return out

    def rollback(self, snapshot: dict[tuple[str, int], _Session | None]) -> None:
        for key, held in snapshot.items():
            if held is None:
                self._sessions.pop(key, None)
            else:
                self._sessions[key] = held

    def acked(self, edge: str, sid: int) -> int | None:
        session = self._sessions.get((edge, sid))
        if session is None or session.acked < session.start:
            return None
        return session.acked
