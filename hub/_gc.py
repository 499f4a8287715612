"""The garbage collector while the hub runs: its pauses as a Prometheus histogram,
``hub_gc_pause_seconds``, and its tuning (:func:`tuned`).

A collection stops the whole process (every request in flight waits for it); a full one
(generation 2) walks every container object the hub keeps: the live cache, the kept
reads, the console snapshot's members, and everything the imported libraries hold. This
module times each pass through :data:`gc.callbacks` and serves the times as a histogram by
generation from the hub's own registry (:class:`hub._metrics.Metrics`).

The callback runs inside the collector, in whichever thread allocated: it takes no lock
(a metric's own lock could be held by the very thread the collection interrupted) and
only adds to plain lists; the histogram is built from them when the registry is scraped.
"""

from __future__ import annotations

import bisect
import gc
import time
from collections.abc import Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from prometheus_client.metrics_core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar

GC_PAUSE_BUCKETS: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip
"""Upper bounds (seconds) of ``hub_gc_pause_seconds``' buckets (and +Inf)."""

GENERATIONS = 3


class GcPauses(Collector):
    """Times of the garbage collector's passes by generation, while :meth:`installed`.

    >>> pauses = GcPauses()
    >>> with pauses.installed():
    ...     _ = gc.collect()
    >>> pauses.count(2) >= 1
    True
    """

    def __init__(self) -> None:
        self._buckets = [[0] * (len(GC_PAUSE_BUCKETS) + 1) for _ in range(GENERATIONS)]
        """generation -> non-cumulative count per bucket (the last: above every bound)."""
        self._sums = [0.0] * GENERATIONS
        self._started = 0.0
        self._installs = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        """A :data:`gc.callbacks` entry: ``start`` and ``stop`` of one pass."""
        if phase == "start":
            self._started = time.perf_counter()
            return
        started, self._started = self._started, 0.0
        generation = info.get("generation", -1)
        if not started or not 0 <= generation < GENERATIONS:
            return  # installed during a pass: its start was not seen
        seconds = time.perf_counter() - started
        self._buckets[generation][bisect.bisect_left(GC_PAUSE_BUCKETS, seconds)] += 1
        self._sums[generation] += seconds

    @contextmanager
    def installed(self) -> Iterator[GcPauses]:
        """The callback in :data:`gc.callbacks` while the context is open (nested or
        repeated installs of one object keep one entry; the last exit removes it)."""
        if self._installs == 0:
            gc.callbacks.append(self)
        self._installs += 1
        try:
            yield self
        finally:
            self._installs -= 1
            if self._installs == 0:
                self._started = 0.0
                gc.callbacks[:] = [c for c in gc.callbacks if c is not self]

    def count(self, generation: int) -> int:
        """Passes of ``generation`` timed so far."""
        return sum(self._buckets[generation])

    def collect(self) -> Iterable[Metric]:
        family = HistogramMetricFamily(
            "hub_gc_pause_seconds",
            "garbage-collection passes of this process by generation (the whole process "
            "stops meanwhile; 2: a full pass over every kept object)",
            labels=["generation"],
        )
        for generation in range(GENERATIONS):
            counts = list(self._buckets[generation])
            cumulative: list[tuple[str, float]] = []
            total = 0
            for bound, n in zip((*GC_PAUSE_BUCKETS, float("inf")), counts, strict=True):
                total += n
                cumulative.append(("+Inf" if bound == float("inf") else repr(bound), total))
            family.add_metric([str(generation)], cumulative, self._sums[generation])
        yield family
        objects = GaugeMetricFamily(
            "hub_gc_objects",
            "objects the collector tracks, by generation (what a pass of it walks; "
            "frozen: none walks them, see VPP_HUB_GC_FREEZE), counted at the scrape",
            labels=["generation"],
        )
        for generation in range(GENERATIONS):
            objects.add_metric([str(generation)], len(gc.get_objects(generation)))
        objects.add_metric(["frozen"], gc.get_freeze_count())
        yield objects


class _Tuning:
    """The process's collector settings before the first open :func:`tuned` (the
    collector is one per process; apps in one process, as in tests, may overlap and stop
    in any order)."""

    open = 0
    threshold: tuple[int, int, int] = (0, 0, 0)
    frozen = False


@contextmanager
def tuned(*, freeze: bool, threshold0: int) -> Iterator[None]:
    """The collector tuned for a long-running server while the context is open, as it
    was once the last one open exits. ``threshold0`` > 0: generation 0's threshold (the
    older two's are kept). ``freeze``: every object made so far leaves the collector's
    generations (``gc.freeze``): no pass walks them again; they are still freed when no
    longer referenced (a cycle among them only at :func:`gc.unfreeze`, on exit)."""
    if _Tuning.open == 0:
        _Tuning.threshold = gc.get_threshold()
        _Tuning.frozen = False
    _Tuning.open += 1
    try:
        if threshold0 > 0:
            gc.set_threshold(threshold0, *_Tuning.threshold[1:])
        if freeze:
            gc.freeze()
            _Tuning.frozen = True
        yield
    finally:
        _Tuning.open -= 1
        if _Tuning.open == 0:
            if _Tuning.frozen:
                gc.unfreeze()
            gc.set_threshold(*_Tuning.threshold)


@asynccontextmanager
async def gc_lifespan(app: Litestar) -> AsyncIterator[None]:
    """The app's last lifespan (hub.app): :func:`tuned` by the settings once the others
    have started (their engines, caches and imports are then the long-lived objects)."""
    settings = app.state.hub.settings
    with tuned(freeze=settings.gc_freeze, threshold0=settings.gc_threshold0):
        yield
