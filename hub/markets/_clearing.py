"""Uniform-price clearing of a day, slot by slot, vectorised with numpy (pure).

**The stack.** Every slot clears the VPPs' bids together with a background market
derived from the price series (:class:`StackShape`): the series' load ``L`` (MW) is an
inelastic demand bid at the clearing cap; the background supply is a ladder of
``2 * blocks + 1`` equal blocks ``depth_mw_per_yuan * step_yuan_mwh`` MW apart by
``step_yuan_mwh``, centred on the series price ``p`` (its middle block straddles ``L``;
blocks shrink to ``L / (blocks + 0.5)`` when the load is too small for the ladder),
a must-run block at the clearing floor below it making up the rest of ``L``, and a
scarcity block at the clearing cap above it. Without VPP bids a slot clears at ``p``
exactly; VPP sell bids below ``p`` push the price down the ladder, buy bids push it up, as
far as their volume against ``depth_mw_per_yuan`` says. Background prices are clipped to
the clearing limits.

**Clearing.** Per slot, with ``S(c)`` the supply offered at or below ``c`` and ``D(c)``
the demand bid at or above ``c``, over the slot's distinct prices ``c``: the first ``c*``
where ``S(c*) >= D(c*)`` sets the price, unless the supply strictly below ``c*`` already
covers the demand at or above it, in which case the price is the previous level and the
demand there is rationed. Everything strictly better than the price is accepted in full;
the orders at the price on the long side are accepted pro rata (the same share for every
order at that price, background or VPP). The price is clipped to the clearing floor and
cap. All slots clear at once: one ``lexsort`` of the book by (slot, price), group sums
with ``bincount``, per-slot running sums as global ``cumsum`` minus slot offsets.

**Storage feasibility.** For a submission with a :class:`StorageEnvelope`, the accepted
quantities are then trimmed slot by slot in time order against the state of charge:
``soc += (buy * eta_c - sell / eta_d) * slot_h``; a sell that would take the SoC below
``soc_min`` is cut to what is left, a buy that would take it above ``soc_max`` to the room
left. Trimming only lowers accepted quantities, so ``0 <= cleared <= offered`` still
holds. The price is the untrimmed clearing's: the marginal unit of a slot is a
background block with room either way unless a VPP bid is itself marginal, so the
trimmed kilowatts are taken up at the same price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import msgspec
import numpy as np
import numpy.typing as npt

from ._connector import (
    AncillaryProduct,
    BidSubmission,
    ClearedBid,
    ClearingResult,
    StorageEnvelope,
)
from ._rules import TradingRules

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class StackShape(msgspec.Struct, frozen=True, kw_only=True):
    """The background market a slot's bids clear against (see the module docstring)."""

    depth_mw_per_yuan: float = 20.0
    """Background supply added per yuan/MWh of price (how price-sensitive the market is)."""
    step_yuan_mwh: float = 5.0
    blocks: int = 40
    """Ladder blocks on each side of the series price."""


@dataclass(frozen=True)
class OrderBook:
    """Orders of many slots as arrays: one row per order (kW, yuan/MWh)."""

    slot: IntArray
    price: FloatArray
    quantity_kw: FloatArray
    supply: BoolArray
    """True: a sell (supply) order; False: a buy (demand) order."""

    def __len__(self) -> int:
        return int(self.slot.shape[0])

    @staticmethod
    def concat(*books: OrderBook) -> OrderBook:
        return OrderBook(
            slot=np.concatenate([b.slot for b in books]),
            price=np.concatenate([b.price for b in books]),
            quantity_kw=np.concatenate([b.quantity_kw for b in books]),
            supply=np.concatenate([b.supply for b in books]),
        )


@dataclass(frozen=True)
class BookClearing:
    price_yuan_mwh: FloatArray
    """Per slot."""
    volume_kw: FloatArray
    """Per slot: accepted supply (= accepted demand)."""
    accepted_kw: FloatArray
    """Per order of the book."""


