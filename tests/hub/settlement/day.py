"""A simulated day with hand-computed figures (shared by the pure and the API tests).

SPOT, trading date 2026-12-01, rules: tolerance 5 %, penalty 200 yuan/MWh. Members A, B
(batteries, dispatched) and C (PV, not dispatched: a null player). Slots 40-43:

====  ======  =====  ====  =====================  ==========  =========  =========
slot  Q kWh   price  RT    committed A/B, del A/B  energy      deviation  penalty
====  ======  =====  ====  =====================  ==========  =========  =========
40    100     400    450   60/40, 60/40           40.00       0.00       0.00
41    200     500    600   120/80, 110/70         100.00      -12.00     -2.00
42    50      320.9  300   30/20, 33/20           16.04 (*)   0.90       -0.10
43    80      400    500   48/32, 48/None         32.00       gap        gap
====  ======  =====  ====  =====================  ==========  =========  =========

(*) 50 x 320.9 / 1000 = 16.045 -> 16.04 by ROUND_HALF_EVEN (16.05 half-up).
Slot 41: d = -20 kWh, band 10, excess 10 -> 10 x 200 / 1000 = 2.00. Slot 42: d = +3,
band 2.5, excess 0.5 -> 0.10. Slot 43: B not metered: the deviation is left unsettled and
flagged. Totals: energy 188.04, deviation -11.10, penalty -2.10, total 174.84.

Allocation (cents, largest remainder):
* energy: A 251 kWh, B 130 kWh, C 0: A 17484 x 251/381 = 11518.33, B 5965.67 -> A 115.18,
  B 59.66 (the left cent to B's larger fraction), C 0.00; penalty A -1.38, B -0.72.
* capacity x availability: A 100 kW x 1, B 50 x 0.75, C 80 x 0.5 (weights 100, 37.5, 40):
  A 9850.14, B 3693.80, C 3940.06 -> A 98.50, B 36.94, C 39.40.
* Shapley: linear parts A 112.827 energy - 5.1 deviation, B 75.218 - 6.0; the penalty
  game: v(A) = -1.1, v(B) = -1.2, v(AB) = -2.1 -> A -1.0, B -1.1; phi A 106.727,
  B 68.118, C 0 (sum 174.845 against the rounded 174.84) -> A 106.72, B 68.12, C 0.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hub.markets import TradingRules

DAY = dt.date(2026, 12, 1)
RULES = TradingRules(
    deviation_tolerance=0.05,
    deviation_penalty_yuan_mwh=200.0,
    dr_compensation_yuan_kwh=4.0,
    regulation_availability_yuan_mw_h=30.0,
    regulation_mileage_yuan_mw=8.0,
)
SLOTS = (40, 41, 42, 43)
CLEARED = {40: 100.0, 41: 200.0, 42: 50.0, 43: 80.0}
PRICE = {40: 400.0, 41: 500.0, 42: 320.9, 43: 400.0}
REALTIME = {40: 450.0, 41: 600.0, 42: 300.0, 43: 500.0}
COMMITTED = {"A": (60.0, 120.0, 30.0, 48.0), "B": (40.0, 80.0, 20.0, 32.0), "C": (0.0,) * 4}
DELIVERED: dict[str, tuple[float | None, ...]] = {
    "A": (60.0, 110.0, 33.0, 48.0),
    "B": (40.0, 70.0, 20.0, None),
    "C": (0.0, 0.0, 0.0, 0.0),
}
CAPACITY = {"A": (100.0, 1.0), "B": (50.0, 0.75), "C": (80.0, 0.5)}

LINE_TOTALS = {
    40: Decimal("40.00"),
    41: Decimal("86.00"),
    42: Decimal("16.84"),
    43: Decimal("32.00"),
}
TOTAL = Decimal("174.84")
ENERGY = Decimal("188.04")
DEVIATION = Decimal("-11.10")
PENALTY = Decimal("-2.10")
EXPECTED = {
    "energy": {"A": Decimal("115.18"), "B": Decimal("59.66"), "C": Decimal("0.00")},
    "capacity": {"A": Decimal("98.50"), "B": Decimal("36.94"), "C": Decimal("39.40")},
    "shapley": {"A": Decimal("106.72"), "B": Decimal("68.12"), "C": Decimal("0.00")},
}
EXPECTED_PENALTY = {
    "energy": {"A": Decimal("-1.38"), "B": Decimal("-0.72"), "C": Decimal("0.00")},
    "shapley": {"A": Decimal("-1.00"), "B": Decimal("-1.10"), "C": Decimal("0.00")},
}
