"""VPP domain types: plain msgspec Structs, no I/O.

Power is in kW with the generator convention (positive = delivering power into the site
bus: discharging, generating, or a load consuming less). Ratios are 0..1.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from hub.catalogue._types import Category, InstanceStatus

MarketType = Literal["SPOT", "ANCILLARY", "CAPACITY"]

Ratio = Annotated[float, Meta(ge=0, le=1)]

# ``gc=False`` below: a Struct of scalars only cannot be part of a reference cycle, so the
# garbage collector need not track it (tens of thousands are made per console snapshot,
# fifty per aggregation; tests/hub/test_gc.py checks that their fields stay scalars).


class MemberState(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What aggregation and disaggregation know about one VPP member right now."""

    resource_id: str
    category: Category
    status: InstanceStatus
    capacity_kw: Annotated[float, Meta(ge=0)]
    allocation_ratio: Ratio = 1.0
    priority: int = 1
    """Lower number = dispatched first."""
    p_kw: float | None = None
    """Live power (generator convention), None when unknown."""
    soc_pct: float | None = None
    max_discharge_kw: float | None = None
    """For STORAGE; defaults to the capacity."""
    max_charge_kw: float | None = None
    """For STORAGE; defaults to the capacity."""
    min_kw: float = 0.0
    """GENERATION: minimum stable output; LOAD/FLEXIBLE: minimum consumption."""
    soc_min_pct: float = 0.0
    soc_max_pct: float = 100.0
    energy_kwh: float | None = None
    response_time_s: float = 1.0
    efficiency: float = 1.0
    dispatchable: bool = True
    curtailable: bool = True
    """GENERATION that cannot be stepped up (PV): may only be curtailed."""


class PowerRange(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The band a member's share may be dispatched in, and where it sits now (kW)."""

    resource_id: str
    lo_kw: float
    hi_kw: float
    baseline_kw: float
    priority: int = 1


class AggregatedParams(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Seed 4.1.3 ``aggregated-params`` response (kW, s, ratio)."""

    total_capacity: float
    available_up_capacity: float
    available_down_capacity: float
    response_time: float
    efficiency: float
    online_count: int = 0
    member_count: int = 0
    current_power: float = 0.0


class MarketRequirement(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Qualification threshold of a market product."""

    market_type: MarketType
    min_capacity_kw: float = 0.0
    min_duration_h: float = 0.0
    max_response_time_s: float | None = None


class Commitment(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Capacity of one VPP committed to one market in one period (from trading records)."""

    vpp_id: str
    market_type: str
    period: str
    """``trading_date/time_slot``."""
    quantity_kw: float


class Conflict(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal[
        "over_allocation",
        "double_commitment",
        "member_unavailable",
        "below_qualification",
        "response_time_mismatch",
    ]
    severity: Literal["warning", "error"]
    message: str
    resource_ids: list[str] = []
    suggestion: str = ""
