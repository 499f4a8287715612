"""Simulator throughput: 100 SunSpec batteries in one process against bare pymodbus.

Starts one server process with 100 simulated SunSpec batteries (``firmware_sims.SimSite``,
physics stepping in real time, values rendered from the model on read) and, in the same
run, one server process with 100 bare pymodbus servers serving a static block of the same
size (the floor). Ten concurrent clients each poll ten devices round-robin, reading 100
registers of model 701 per request. Prints requests/s and p99 latency of both and the
ratio; the target is ours >= 50 % of the floor's throughput. Exits 1 when missed.

    python bench/sims.py [--seconds 5] [--devices 100] [--clients 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from typing import Any

TARGET = 0.5
POLL_ADDRESS = 40070  # model 701 of a battery
POLL_COUNT = 100


# --------------------------------------------------------------------------- servers


async def _serve_ours(devices: int) -> None:
    from firmware_sims import BatterySpec, SimSite, SiteSpec

    spec = SiteSpec(
        name="bench",
        devices=[BatterySpec(name=f"bess-{i + 1}", soc_pct=20 + i % 60) for i in range(devices)],
    )
    async with SimSite(spec, seed=1) as site:
        for i, name in enumerate(site.names):
            b = site.battery(name)
            b.write_wset(-50_000.0 if i % 2 else 50_000.0)
            b.write_wset_ena(1)
        print(json.dumps([ep.port for ep in site.endpoints]), flush=True)
        await _wait_for_stdin_eof()


async def _serve_bare(devices: int) -> None:
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    from firmware_sims import Battery, BatteryRegisters

    image = BatteryRegisters(Battery(rated_w=500_000, capacity_wh=1_000_000), {}).image
    ports = []
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(devices):
            block = SimData(40000, values=list(image), datatype=DataType.REGISTERS)
            server = ModbusTcpServer(SimDevice(id=1, simdata=[block]), address=("127.0.0.1", 0))
            assert await server.listen()
            stack.push_async_callback(server.shutdown)
            listener: Any = server.transport
            ports.append(listener.sockets[0].getsockname()[1])
        print(json.dumps(ports), flush=True)
        await _wait_for_stdin_eof()


async def _wait_for_stdin_eof() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


# --------------------------------------------------------------------------- clients


async def _poll(ports: list[int], clients: int, seconds: float) -> tuple[float, float, int]:
    from pymodbus.client import AsyncModbusTcpClient

    latencies: list[float] = []
    errors = 0
    per = len(ports) // clients

    async def client(group: list[int], deadline: float) -> None:
        nonlocal errors
        conns = [AsyncModbusTcpClient("127.0.0.1", port=p, timeout=5, retries=0) for p in group]
        for c in conns:
            assert await c.connect()
        try:
            i = 0
            while time.perf_counter() < deadline:
                c = conns[i % len(conns)]
                i += 1
                t0 = time.perf_counter()
                rr = await c.read_holding_registers(POLL_ADDRESS, count=POLL_COUNT, device_id=1)
                latencies.append(time.perf_counter() - t0)
                if rr.isError() or len(rr.registers) != POLL_COUNT:
                    errors += 1
        finally:
            for c in conns:
                c.close()

    start = time.perf_counter()
    deadline = start + seconds
    async with asyncio.TaskGroup() as tg:
        for k in range(clients):
            tg.create_task(client(ports[k * per : (k + 1) * per], deadline))
    elapsed = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")
    return len(latencies) / elapsed, p99, errors


async def _measure(
    kind: str, devices: int, clients: int, seconds: float
) -> tuple[float, float, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        f"--serve-{kind}",
        str(devices),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    try:
        async with asyncio.timeout(120):
            line = await proc.stdout.readline()
        ports = json.loads(line)
        return await _poll(ports, clients, seconds)
    finally:
        proc.stdin.close()
        try:
            async with asyncio.timeout(20):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _main(args: argparse.Namespace) -> int:
    results = {}
    for kind in ("bare", "ours"):
        results[kind] = await _measure(kind, args.devices, args.clients, args.seconds)
    print(
        f"{args.devices} devices, {args.clients} clients, {args.seconds:g} s each, "
        f"reading {POLL_COUNT} registers per request"
    )
    print(f"{'server':<28}{'requests/s':>12}{'p99 ms':>10}{'errors':>8}")
    names = {"bare": "bare pymodbus (static)", "ours": "firmware_sims (live)"}
    for kind, (rps, p99, errors) in results.items():
        print(f"{names[kind]:<28}{rps:>12.0f}{p99 * 1000:>10.2f}{errors:>8}")
    ratio = results["ours"][0] / results["bare"][0]
    ok = ratio >= TARGET and results["ours"][2] == 0
    print(
        f"throughput ours/bare = {ratio:.2f} (target >= {TARGET:.2f}): {'ok' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--serve-ours", type=int, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_ours:
        asyncio.run(_serve_ours(args.serve_ours))
        return 0
    if args.serve_bare:
        asyncio.run(_serve_bare(args.serve_bare))
        return 0
    if args.devices % args.clients:
        parser.error("--devices must be a multiple of --clients")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
