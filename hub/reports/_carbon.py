"""Carbon accounting (pure): emissions avoided or shifted by a VPP's metered energy.

Grid emission factor, time-resolved: ``factor(t) = annual average x hourly shape(h)``.

* Annual average (kg CO2 per kWh): by default the national one published by China's
  Ministry of Ecology and Environment and National Bureau of Statistics for 2022
  (生态环境部 国家统计局 公告 2024 年第 33 号, 全国电力平均二氧化碳排放因子):
  :data:`NATIONAL_KG_PER_KWH` = 0.5366. Provincial factors from the same announcement (or a
  later one) are configured per province in :class:`EmissionFactors.by_province`; no
  provincial figure is shipped, so an unconfigured province uses the national one.
* Hourly shape (24 multipliers, mean 1, so a day's average stays the published factor):
  :data:`DEFAULT_SHAPE`, a stated assumption: lower at midday (solar output in the mix),
  higher in the evening peak and at night (coal at the margin). Configure a measured shape
  (e.g. a province's hourly marginal factors) where one is published.

What is counted, per member and hour, from metered energy (kWh, generator convention):

* ``avoided`` (PV and other generation): generation x factor(t): grid energy it replaced
  (self-consumed or exported);
* ``shifted`` (storage, loads, flexible loads): ``sum energy(t) x (factor(t) - average)``:
  against the same energy at the average factor, discharging (or not consuming) in a
  high-emission hour and charging (consuming) in a low one is positive; a battery that
  charges at the evening peak shows a negative figure (an honest cost);
* ``curtailed`` (demand response): curtailment against the baseline (the settled DR
  lines) x factor(t).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import msgspec

NATIONAL_KG_PER_KWH = 0.5366
FACTOR_SOURCE = (
    "MEE/NBS announcement 2024 No. 33: national average grid CO2 emission factor 2022, "
    "0.5366 kgCO2/kWh; hourly shape: Lingtan default assumption (docs/settlement.md)"
)
_RAW_SHAPE = (
    1.10, 1.10, 1.10, 1.10, 1.08, 1.05, 1.00, 0.95, 0.88, 0.82, 0.78, 0.75,
    0.75, 0.78, 0.82, 0.90, 1.00, 1.10, 1.18, 1.20, 1.18, 1.15, 1.12, 1.11,
)  # fmt: skip
DEFAULT_SHAPE = tuple(x * 24 / sum(_RAW_SHAPE) for x in _RAW_SHAPE)


class EmissionFactors(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Grid CO2 emission factors (``Settings.emission_factors``): kg CO2 per kWh."""

    national_kg_per_kwh: Annotated[float, msgspec.Meta(gt=0, le=2)] = NATIONAL_KG_PER_KWH
    by_province: dict[str, Annotated[float, msgspec.Meta(gt=0, le=2)]] = msgspec.field(
        default_factory=dict
    )
    """Province name -> its published annual factor (none shipped)."""
    hourly_shape: Annotated[tuple[float, ...], msgspec.Meta(min_length=24, max_length=24)] = (
        DEFAULT_SHAPE
    )
    """Multipliers of the annual factor per local hour (their mean should be 1)."""
    source: str = FACTOR_SOURCE

    def annual(self, province: str | None) -> float:
        if province and province in self.by_province:
            return self.by_province[province]
        return self.national_kg_per_kwh

    def at(self, hour: int, province: str | None = None) -> float:
        """kg CO2 / kWh in local ``hour`` (0-23)."""
        return self.annual(province) * self.hourly_shape[hour % 24]


class CarbonFigures(msgspec.Struct, frozen=True, kw_only=True):
    avoided_kg: float = 0.0
    shifted_kg: float = 0.0
    curtailed_kg: float = 0.0
    metered_kwh: float = 0.0
    unmetered_hours: int = 0

    @property
    def total_kg(self) -> float:
        return self.avoided_kg + self.shifted_kg + self.curtailed_kg


def carbon(
    hourly_kwh: Sequence[tuple[int, float | None]],
    category: str | None,
    factors: EmissionFactors,
    province: str | None = None,
) -> CarbonFigures:
    """Figures of one member from ``(local hour, kWh or None)`` pairs (see the module
    docstring: generation avoids, everything else shifts)."""
    mean = factors.annual(province)
    kg = 0.0
    metered = 0.0
    missing = 0
    generation = category == "GENERATION"
    for hour, kwh in hourly_kwh:
        if kwh is None:
            missing += 1
            continue
        metered += kwh
        f = factors.at(hour, province)
        kg += max(kwh, 0.0) * f if generation else kwh * (f - mean)
    return CarbonFigures(
        avoided_kg=kg if generation else 0.0,
        shifted_kg=0.0 if generation else kg,
        metered_kwh=metered,
        unmetered_hours=missing,
    )


def curtailed(
    hourly_kwh: Sequence[tuple[int, float]], factors: EmissionFactors, province: str | None = None
) -> CarbonFigures:
    """Demand-response curtailment (kWh against the baseline) x factor(t)."""
    return CarbonFigures(
        curtailed_kg=sum(k * factors.at(h, province) for h, k in hourly_kwh),
    )


def add(a: CarbonFigures, b: CarbonFigures) -> CarbonFigures:
    return CarbonFigures(
        avoided_kg=a.avoided_kg + b.avoided_kg,
        shifted_kg=a.shifted_kg + b.shifted_kg,
        curtailed_kg=a.curtailed_kg + b.curtailed_kg,
        metered_kwh=a.metered_kwh + b.metered_kwh,
        unmetered_hours=a.unmetered_hours + b.unmetered_hours,
    )
