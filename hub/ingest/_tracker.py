"""Which ``(edge, sid, seq)`` are stored, and the highest contiguous seq to acknowledge.

Where a session starts is stated by the edge, never guessed: every sequenced uplink carries
``floor_seq``, the lowest seq of its session the edge may still send. A session met for the
first time (no persisted cursor) starts at that floor, so live data that overtakes the
backlog can never be acknowledged past rows the hub has not seen. Seqs below the floor that
were never stored are gone for good (lost to a storage error at the edge, say): the tracker
moves past them and reports them as a :class:`Gap`, so acks never stall on them.
Messages without a floor (``floor_seq=0``, older agents) fall back to the old rule:
contiguity starts at the lowest seq *seen* for that sid. A seq counts
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


@dataclass(frozen=True, slots=True)
class Gap:
    """Seqs ``first..last`` of ``(edge, sid)`` that the edge says it will never send."""

    edge: str
    sid: int
    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


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

    def seen(self, edge: str, sid: int, seqs: list[int], floor: int = 0) -> None:
        """Seqs that arrived (stored or not). Without a persisted cursor the edge's stated
        ``floor`` (else the lowest seq seen) fixes where contiguity starts."""
        if (edge, sid) not in self._sessions and seqs:
            low = floor if floor > 0 else min(seqs)
            self._sessions[(edge, sid)] = _Session(start=low, acked=low - 1)

    def stored(
        self,
        edge: str,
        sid: int,
        seqs: list[int],
        floor: int = 0,
        gaps: list[Gap] | None = None,
    ) -> int | None:
        """Record seqs as stored, given the edge's ``floor``; return the highest contiguous
        seq (None if nothing yet). Gaps the floor closed (seqs never to come) are appended
        to ``gaps``."""
        self.seen(edge, sid, seqs, floor)
        session = self._sessions[(edge, sid)]
        session.ahead.update(s for s in seqs if s > session.acked)
        self._advance(session)
        if floor > session.acked + 1:
            closed = self._skip_to(edge, sid, session, floor)
            if gaps is not None:
                gaps.extend(closed)
        return session.acked if session.acked >= session.start else None

    def _skip_to(self, edge: str, sid: int, session: _Session, floor: int) -> list[Gap]:
        """Move contiguity up to ``floor - 1``: what is missing below it is a gap."""
        gaps: list[Gap] = []
        first = session.acked + 1
        for seq in sorted(s for s in session.ahead if s < floor):
            if seq > first:
                gaps.append(Gap(edge, sid, first, seq - 1))
            first = seq + 1
        if first < floor:
            gaps.append(Gap(edge, sid, first, floor - 1))
        session.ahead = {s for s in session.ahead if s >= floor}
        session.acked = floor - 1
        session.start = min(session.start, floor)
        self._advance(session)
        return gaps

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
