"""Uniform-price clearing: hand-computed books, the background stack, storage feasibility,
and properties (price within limits, equilibrium, accepted <= offered, monotonic in demand)."""

from __future__ import annotations

import datetime as dt

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.markets import (
    PRESETS,
    BidSubmission,
    MarketBid,
    OrderBook,
    StackShape,
    StorageEnvelope,
    TradingRules,
    clear_book,
    clear_day,
    storage_trim,
)

SHANDONG = PRESETS["shandong"]
DAY = dt.date(2026, 4, 20)
FLAT = np.full(96, 300.0)
LOAD = np.full(96, 1_000.0)  # MW: a small market, so that VPP bids move the price
STACK = StackShape(depth_mw_per_yuan=1.0, step_yuan_mwh=5.0, blocks=40)


def book(*orders: tuple[int, float, float, bool]) -> OrderBook:
    slot, price, qty, supply = zip(*orders, strict=True) if orders else ((), (), (), ())
    return OrderBook(
        slot=np.array(slot, dtype=np.int64),
        price=np.array(price, dtype=float),
        quantity_kw=np.array(qty, dtype=float),
        supply=np.array(supply, dtype=bool),
    )


def submission(*bids: MarketBid, storage: StorageEnvelope | None = None) -> BidSubmission:
    return BidSubmission(
        vpp_id="vpp-1",
        market_type="SPOT",
        trading_date=DAY,
        bids=list(bids),
        idempotency_key="k",
        storage=storage,
    )


def test_the_marginal_supply_is_rationed() -> None:
    # Supply 100 @ 10 and 100 @ 20 against demand 150 @ 30: price 20, the 20 offer gets 50.
    cleared = clear_book(
        book((0, 10, 100, True), (0, 20, 100, True), (0, 30, 150, False)), 1, floor=0, cap=100
    )
    assert cleared.price_yuan_mwh.tolist() == [20.0]
    assert cleared.accepted_kw.tolist() == [100.0, 50.0, 150.0]
    assert cleared.volume_kw.tolist() == [150.0]


def test_the_marginal_demand_is_rationed() -> None:
    # Supply 100 @ 10; demand 60 @ 30 and 80 @ 10: price 10, the 10 bid gets 40 of 80.
    cleared = clear_book(
        book((0, 10, 100, True), (0, 30, 60, False), (0, 10, 80, False)), 1, floor=0, cap=100
    )
    assert cleared.price_yuan_mwh.tolist() == [10.0]
    assert cleared.accepted_kw.tolist() == [100.0, 60.0, 40.0]


def test_orders_at_the_marginal_price_share_pro_rata() -> None:
    cleared = clear_book(
        book((0, 10, 100, True), (0, 20, 300, True), (0, 20, 100, True), (0, 50, 200, False)),
        1,
        floor=0,
        cap=100,
    )
    assert cleared.price_yuan_mwh.tolist() == [20.0]
    assert cleared.accepted_kw.tolist() == pytest.approx([100.0, 75.0, 25.0, 200.0])


def test_slots_clear_independently_and_an_empty_slot_at_the_floor() -> None:
    cleared = clear_book(
        book((2, 10, 100, True), (2, 30, 50, False), (0, 5, 10, True)), 3, floor=-10, cap=100
    )
    assert cleared.price_yuan_mwh.tolist() == [5.0, -10.0, 10.0]
    assert cleared.volume_kw.tolist() == [0.0, 0.0, 50.0]
    assert cleared.accepted_kw.tolist() == [50.0, 50.0, 0.0]
    empty = clear_book(book(), 2, floor=0, cap=1)
    assert empty.price_yuan_mwh.tolist() == [0.0, 0.0]


def test_price_is_clipped_to_the_clearing_limits() -> None:
    cleared = clear_book(book((0, -500, 100, True), (0, 2000, 50, False)), 1, floor=-100, cap=1500)
    assert cleared.price_yuan_mwh.tolist() == [-100.0]


def test_without_bids_every_slot_clears_at_the_series_price() -> None:
    ref = np.linspace(-85, 1047.51, 96)
    day = clear_day(SHANDONG, ref, np.full(96, 60_000.0), {})
    assert np.array_equal(day.price_yuan_mwh, ref)
    assert day.results == {}


