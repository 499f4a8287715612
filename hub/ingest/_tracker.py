"""Contiguity of ``(edge, sid, seq)``: the highest seq to acknowledge, from what is stored.

The state lives in the database, so any hub replica may store any message of any edge
(MQTT ``$share`` splits one edge's seqs across replicas): ``ingest_cursors`` holds the
acknowledged seq of each ``(edge, sid)`` and ``ingest_ahead`` the seqs stored above it
(waiting for a gap to close). A replica's write transaction locks the cursor rows it
touches (``SELECT ... FOR UPDATE``, in key order), reads what other replicas stored ahead,
and moves the cursor with :func:`advance`; because every transaction's own rows are in
before it takes the lock, the last one to take it sees everything stored, so an ack never
passes a gap and never stalls on rows another replica stored.

Where a session starts is stated by the edge, never guessed: every sequenced uplink carries
``floor_seq``, the lowest seq of its session the edge may still send. A session met for the
first time (no cursor) starts at that floor (:func:`session_start`), so live data that
overtakes the backlog can never be acknowledged past rows the hub has not seen. Seqs below
the floor that were never stored are gone for good (lost to a storage error at the edge,
say): contiguity moves past them and reports them as a :class:`Gap`, so acks never stall on
them. Messages without a floor (``floor_seq=0``, older agents) fall back to the lowest seq
of the first batch stored for that sid. Seqs at or below the cursor are duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True, slots=True)
class Advance:
    """Where a cursor moved: ``acked`` (the seq to acknowledge), ``ahead`` (stored seqs
    still above it) and the ``gaps`` the edge's floor closed."""

    acked: int
    ahead: frozenset[int]
    gaps: tuple[Gap, ...] = ()


def session_start(seqs: list[int], floor: int = 0) -> int:
    """The first seq of a session met for the first time: the edge's stated ``floor``,
    else the lowest seq stored with it.

    >>> session_start([7, 5, 9], floor=3), session_start([7, 5, 9])
    (3, 5)
    """
    return floor if floor > 0 else min(seqs)


def advance(edge: str, sid: int, acked: int, ahead: set[int], floor: int = 0) -> Advance:
    """Move the cursor ``acked`` over the stored seqs ``ahead`` (those at or below it are
    duplicates and dropped), then past every seq below ``floor`` (never to come: a gap).

    >>> advance("e", 1, 4, {5, 6, 8})
    Advance(acked=6, ahead=frozenset({8}), gaps=())
    >>> advance("e", 1, 4, {6, 9, 10}, floor=9).gaps
    (Gap(edge='e', sid=1, first=5, last=5), Gap(edge='e', sid=1, first=7, last=8))
    """
    waiting = {s for s in ahead if s > acked}
    acked = _run(acked, waiting)
    gaps: list[Gap] = []
    if floor > acked + 1:
        first = acked + 1
        for seq in sorted(s for s in waiting if s < floor):
            if seq > first:
                gaps.append(Gap(edge, sid, first, seq - 1))
            first = seq + 1
        if first < floor:
            gaps.append(Gap(edge, sid, first, floor - 1))
        acked = _run(floor - 1, waiting)
    return Advance(acked, frozenset(s for s in waiting if s > acked), tuple(gaps))


def _run(acked: int, waiting: set[int]) -> int:
    while acked + 1 in waiting:
        acked += 1
    return acked


__all__ = ["Advance", "Gap", "advance", "session_start"]
