"""Market clearing benchmark against a floor measured in the same run.

A 96-slot day of the reference year with 10,000 VPP bids (100 submissions of 100 bids,
sell and buy, prices across the Shandong offer range) plus the background stack derived
from the series (81 ladder blocks, must-run, scarcity and the load per slot):

* ``clear_book``: our uniform-price clearing of every slot at once (ties grouped,
  marginal orders pro rata, per-order acceptance), on the prebuilt order arrays;
* the floor: a bare numpy sort-and-scan over the same arrays (one lexsort by slot and
  price, per-slot running supply and demand, the first price where supply covers
  demand), which finds each slot's price and nothing else.

Target: ours <= 3x the floor's CPU time (best of ``--repeat``, interleaved), and the same
prices. Printed for information: ``clear_day`` from the ``BidSubmission`` Structs (the
flattening in Python), with storage trimming for half of the submissions, and building
the 10,000 ``ClearedBid`` results.

Submit-bid through the API (printed for information, no target): p99 latency of
``POST /api/v1/vpp/trading/submit-bid`` with a 96-slot bid (checks, the PENDING row, the
simulated exchange, 96 trading_records and their audit entries) next to the trivial
``GET /healthz`` on the same in-process hub (SQLite file, one request at a time).

    python bench/markets.py [--repeat 7] [--no-fail] [--submits 120]

Exits 1 when the clearing target is missed (``--no-fail`` to only print).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as ``python bench/markets.py``, this file's directory comes first on sys.path and
# bench/hub.py would shadow the ``hub`` package: drop that entry before importing it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import datetime as dt  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

from hub.markets import (  # noqa: E402
    PRESETS,
    BidSubmission,
    BookClearing,
    MarketBid,
    OrderBook,
    StackShape,
    StorageEnvelope,
    background_book,
    clear_book,
    clear_day,
    reference_year,
)

T = 96
SUBMISSIONS = 100
BIDS_EACH = 100
TARGET = 3.0
RULES = PRESETS["shandong"]
DAY = dt.date(2026, 4, 20)


def best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Least CPU time of this process over ``repeat`` calls, and the last result (CPU
    time: the benchmark machine is shared, another user's job must not count)."""
    times, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return min(times), result