def test_a_large_sell_pushes_the_price_down_the_ladder() -> None:
    # 1 MW per yuan, 5 yuan steps: 12 MW offered at the floor displaces 12 MW: 300 -> 290.
    sub = submission(MarketBid(slot=0, side="sell", quantity_kw=12_000, price_yuan_mwh=-80))
    day = clear_day(SHANDONG, FLAT, LOAD, {"s": sub}, stack=STACK)
    assert day.price_yuan_mwh[0] == 290.0
    assert day.price_yuan_mwh[1] == 300.0
    (bid,) = day.results["s"].bids
    assert (bid.cleared_kw, bid.clearing_price_yuan_mwh, bid.offered_kw) == (12_000, 290, 12_000)


def test_a_bid_above_the_price_is_rejected_and_at_the_price_shares_the_block() -> None:
    high = MarketBid(slot=0, side="sell", quantity_kw=1_000, price_yuan_mwh=305)
    at = MarketBid(slot=1, side="sell", quantity_kw=5_000, price_yuan_mwh=300)
    day = clear_day(SHANDONG, FLAT, LOAD, {"s": submission(high, at)}, stack=STACK)
    cleared = [b.cleared_kw for b in day.results["s"].bids]
    assert cleared[0] == 0.0
    # Slot 1: the 300 block (5 MW background) is half taken without us; with our 5 MW at
    # 300 the 10 MW there shares 2.5 MW: 1/4 each.
    assert day.price_yuan_mwh[1] == 300.0
    assert cleared[1] == pytest.approx(1_250.0)


def test_quantity_only_bids_take_the_price() -> None:
    rules = PRESETS["quantity_only"]
    sell = MarketBid(slot=3, side="sell", quantity_kw=1_000)
    buy = MarketBid(slot=4, side="buy", quantity_kw=1_000)
    day = clear_day(rules, FLAT, LOAD, {"s": submission(sell, buy)}, stack=STACK)
    assert [b.cleared_kw for b in day.results["s"].bids] == [1_000, 1_000]
    assert day.price_yuan_mwh[3] == 300.0  # 1 MW moves the price less than a 5-yuan step


def test_storage_awards_stay_within_the_state_of_charge() -> None:
    # 1000 kWh full battery offering 1000 kW for every slot: 4 slots empty it, not 96.
    storage = StorageEnvelope(energy_kwh=1000, soc_start_kwh=1000, discharge_efficiency=1.0)
    bids = [MarketBid(slot=s, side="sell", quantity_kw=1_000, price_yuan_mwh=0) for s in range(96)]
    day = clear_day(
        SHANDONG, FLAT, np.full(96, 60_000.0), {"s": submission(*bids, storage=storage)}
    )
    cleared = [b.cleared_kw for b in day.results["s"].bids]
    assert cleared[:4] == pytest.approx([1_000] * 4)
    assert sum(cleared[4:]) == pytest.approx(0, abs=1e-6)


def test_storage_trim_charges_before_it_discharges() -> None:
    storage = StorageEnvelope(
        energy_kwh=100, soc_start_kwh=0, charge_efficiency=0.9, discharge_efficiency=0.9
    )
    sell = np.array([100.0, 0.0, 100.0, 100.0])
    buy = np.array([0.0, 500.0, 0.0, 0.0])
    s, b, soc = storage_trim(storage, sell, buy)
    assert s[0] == 0.0  # empty: nothing to sell
    assert b[1] == pytest.approx(100 / (0.25 * 0.9))  # fills to 100 kWh, not beyond
    assert s[2] == pytest.approx(100.0)  # 100 kW for 15 min = 25 kWh / 0.9 out of the cells
    assert soc[2] == pytest.approx(100 - 25 / 0.9)
    assert soc.min() >= 0 and soc.max() <= 100 + 1e-9


# --- properties -------------------------------------------------------------------------

orders = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.sampled_from([-100.0, -50.0, 0.0, 10.0, 20.0, 35.5, 100.0, 800.0, 1500.0]),
        st.floats(0.5, 5_000, allow_nan=False),
        st.booleans(),
    ),
    min_size=0,
    max_size=40,
)


