"""Codec throughput: our codecs against bare msgspec, measured in the same run.

Encodes and decodes a 100-point telemetry batch with ``protocol`` (tagged union, Meta
constraints, error translation) and with bare msgspec on an equivalent Struct that has no
constraints and no tag (the floor). Prints messages/s and the ratio of our time to the
floor's; the target is ours <= 1.5x the floor for every operation. Exits 1 when missed.

    python bench/codec.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import msgspec

from protocol import Point, TelemetryBatch, decode_as, decode_uplink, encode

TARGET = 1.5


class BarePoint(msgspec.Struct, frozen=True):
    device: str
    name: str
    value: float | int | bool | str | None
    ts_ms: int
    unit: str = ""
    quality: str = "good"


class BareBatch(msgspec.Struct, frozen=True):
    edge: str
    sid: int
    seq: int
    ts_ms: int
    points: list[BarePoint]
    hist: bool = False
    v: int = 0


def make_batch() -> tuple[TelemetryBatch, BareBatch]:
    ts = 1_767_225_600_000
    ours = [
        Point(device=f"bess-{i % 5}", name=f"m{i}", value=i * 1.5, unit="W", ts_ms=ts + i)
        for i in range(100)
    ]
    bare = [
        BarePoint(device=p.device, name=p.name, value=p.value, unit=p.unit, ts_ms=p.ts_ms)
        for p in ours
    ]
    return (
        TelemetryBatch(edge="park-a", sid=1, seq=42, ts_ms=ts, points=ours),
        BareBatch(edge="park-a", sid=1, seq=42, ts_ms=ts, points=bare),
    )


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn``: best of three runs of ~``seconds``/3 each."""
    best = 0.0
    for _ in range(3):
        n, start = 0, time.perf_counter()
        deadline = start + seconds / 3
        while True:
            for _ in range(100):
                fn()
            n += 100
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, n / (now - start))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.5)
    args = parser.parse_args()

    ours, bare = make_batch()
    enc, dec = msgspec.json.Encoder(), msgspec.json.Decoder(BareBatch)
    menc, mdec = msgspec.msgpack.Encoder(), msgspec.msgpack.Decoder(BareBatch)
    ours_json, bare_json = encode(ours), enc.encode(bare)
    ours_mp, bare_mp = encode(ours, "msgpack"), menc.encode(bare)
    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        ("encode json", lambda: encode(ours), lambda: enc.encode(bare)),
        ("decode json (by topic)", lambda: decode_as(ours_json, TelemetryBatch),
         lambda: dec.decode(bare_json)),
        ("decode json (uplink union)", lambda: decode_uplink(ours_json),
         lambda: dec.decode(bare_json)),
        ("encode msgpack", lambda: encode(ours, "msgpack"), lambda: menc.encode(bare)),
        ("decode msgpack (by topic)", lambda: decode_as(ours_mp, TelemetryBatch, "msgpack"),
         lambda: mdec.decode(bare_mp)),
    ]  # fmt: skip
    print(f"{'operation':28} {'ours msg/s':>12} {'bare msg/s':>12} {'time ratio':>11}  target")
    ok = True
    for name, ours_fn, bare_fn in cases:
        r_ours, r_bare = rate(ours_fn, args.seconds), rate(bare_fn, args.seconds)
        ratio = r_bare / r_ours
        passed = ratio <= TARGET
        ok &= passed
        verdict = "ok" if passed else "MISSED"
        print(f"{name:28} {r_ours:12,.0f} {r_bare:12,.0f} {ratio:10.2f}x  <= {TARGET}x {verdict}")
    print(f"payload bytes: json {len(ours_json)} (bare {len(bare_json)}), msgpack {len(ours_mp)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