def submissions() -> dict[str, BidSubmission]:
    rng = np.random.default_rng(3)
    out = {}
    for n in range(SUBMISSIONS):
        slots = rng.choice(T, size=BIDS_EACH // 2, replace=False)
        bids = [
            MarketBid(
                slot=int(s),
                side=side,
                quantity_kw=float(rng.integers(1, 50) * 100),
                price_yuan_mwh=float(np.round(rng.uniform(-80, 1300), 1)),
            )
            for s in slots
            for side in ("sell", "buy")
        ]
        storage = StorageEnvelope(energy_kwh=2_000, soc_start_kwh=1_000) if n % 2 else None
        out[f"s{n}"] = BidSubmission(
            vpp_id=f"vpp-{n}",
            market_type="SPOT",
            trading_date=DAY,
            bids=bids,
            idempotency_key=f"k{n}",
            storage=storage,
        )
    return out


def book_of(subs: dict[str, BidSubmission]) -> OrderBook:
    bids = [b for s in subs.values() for b in s.bids]
    return OrderBook(
        slot=np.array([b.slot for b in bids], dtype=np.int64),
        price=np.array([b.price_yuan_mwh for b in bids], dtype=float),
        quantity_kw=np.array([b.quantity_kw for b in bids], dtype=float),
        supply=np.array([b.side == "sell" for b in bids], dtype=bool),
    )


def sort_and_scan(book: OrderBook, slots: int) -> npt.NDArray[np.float64]:
    """The floor: each slot's price as the first sorted price where the supply at or
    below it covers the demand at or above it (no ties, no rationing, no acceptance)."""
    order = np.lexsort((book.price, book.slot))
    slot = book.slot[order]
    price = book.price[order]
    qty = book.quantity_kw[order]
    supply = book.supply[order]
    cs = np.cumsum(np.where(supply, qty, 0.0))
    cd = np.cumsum(np.where(supply, 0.0, qty))
    first = np.searchsorted(slot, np.arange(slots))
    end = np.searchsorted(slot, np.arange(slots), side="right")
    cs0 = np.concatenate(([0.0], cs))
    cd0 = np.concatenate(([0.0], cd))
    s_le = cs - cs0[first][slot]
    d_ge = cd0[end][slot] - cd0[:-1]
    short = s_le < d_ge
    j = first + np.bincount(slot[short], minlength=slots)
    out: npt.NDArray[np.float64] = price[np.minimum(j, end - 1)]
    return out


async def bench_submit(submits: int) -> None:
    """p99 of a 96-slot submit-bid next to /healthz (see the module doc)."""
    import msgspec
    from litestar.testing import AsyncTestClient

    from hub import Settings
    from hub.app import create_app
    from hub.auth import Principal
    from hub.store import User, create_engine, migrate, sessionmaker
    from protocol.clock import ManualClock

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        engine = create_engine(url)
        await migrate(engine)
        async with sessionmaker(engine)() as session:
            session.add(User(id="bench", username="bench", password_hash="", role="admin"))
            await session.commit()
        await engine.dispose()
        settings = Settings(db_url=url, mqtt_url=None, jwt_secret="b" * 40, rate_limit_per_minute=0)
        clock = ManualClock(dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC).timestamp())
        app = create_app(settings, clock=clock)
        async with AsyncTestClient(app=app) as client:
            token = app.state.hub.tokens.issue(
                Principal(user_id="bench", username="bench", role="admin")
            )
            h = {"Authorization": f"Bearer {token}"}
            r = await client.post(
                "/api/v1/vpp/market-connectors",
                json={
                    "name": "sim",
                    "market_type": "SPOT",
                    "api_endpoint": "sim://shandong",
                    "trading_rules": msgspec.to_builtins(RULES),
                },
                headers=h,
            )
            assert r.status_code == 201, r.text
            templates = await client.get(
                "/api/v1/vpp/resource-templates", params={"size": 100}, headers=h
            )
            battery = next(
                t["id"] for t in templates.json()["items"] if t["type"] == "battery_storage"
            )
            vpps = []
            for n in range(1 + submits // 58):
                inst = await client.post(
                    "/api/v1/vpp/resource-instances",
                    json={
                        "template_id": battery,
                        "name": f"bess-{n}",
                        "capacity": 1000,
                        "parameters": {"rated_kw": 1000, "rated_kwh": 2000},
                        "edge_id": f"edge-{n}",
                        "device_id": "bess-1",
                    },
                    headers=h,
                )
                iid = inst.json()["id"]
                await client.put(
                    f"/api/v1/vpp/resource-instances/{iid}/status",
                    json={"status": "ONLINE", "reason": "bench"},
                    headers=h,
                )
                vpp = await client.post(
                    "/api/v1/vpp/vpps",
                    json={"name": f"vpp-{n}", "description": "", "market_type": "SPOT",
                          "resource_ids": [iid]},
                    headers=h,
                )  # fmt: skip
                vpps.append(vpp.json()["id"])
            # One fresh (VPP, day, side) per request: 29 open days x 2 sides per VPP.
            bodies = [
                {
                    "vpp_id": vpp,
                    "market_type": "SPOT",
                    "trading_date": (dt.date(2026, 12, 2) + dt.timedelta(days=day)).isoformat(),
                    "bids": [
                        {"time_slot": slot, "price": 0.3, "quantity": side * 50.0}
                        for slot in range(96)
                    ],
                }
                for vpp in vpps
                for day in range(29)
                for side in (1, -1)
            ][:submits]

            async def timed(call: Callable[[], object]) -> float:
                started = time.perf_counter()
                response = await call()  # type: ignore[misc]
                elapsed = time.perf_counter() - started
                assert response.status_code in (200, 201), response.text[:300]
                return elapsed

            for _ in range(20):
                await timed(lambda: client.get("/healthz"))
            floor = [await timed(lambda: client.get("/healthz")) for _ in range(submits)]
            lat = []
            for body in bodies:
                lat.append(
                    await timed(
                        lambda body=body: client.post(  # type: ignore[misc]
                            "/api/v1/vpp/trading/submit-bid", json=body, headers=h
                        )
                    )
                )
    p99 = statistics.quantiles(lat, n=100)[98]
    floor_p99 = statistics.quantiles(floor, n=100)[98]
    print(f"submit-bid: {len(lat)} requests of 96 slots, one at a time, SQLite")
    print(f"  GET /healthz (floor)        p50 {statistics.median(floor) * 1000:7.2f} ms  "
          f"p99 {floor_p99 * 1000:7.2f} ms")  # fmt: skip
    print(f"  POST trading/submit-bid     p50 {statistics.median(lat) * 1000:7.2f} ms  "
          f"p99 {p99 * 1000:7.2f} ms  ({p99 / max(floor_p99, 1e-9):.0f}x the floor)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-fail", action="store_true")
    parser.add_argument("--submits", type=int, default=120)
    args = parser.parse_args()

    year = reference_year()
    i = year.index(DAY)
    ref, load = year.day_ahead_yuan_mwh[i], year.load_mw[i]
    subs = submissions()
    book = OrderBook.concat(book_of(subs), background_book(RULES, ref, load, StackShape()))
    floor, cap = RULES.clearing_floor_yuan_mwh, RULES.clearing_cap_yuan_mwh

    def ours() -> object:
        return clear_book(book, T, floor=floor, cap=cap)

    def bare() -> object:
        return sort_and_scan(book, T)

    ours()
    bare()
    ours_s = floor_s = float("inf")
    cleared: BookClearing | None = None
    scanned: npt.NDArray[np.float64] | None = None
    for _ in range(args.repeat):  # interleaved: both see the same machine load
        t, got = best(ours, 3)
        ours_s = min(ours_s, t)
        assert isinstance(got, BookClearing)
        cleared = got
        t, found = best(bare, 3)
        floor_s = min(floor_s, t)
        assert isinstance(found, np.ndarray)
        scanned = found
    assert cleared is not None
    assert scanned is not None
    prices = cleared.price_yuan_mwh
    # The floor ignores the case where supply strictly below covers the demand (the price
    # is then the level below, demand rationed); compare where that does not happen.
    same = float(np.mean(np.isclose(prices, np.clip(scanned, floor, cap))))
    ratio = ours_s / max(floor_s, 1e-9)
    ok = ratio <= TARGET and same >= 0.95

    day_s, day = best(lambda: clear_day(RULES, ref, load, subs), max(1, args.repeat // 2))
    results_s, _ = best(lambda: clear_day(RULES, ref, load, subs).results, 1)
    n_bids = sum(len(s.bids) for s in subs.values())
    print(f"clearing: {T} slots, {n_bids:,} bids + {len(book) - n_bids:,} background orders")
    print(f"  clear_book (ours)            {ours_s * 1000:8.2f} ms CPU")
    print(f"  numpy sort-and-scan (floor)  {floor_s * 1000:8.2f} ms CPU")
    print(
        f"  ratio {ratio:.2f}x  <= {TARGET}x, same price in {same:.0%} of slots  "
        f"{'ok' if ok else 'MISSED'}"
    )
    print(
        f"  clear_day from Structs (50 with storage)  {day_s * 1000:8.2f} ms CPU"
        f"  ({day_s / max(floor_s, 1e-9):.1f}x the floor)"
    )
    print(f"  clear_day + the 10,000 ClearedBid results {results_s * 1000:8.2f} ms CPU")
    assert day is not None
    if args.submits > 0:
        asyncio.run(bench_submit(args.submits))
    return 0 if ok or args.no_fail else 1


if __name__ == "__main__":
    sys.exit(main())