def check_equilibrium(ob: OrderBook, slots: int, floor: float, cap: float) -> None:
    cleared = clear_book(ob, slots, floor=floor, cap=cap)
    price, acc = cleared.price_yuan_mwh, cleared.accepted_kw
    assert ((price >= floor) & (price <= cap)).all()
    assert (acc >= -1e-9).all()
    assert (acc <= ob.quantity_kw + 1e-9).all()
    for t in range(slots):
        mine = ob.slot == t
        sup, dem = mine & ob.supply, mine & ~ob.supply
        p = price[t]
        assert acc[sup].sum() == pytest.approx(acc[dem].sum(), rel=1e-9, abs=1e-6)
        assert cleared.volume_kw[t] == pytest.approx(acc[sup].sum(), rel=1e-9, abs=1e-6)
        if not (floor < p < cap):
            continue  # clipped prices: the stack's own price lies outside
        full = (sup & (ob.price < p)) | (dem & (ob.price > p))
        none = (sup & (ob.price > p)) | (dem & (ob.price < p))
        assert np.allclose(acc[full], ob.quantity_kw[full])
        assert np.allclose(acc[none], 0.0)
        at = mine & (ob.price == p)
        short_s = (acc[at & sup] < ob.quantity_kw[at & sup] - 1e-6).any()
        short_d = (acc[at & dem] < ob.quantity_kw[at & dem] - 1e-6).any()
        assert not (short_s and short_d), "both sides rationed at the price: not cleared"
        if acc[mine].sum() > 1e-6:
            assert (ob.price[mine] == p).any(), "the price is one of the orders' prices"


@settings(max_examples=300, deadline=None)
@given(orders)
def test_clearing_is_a_uniform_price_equilibrium(
    rows: list[tuple[int, float, float, bool]],
) -> None:
    check_equilibrium(book(*rows), 4, -100.0, 1500.0)


@settings(max_examples=200, deadline=None)
@given(
    orders,
    st.integers(0, 3),
    st.sampled_from([-50.0, 10.0, 20.0, 300.0, 1500.0]),
    st.floats(1, 10_000),
)
def test_clearing_price_is_monotonic_in_demand(
    rows: list[tuple[int, float, float, bool]], slot: int, price: float, qty: float
) -> None:
    before = clear_book(book(*rows), 4, floor=-100, cap=1500).price_yuan_mwh
    after = clear_book(book(*rows, (slot, price, qty, False)), 4, floor=-100, cap=1500)
    assert (after.price_yuan_mwh >= before - 1e-9).all()


bid_lists = st.lists(
    st.builds(
        MarketBid,
        slot=st.integers(0, 95),
        side=st.sampled_from(["sell", "buy"]),
        quantity_kw=st.floats(100, 20_000),
        price_yuan_mwh=st.floats(-80, 1300),
    ),
    max_size=60,
    unique_by=lambda b: (b.slot, b.side),
)


@settings(max_examples=100, deadline=None)
@given(
    bid_lists,
    st.floats(0, 1, exclude_max=False),
    st.floats(500, 20_000),
    st.floats(0.8, 1.0),
)
def test_cleared_storage_bids_respect_the_state_of_charge(
    bids: list[MarketBid], start: float, energy: float, eta: float
) -> None:
    storage = StorageEnvelope(
        energy_kwh=energy,
        soc_start_kwh=start * energy,
        soc_min_kwh=0.1 * energy * start,
        soc_max_kwh=energy,
        charge_efficiency=eta,
        discharge_efficiency=eta,
    )
    ref = 300 + 200 * np.sin(np.arange(96) / 96 * 2 * np.pi)
    day = clear_day(SHANDONG, ref, LOAD, {"s": submission(*bids, storage=storage)}, stack=STACK)
    result = day.results["s"]
    sell = np.zeros(96)
    buy = np.zeros(96)
    for bid in result.bids:
        assert 0 <= bid.cleared_kw <= bid.offered_kw + 1e-9
        assert SHANDONG.clearing_floor_yuan_mwh <= bid.clearing_price_yuan_mwh
        assert bid.clearing_price_yuan_mwh <= SHANDONG.clearing_cap_yuan_mwh
        (sell if bid.side == "sell" else buy)[bid.slot] += bid.cleared_kw
    soc = storage.soc_start_kwh + np.cumsum((buy * eta - sell / eta) * 0.25)
    tol = 1e-6 * energy
    assert soc.min() >= storage.soc_min_kwh - tol
    assert soc.max() <= energy + tol


