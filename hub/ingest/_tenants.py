"""Which tenants each edge id has a row in, for ingest's tenant check.

An edge is ``(tenant, edge id)``; a topic names both. A message for an edge id that has
rows only in other tenants than its topic's is refused (``hub_ingest_malformed_total
{reason="tenant_mismatch"}``): it is never stored under another tenant's edge, and no
edge is made for it (register it with ``vpp hub edge add EDGE --tenant T``). An id with
no row in any tenant is let through as before (its edge row is made from its ``state``
or ``birth`` under the topic's tenant).

Pure (the caller reads ``edges``). The hot path is one dict lookup: an admitted
``(tenant, edge)`` is never looked up again. Ids not yet known, and refusals based on a
read older than ``refresh_s`` (the edge may have been registered in that tenant since,
by any process), are read in one query per batch: an edge registered in a second tenant
is let in at most ``refresh_s`` after.

>>> now = [0.0]
>>> tenants = EdgeTenants(refresh_s=5.0, clock=lambda: now[0])
>>> tenants.unsettled([("acme", "park-a"), ("globex", "park-a")])
['park-a']
>>> tenants.learn({"park-a": {"acme"}})
>>> tenants.refused([("acme", "park-a"), ("globex", "park-a")])
{('globex', 'park-a')}
>>> tenants.unsettled([("acme", "park-a"), ("globex", "park-a")])  # read just now
[]
>>> now[0] = 6.0  # a refusal is read again after refresh_s, an admission never
>>> tenants.unsettled([("acme", "park-a")]), tenants.unsettled([("globex", "park-a")])
([], ['park-a'])

An edge id first read with no row is let through; once the hub has stored its edge row
under the topic's tenant (its ``state`` or ``birth``), :meth:`admit` says so and that pair
is never read again:

>>> tenants.unsettled([("acme", "park-new")])
['park-new']
>>> tenants.learn({"park-new": set()})
>>> tenants.admit([("acme", "park-new")])
>>> now[0] = 60.0
>>> tenants.unsettled([("acme", "park-new")]), tenants.refused([("globex", "park-new")])
([], {('globex', 'park-new')})
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

_MAX_IDS = 100_000
"""Ids remembered at most (topics could name any number of unknown ones)."""


class EdgeTenants:
    """The tenants of each edge id seen, read from ``edges`` when unknown or stale."""

    def __init__(self, refresh_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self._refresh_s = refresh_s
        self._clock = clock
        self._known: dict[str, tuple[frozenset[str], float]] = {}

    def _settled(self, tenant: str, edge: str, now: float) -> bool:
        held = self._known.get(edge)
        if held is None:
            return False
        tenants, read_at = held
        return tenant in tenants or now - read_at < self._refresh_s

    def unsettled(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        """The edge ids of ``pairs`` to read from ``edges`` (:meth:`learn`) before
        :meth:`refused`."""
        now = self._clock()
        return sorted({edge for tenant, edge in pairs if not self._settled(tenant, edge, now)})

    def learn(self, found: dict[str, set[str]]) -> None:
        """What the ``edges`` table says now: edge id -> its tenants (for every id of
        :meth:`unsettled`, an empty set for an id with no row)."""
        if len(self._known) + len(found) > _MAX_IDS:
            self._known.clear()
        now = self._clock()
        for edge, tenants in found.items():
            self._known[edge] = (frozenset(tenants), now)

    def admit(self, pairs: Iterable[tuple[str, str]]) -> None:
        """``pairs`` have an edge row now (this hub committed it): admitted for good."""
        for tenant, edge in pairs:
            held = self._known.get(edge)
            if held is None:
                if len(self._known) >= _MAX_IDS:
                    self._known.clear()
                self._known[edge] = (frozenset((tenant,)), self._clock())
            elif tenant not in held[0]:
                self._known[edge] = (held[0] | {tenant}, held[1])

    def refused(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The ``(tenant, edge)`` of ``pairs`` whose edge id has rows, only in other
        tenants (as last read)."""
        out: set[tuple[str, str]] = set()
        for tenant, edge in pairs:
            held = self._known.get(edge)
            if held is not None and held[0] and tenant not in held[0]:
                out.add((tenant, edge))
        return out


__all__ = ["EdgeTenants"]