def clear_book(book: OrderBook, slots: int, *, floor: float, cap: float) -> BookClearing:
    """Uniform-price clearing of every slot of ``book`` at once (module docstring).

    A slot without any order clears at ``floor`` with no volume."""
    n = len(book)
    if n == 0:
        return BookClearing(np.full(slots, floor), np.zeros(slots), np.zeros(0))
    order = np.lexsort((book.price, book.slot))
    s_slot = book.slot[order]
    s_price = book.price[order]
    s_qty = book.quantity_kw[order]
    s_sup = book.supply[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(s_slot[1:], s_slot[:-1], out=new[1:])
    new[1:] |= s_price[1:] != s_price[:-1]
    gid = np.cumsum(new) - 1
    groups = int(gid[-1]) + 1
    g_slot = s_slot[new]
    g_price = s_price[new]
    sup_at = np.bincount(gid, weights=np.where(s_sup, s_qty, 0.0), minlength=groups)
    dem_at = np.bincount(gid, weights=np.where(s_sup, 0.0, s_qty), minlength=groups)

    ids = np.arange(slots)
    first = np.searchsorted(g_slot, ids, side="left")
    end = np.searchsorted(g_slot, ids, side="right")
    cs = np.concatenate(([0.0], np.cumsum(sup_at)))
    cd = np.concatenate(([0.0], np.cumsum(dem_at)))
    s_le = cs[1:] - cs[first][g_slot]  # supply at or below each group's price, in its slot
    d_total = cd[end] - cd[first]
    d_ge = d_total[g_slot] - (cd[:-1] - cd[first][g_slot])  # demand at or above
    tol = 1e-9 * (cs[end] - cs[first] + d_total)
    short = s_le - d_ge < -tol[g_slot]
    j = first + np.bincount(g_slot[short], minlength=slots)  # first group with S >= D

    empty = first == end
    has_j = j < end
    jj = np.minimum(j, np.maximum(end - 1, 0))
    prev = np.maximum(j - 1, 0)
    s_below = np.where(j > first, s_le[prev], 0.0)
    d_ge_j = np.where(has_j, d_ge[jj], 0.0)
    at_j = has_j & (s_below <= d_ge_j + tol)  # case 1: price c_j, supply there rationed
    price_group = np.where(at_j, j, prev)
    volume = np.where(at_j, d_ge_j, s_below)
    sup_frac = np.where(
        at_j, (d_ge_j - s_below) / np.where(has_j & (sup_at[jj] > 0), sup_at[jj], 1.0), 1.0
    )
    dem_at_p = dem_at[prev]
    dem_frac = np.where(at_j, 1.0, (s_below - d_ge_j) / np.where(dem_at_p > 0, dem_at_p, 1.0))
    sup_frac = np.clip(sup_frac, 0.0, 1.0)
    dem_frac = np.clip(dem_frac, 0.0, 1.0)

    price = np.clip(np.where(empty, floor, g_price[price_group]), floor, cap)
    volume = np.where(empty, 0.0, volume)

    pg = price_group[s_slot]
    frac_sorted = np.where(
        s_sup,
        np.where(gid < pg, 1.0, np.where(gid == pg, sup_frac[s_slot], 0.0)),
        np.where(gid > pg, 1.0, np.where(gid == pg, dem_frac[s_slot], 0.0)),
    )
    accepted = np.empty(n)
    accepted[order] = s_qty * frac_sorted
    return BookClearing(price_yuan_mwh=price, volume_kw=volume, accepted_kw=accepted)


def background_book(
    rules: TradingRules,
    reference_yuan_mwh: FloatArray,
    load_mw: FloatArray,
    stack: StackShape,
) -> OrderBook:
    """The background orders of every slot (module docstring), in kW."""
    slots = reference_yuan_mwh.shape[0]
    floor, cap = rules.clearing_floor_yuan_mwh, rules.clearing_cap_yuan_mwh
    k = stack.blocks
    load_kw = np.asarray(load_mw, dtype=float) * 1000.0
    # Blocks no larger than the load allows, so that the middle one always straddles it.
    block_kw = np.minimum(
        stack.depth_mw_per_yuan * stack.step_yuan_mwh * 1000.0, load_kw / (k + 0.5)
    )
    steps = np.arange(-k, k + 1, dtype=float) * stack.step_yuan_mwh
    ladder_price = np.clip(reference_yuan_mwh[:, None] + steps[None, :], floor, cap)
    must_run = np.maximum(load_kw - (k + 0.5) * block_kw, 0.0)
    width = 2 * k + 1 + 3
    price = np.empty((slots, width))
    qty = np.empty((slots, width))
    supply = np.ones((slots, width), dtype=bool)
    price[:, : 2 * k + 1] = ladder_price
    qty[:, : 2 * k + 1] = block_kw[:, None]
    price[:, -3], qty[:, -3] = floor, must_run
    price[:, -2], qty[:, -2] = cap, np.maximum(load_kw, block_kw)  # scarcity
    price[:, -1], qty[:, -1], supply[:, -1] = cap, load_kw, False  # the load
    slot = np.repeat(np.arange(slots, dtype=np.int64), width)
    keep = qty.reshape(-1) > 0
    return OrderBook(
        slot=slot[keep],
        price=price.reshape(-1)[keep],
        quantity_kw=qty.reshape(-1)[keep],
        supply=supply.reshape(-1)[keep],
    )


def submission_book(
    rules: TradingRules,
    submissions: Sequence[BidSubmission],
    product: AncillaryProduct | None = None,
) -> tuple[OrderBook, IntArray, IntArray]:
    """The orders of the bids of ``product`` in ``submissions``, with each order's
    submission (index in ``submissions``) and bid (index in its ``bids``). A bid without
    price (quantity-only) is a price taker: a sell at the clearing floor, a buy at the cap."""
    floor, cap = rules.clearing_floor_yuan_mwh, rules.clearing_cap_yuan_mwh
    slot: list[int] = []
    price: list[float] = []
    qty: list[float] = []
    supply: list[bool] = []
    owner: list[int] = []
    index: list[int] = []
    for n, submission in enumerate(submissions):
        bids = submission.bids
        picked = [i for i, b in enumerate(bids) if b.product == product]
        chosen = bids if len(picked) == len(bids) else [bids[i] for i in picked]
        sides = [b.side == "sell" for b in chosen]
        slot.extend([b.slot for b in chosen])
        price.extend(
            [
                (floor if sell else cap) if b.price_yuan_mwh is None else b.price_yuan_mwh
                for b, sell in zip(chosen, sides, strict=True)
            ]
        )
        qty.extend([b.quantity_kw for b in chosen])
        supply.extend(sides)
        owner.extend([n] * len(picked))
        index.extend(picked)
    book = OrderBook(
        slot=np.array(slot, dtype=np.int64),
        price=np.array(price, dtype=float),
        quantity_kw=np.array(qty, dtype=float),
        supply=np.array(supply, dtype=bool),
    )
    return book, np.array(owner, dtype=np.int64), np.array(index, dtype=np.int64)


def storage_trim(
    storage: StorageEnvelope,
    sell_kw: FloatArray,
    buy_kw: FloatArray,
    *,
    slot_hours: float = 0.25,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Accepted sell and buy kW per slot trimmed in time order so that the state of charge
    stays within ``[soc_min, soc_max]``; returns (sell, buy, soc after each slot)."""
    soc_max = storage.energy_kwh if storage.soc_max_kwh is None else storage.soc_max_kwh
    soc_min = storage.soc_min_kwh
    out_per_kw = slot_hours / storage.discharge_efficiency
    in_per_kw = slot_hours * storage.charge_efficiency
    sell = np.array(sell_kw, dtype=float)
    buy = np.array(buy_kw, dtype=float)
    trace = np.empty(sell.shape[0])
    soc = storage.soc_start_kwh
    for t in range(sell.shape[0]):
        s, b = float(sell[t]), float(buy[t])
        after = soc + b * in_per_kw - s * out_per_kw
        if after < soc_min:
            s = max(0.0, (soc + b * in_per_kw - soc_min) / out_per_kw)
        elif after > soc_max:
            b = max(0.0, (soc_max - soc + s * out_per_kw) / in_per_kw)
        sell[t], buy[t] = s, b
        soc = min(max(soc + b * in_per_kw - s * out_per_kw, soc_min), soc_max)
        trace[t] = soc
    return sell, buy, trace


def storage_trim_many(
    storages: Sequence[StorageEnvelope],
    sell_kw: FloatArray,
    buy_kw: FloatArray,
    *,
    slot_hours: float = 0.25,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`storage_trim` of many portfolios at once: ``sell_kw`` and ``buy_kw`` are
    ``(len(storages), slots)``; one vector step per slot (one portfolio: the float loop of
    :func:`storage_trim`, the same arithmetic without numpy's per-call cost)."""
    if len(storages) == 1:
        sell, buy, trace = storage_trim(storages[0], sell_kw[0], buy_kw[0], slot_hours=slot_hours)
        return sell[None, :], buy[None, :], trace[None, :]
    soc_min = np.array([s.soc_min_kwh for s in storages], dtype=float)
    soc_max = np.array(
        [s.energy_kwh if s.soc_max_kwh is None else s.soc_max_kwh for s in storages], dtype=float
    )
    out_per_kw = slot_hours / np.array([s.discharge_efficiency for s in storages], dtype=float)
    in_per_kw = slot_hours * np.array([s.charge_efficiency for s in storages], dtype=float)
    sell = np.array(sell_kw, dtype=float)
    buy = np.array(buy_kw, dtype=float)
    soc = np.array([s.soc_start_kwh for s in storages], dtype=float)
    trace = np.empty_like(sell)
    for t in range(sell.shape[1]):
        s, b = sell[:, t], buy[:, t]
        gained = soc + b * in_per_kw
        after = gained - s * out_per_kw
        s = np.where(after < soc_min, np.maximum(0.0, (gained - soc_min) / out_per_kw), s)
        b = np.where(
            after > soc_max, np.maximum(0.0, (soc_max - soc + s * out_per_kw) / in_per_kw), b
        )
        sell[:, t], buy[:, t] = s, b
        soc = np.clip(soc + b * in_per_kw - s * out_per_kw, soc_min, soc_max)
        trace[:, t] = soc
    return sell, buy, trace


@dataclass(frozen=True)
class DayClearing:
    """A cleared day: the price and volume of every slot, and each submission's result
    (built on demand from the accepted quantities)."""

    price_yuan_mwh: FloatArray
    """Per slot."""
    volume_kw: FloatArray
    """Accepted supply per slot, background included (before any storage trim)."""
    submissions: Mapping[str, BidSubmission]
    book: OrderBook
    """The VPP orders (background excluded)."""
    owner: IntArray
    """Per order: index of its submission in ``submissions``."""
    bid_index: IntArray
    accepted_kw: FloatArray
    """Per order, after the storage trim."""
    product: AncillaryProduct | None = None

    def result(self, submission_id: str) -> ClearingResult:
        ids = list(self.submissions)
        n = ids.index(submission_id)
        submission = self.submissions[submission_id]
        rows = np.flatnonzero(self.owner == n)
        prices = self.price_yuan_mwh
        bids = submission.bids
        return ClearingResult(
            submission_id=submission_id,
            vpp_id=submission.vpp_id,
            market_type=submission.market_type,
            trading_date=submission.trading_date,
            bids=[
                ClearedBid(
                    slot=bids[i].slot,
                    side=bids[i].side,
                    offered_kw=bids[i].quantity_kw,
                    cleared_kw=accepted,
                    clearing_price_yuan_mwh=float(prices[bids[i].slot]),
                    product=self.product,
                )
                for i, accepted in zip(
                    self.bid_index[rows].tolist(), self.accepted_kw[rows].tolist(), strict=True
                )
            ],
        )

    @cached_property
    def results(self) -> dict[str, ClearingResult]:
        """Every submission's result, by submission id."""
        return {sid: self.result(sid) for sid in self.submissions}


def clear_day(
    rules: TradingRules,
    reference_yuan_mwh: FloatArray,
    load_mw: FloatArray,
    submissions: Mapping[str, BidSubmission],
    *,
    stack: StackShape | None = None,
    product: AncillaryProduct | None = None,
) -> DayClearing:
    """Clear one day (``slots_per_day`` slots) of ``submissions`` (by submission id) against
    the background stack of the reference prices and load; bids of ``product`` only
    (None: energy). Submissions with storage have their energy awards trimmed to stay
    feasible (module docstring)."""
    slots = rules.slots_per_day
    reference = np.asarray(reference_yuan_mwh, dtype=float)
    load = np.asarray(load_mw, dtype=float)
    if reference.shape != (slots,) or load.shape != (slots,):
        raise ValueError(f"reference prices and load need {slots} slots")
    subs = list(submissions.values())
    book, owner, bid_index = submission_book(rules, subs, product)
    background = background_book(rules, reference, load, stack or StackShape())
    cleared = clear_book(
        OrderBook.concat(book, background),
        slots,
        floor=rules.clearing_floor_yuan_mwh,
        cap=rules.clearing_cap_yuan_mwh,
    )
    accepted = cleared.accepted_kw[: len(book)]
    with_storage = [n for n, sub in enumerate(subs) if sub.storage is not None]
    if with_storage and product is None:
        accepted = _trimmed(subs, with_storage, book, owner, accepted, rules)
    return DayClearing(
        price_yuan_mwh=cleared.price_yuan_mwh,
        volume_kw=cleared.volume_kw,
        submissions=submissions,
        book=book,
        owner=owner,
        bid_index=bid_index,
        accepted_kw=accepted,
        product=product,
    )


def accept_at_prices(
    rules: TradingRules,
    prices_yuan_mwh: FloatArray,
    submissions: Mapping[str, BidSubmission],
    *,
    product: AncillaryProduct | None = None,
) -> DayClearing:
    """A price taker's clearing (a replay of history): the prices are given and bids never
    move them; a sell at or below the slot's price and a buy at or above it are accepted
    in full, then storage awards are trimmed as in :func:`clear_day`."""
    slots = rules.slots_per_day
    prices = np.asarray(prices_yuan_mwh, dtype=float)
    if prices.shape != (slots,):
        raise ValueError(f"prices need {slots} slots")
    subs = list(submissions.values())
    book, owner, bid_index = submission_book(rules, subs, product)
    p = prices[book.slot]
    taken = np.where(book.supply, book.price <= p, book.price >= p)
    accepted = np.where(taken, book.quantity_kw, 0.0)
    with_storage = [n for n, sub in enumerate(subs) if sub.storage is not None]
    if with_storage and product is None:
        accepted = _trimmed(subs, with_storage, book, owner, accepted, rules)
    volume = np.bincount(
        book.slot, weights=np.where(book.supply, accepted, 0.0), minlength=slots
    ).astype(float)
    return DayClearing(
        price_yuan_mwh=prices,
        volume_kw=volume,
        submissions=submissions,
        book=book,
        owner=owner,
        bid_index=bid_index,
        accepted_kw=accepted,
        product=product,
    )


def _trimmed(
    subs: Sequence[BidSubmission],
    with_storage: list[int],
    book: OrderBook,
    owner: IntArray,
    accepted: FloatArray,
    rules: TradingRules,
) -> FloatArray:
    """``accepted`` per order after :func:`storage_trim_many` of the per-slot sums of each
    portfolio; the orders of one slot and side share the trim factor."""
    slots = rules.slots_per_day
    row_of = np.full(len(subs), -1, dtype=np.int64)
    row_of[with_storage] = np.arange(len(with_storage))
    rows = row_of[owner]
    mine = rows >= 0
    cell = rows[mine] * slots + book.slot[mine]
    size = len(with_storage) * slots
    supply = book.supply[mine]
    acc = accepted[mine]
    sell = np.bincount(cell, weights=np.where(supply, acc, 0.0), minlength=size).astype(float)
    buy = np.bincount(cell, weights=np.where(supply, 0.0, acc), minlength=size).astype(float)
    storages = [s for n in with_storage if (s := subs[n].storage) is not None]
    sell_t, buy_t, _ = storage_trim_many(
        storages,
        sell.reshape(-1, slots),
        buy.reshape(-1, slots),
        slot_hours=rules.slot_minutes / 60,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        sell_f = np.where(sell > 0, sell_t.reshape(-1) / sell, 1.0)
        buy_f = np.where(buy > 0, buy_t.reshape(-1) / buy, 1.0)
    factor = np.where(supply, sell_f[cell], buy_f[cell])
    out = accepted.copy()
    out[mine] = np.minimum(acc * np.clip(factor, 0.0, 1.0), book.quantity_kw[mine])
    return out