def test_day_clearing_of_many_submissions_matches_one_by_one_results() -> None:
    rng = np.random.default_rng(5)
    subs = {}
    for v in range(20):
        bids = [
            MarketBid(
                slot=s,
                side="sell" if rng.random() < 0.5 else "buy",
                quantity_kw=float(rng.integers(1, 20) * 100),
                price_yuan_mwh=float(rng.uniform(-80, 1300)),
            )
            for s in range(96)
        ]
        subs[f"s{v}"] = msgspec.structs.replace(submission(*bids), vpp_id=f"v{v}")
    day = clear_day(SHANDONG, FLAT, np.full(96, 60_000.0), subs)
    assert sorted(day.results) == sorted(subs)
    for sid, result in day.results.items():
        assert result.vpp_id == subs[sid].vpp_id
        assert len(result.bids) == 96
        for bid, cleared in zip(subs[sid].bids, result.bids, strict=True):
            assert (bid.slot, bid.side, bid.quantity_kw) == (
                cleared.slot,
                cleared.side,
                cleared.offered_kw,
            )
            price = cleared.clearing_price_yuan_mwh
            better = (
                (bid.price_yuan_mwh or 0) < price
                if bid.side == "sell"
                else ((bid.price_yuan_mwh or 0) > price)
            )
            if better:
                assert cleared.cleared_kw == pytest.approx(bid.quantity_kw)


def test_ancillary_products_clear_apart_from_energy() -> None:
    bids = [
        MarketBid(slot=0, side="sell", quantity_kw=1_000, price_yuan_mwh=5, product="regulation"),
        MarketBid(slot=0, side="sell", quantity_kw=2_000, price_yuan_mwh=5, product="reserve"),
    ]
    sub = msgspec.structs.replace(submission(*bids), market_type="ANCILLARY")
    day = clear_day(
        SHANDONG,
        np.full(96, 10.0),
        np.full(96, 100.0),
        {"a": sub},
        product="regulation",
        stack=STACK,
    )
    (only,) = day.results["a"].bids
    assert (only.product, only.cleared_kw) == ("regulation", 1_000)


def test_clear_day_checks_the_series_length() -> None:
    with pytest.raises(ValueError, match="96 slots"):
        clear_day(TradingRules(), np.zeros(95), np.zeros(95), {})


@settings(max_examples=40, deadline=None)
@given(st.lists(bid_lists, min_size=2, max_size=6), st.data())
def test_many_storage_portfolios_clear_feasibly_together(
    portfolios: list[list[MarketBid]], data: st.DataObject
) -> None:
    subs = {}
    for n, bids in enumerate(portfolios):
        energy = data.draw(st.floats(200, 5_000), label=f"energy{n}")
        storage = StorageEnvelope(
            energy_kwh=energy,
            soc_start_kwh=data.draw(st.floats(0, 1), label=f"start{n}") * energy,
            charge_efficiency=0.9,
            discharge_efficiency=0.9,
        )
        subs[f"s{n}"] = msgspec.structs.replace(
            submission(*bids, storage=storage), vpp_id=f"v{n}", idempotency_key=f"k{n}"
        )
    day = clear_day(SHANDONG, FLAT, LOAD, subs, stack=STACK)
    for sid, sub in subs.items():
        assert sub.storage is not None
        flow = np.zeros(96)
        for bid in day.results[sid].bids:
            assert 0 <= bid.cleared_kw <= bid.offered_kw + 1e-9
            flow[bid.slot] += bid.cleared_kw * (-1 / 0.9 if bid.side == "sell" else 0.9) * 0.25
        soc = sub.storage.soc_start_kwh + np.cumsum(flow)
        assert soc.min() >= -1e-6 * sub.storage.energy_kwh
        assert soc.max() <= sub.storage.energy_kwh * (1 + 1e-6)


@settings(max_examples=60, deadline=None)
@given(bid_lists, st.floats(100, 50_000), st.floats(-80, 1300))
def test_day_prices_rise_with_more_demand(
    bids: list[MarketBid], extra_kw: float, price: float
) -> None:
    ref = 300 + 200 * np.sin(np.arange(96) / 96 * 2 * np.pi)
    before = clear_day(SHANDONG, ref, LOAD, {"s": submission(*bids)}, stack=STACK)
    more = [
        MarketBid(slot=s, side="buy", quantity_kw=extra_kw, price_yuan_mwh=price) for s in range(96)
    ]
    other = msgspec.structs.replace(submission(*more), vpp_id="buyer", idempotency_key="b")
    after = clear_day(SHANDONG, ref, LOAD, {"s": submission(*bids), "b": other}, stack=STACK)
    assert (after.price_yuan_mwh >= before.price_yuan_mwh - 1e-9).all()
    if price > ref.max() + 5 and extra_kw > 10_000:
        assert (after.price_yuan_mwh > before.price_yuan_mwh).any()
