"""The settlement singleton job: one leader among the hub replicas (hub.jobs election)
settles, every :data:`INTERVAL_S` of the hub's clock, each VPP's days that are over and
still have CLEARED trading records (:func:`~._service.settle_due`, which calls
:func:`~._service.settle_day`; idempotent, its writes fenced by the lease)."""

from __future__ import annotations

from hub.jobs import SingletonJob

from ._service import settle_due

INTERVAL_S = 900.0

SETTLEMENT_JOB = SingletonJob(name="settlement", interval_s=INTERVAL_S, run=settle_due)
