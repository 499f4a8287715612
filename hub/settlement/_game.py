"""The settlement game (pure, numpy): what a VPP's day would have settled at had only a
coalition of its members taken part.

``v(S)`` is :func:`~._settle.settle_line`'s arithmetic (in floats, unrounded) applied to
the coalition's share of the cleared position (``committed``: each member's part of the
cleared kWh per line, from its dispatch targets) and its metered delivery, at the day's
prices. ``v(empty) = 0`` and ``v(all)`` is the statement's total before rounding.
Energy, balancing and availability payments are linear in the coalition (every member
simply earns its own part); the tolerance band, the penalty and the DR payment cap are
not: a member whose over-delivery covers another's shortfall inside the band earns that
saving in the Shapley value, which pro rata rules cannot express. A line left unsettled in
the statement (a gap) is left unsettled for every coalition, so the game adds up to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from hub.markets import MarketType, TradingRules

from ._settle import COMPONENTS, SlotInput


class SettlementGame:
    """``game(masks) -> k x len(COMPONENTS)``: a :data:`~._shapley.Game`."""

    def __init__(
        self,
        market_type: MarketType,
        lines: Sequence[SlotInput],
        committed: NDArray[np.float64],
        delivered: NDArray[np.float64],
        rules: TradingRules,
        mileage: NDArray[np.float64] | None = None,
    ) -> None:
        n, width = committed.shape
        assert width == len(lines)
        assert delivered.shape == committed.shape
        self.market_type = market_type
        self.n = n
        self.committed = np.asarray(committed, dtype=np.float64)
        missing = np.isnan(delivered)
        self.delivered = np.where(missing, 0.0, delivered)
        self.metered = ~missing.any(axis=0) & np.array(
            [line.delivered_kwh is not None for line in lines], dtype=bool
        )
        self.price = np.array([line.clearing_price_yuan_mwh for line in lines])
        rt = [line.realtime_price_yuan_mwh for line in lines]
        self.rt_known = np.array([p is not None for p in rt], dtype=bool)
        self.rt = np.array([0.0 if p is None else p for p in rt])
        self.tol = rules.deviation_tolerance
        self.penalty_rate = rules.deviation_penalty_yuan_mwh
        self.dr_rate = rules.dr_compensation_yuan_kwh
        self.mileage_rate = rules.regulation_mileage_yuan_mw
        rates = []
        for line in lines:
            rate = line.clearing_price_yuan_mwh
            if rate == 0 and market_type == "ANCILLARY":
                rate = (
                    rules.reserve_availability_yuan_mw_h
                    if line.product == "reserve"
                    else rules.regulation_availability_yuan_mw_h
                )
            rates.append(rate)
        self.capacity_rate = np.array(rates)
        self.regulation = np.array(
            [market_type == "ANCILLARY" and line.product != "reserve" for line in lines]
        )
        if mileage is None:
            mileage = np.full(committed.shape, np.nan)
        self.mileage_known = ~np.isnan(mileage).any(axis=0) & np.array(
            [line.mileage_mw is not None for line in lines], dtype=bool
        )
        self.mileage = np.where(np.isnan(mileage), 0.0, mileage)

    def __call__(self, masks: NDArray[np.bool_]) -> NDArray[np.float64]:
        m = masks.astype(np.float64)
        q = m @ self.committed
        out = np.zeros((m.shape[0], len(COMPONENTS)))
        if self.market_type == "SPOT":
            d = m @ self.delivered - q
            out[:, 0] = (q * self.price).sum(axis=1) / 1000
            out[:, 1] = (np.where(self.metered & self.rt_known, d * self.rt, 0.0)).sum(
                axis=1
            ) / 1000
            excess = np.maximum(np.abs(d) - self.tol * np.abs(q), 0.0)
            out[:, 2] = -(np.where(self.metered, excess, 0.0)).sum(axis=1) * (
                self.penalty_rate / 1000
            )
        elif self.market_type in ("ANCILLARY", "CAPACITY"):
            out[:, 3] = (q * self.capacity_rate).sum(axis=1) / 1000
            if self.market_type == "ANCILLARY":
                miles = m @ self.mileage
                known = self.regulation & self.mileage_known
                out[:, 4] = np.where(known, miles, 0.0).sum(axis=1) * self.mileage_rate
        else:  # DEMAND_RESPONSE
            c = m @ self.delivered
            paid = np.maximum(c, 0.0)
            paid = np.where(q > 0, np.minimum(paid, q * (1 + self.tol)), paid)
            out[:, 5] = np.where(self.metered, paid, 0.0).sum(axis=1) * self.dr_rate
            shortfall = np.maximum(q * (1 - self.tol) - c, 0.0)
            out[:, 2] = -(np.where(self.metered, shortfall, 0.0)).sum(axis=1) * (
                self.penalty_rate / 1000
            )
        return out
