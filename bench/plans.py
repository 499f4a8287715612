"""``submit_plan`` in a loop in one process: the hub's CPU and statements per plan.

The fleet of ``bench/api.py`` (``--instances`` batteries in ``--vpps`` VPPs, a VPP's
members behind one edge) in a throwaway PostgreSQL database (or ``--db sqlite``), the live
cache filled as the telemetry would; then ``--plans`` VPP-level plans of 500 kW for 900 s,
cycling over the VPPs, one after the other (no HTTP, no publisher). Prints the user+system
CPU per plan, the wall time per plan and the statements per plan, for the first and the
second half of the plans (a per-plan cost that grows with every re-dispatch shows there).
"In statements" is the time from sending a statement to its result (the database's work
and the wait for it, the driver's); BEGIN and COMMIT are not statements here.

    python bench/plans.py                       # 2,000 instances in 40 VPPs, 600 plans
    python bench/plans.py --profile prof.html   # the loop under pyinstrument
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(_HERE.parent) not in sys.path:
    sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402

from bench.api import TENANT, edge_of, seed, throwaway_db  # noqa: E402
from hub import Settings  # noqa: E402
from hub._context import HubContext  # noqa: E402
from hub._metrics import Metrics  # noqa: E402
from hub.auth import TokenService  # noqa: E402
from hub.dispatch import DispatchPlan, PlanTarget, submit_plan  # noqa: E402
from hub.store import LiveCache, create_engine, edge_key, sessionmaker  # noqa: E402
from hub.store._versions import counting  # noqa: E402
from protocol.clock import RealClock  # noqa: E402


@contextlib.asynccontextmanager
async def database(args: argparse.Namespace) -> AsyncIterator[str]:
    if args.db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-plans-") as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/hub.db"
        return
    async with throwaway_db(args.pg) as url:
        yield url


def _write(path: str, content: str) -> None:
    Path(path).write_text(content)


async def main(args: argparse.Namespace) -> int:
    async with database(args) as url:
        fleet = await seed(url, args.instances, args.vpps)
        engine = create_engine(url)
        cache = LiveCache()
        now = int(time.time() * 1000)
        for i in range(args.instances):
            edge = edge_key(TENANT, edge_of(i, args.vpps))
            cache.put(edge, f"d{i}", "p_w", 1000.0 * (i % 50), now)
            cache.put(edge, f"d{i}", "soc_pct", 50.0, now)
        ctx = HubContext(
            settings=Settings(db_url=url, mqtt_url=None, stale_after_s=10**6),
            clock=RealClock(),
            engine=engine,
            sessions=sessionmaker(engine),
            cache=cache,
            tokens=TokenService("s" * 40, 60),
            metrics=Metrics(),
        )
        plans = [
            DispatchPlan(
                vpp_id=v,
                targets=[PlanTarget(target_kw=500.0, duration_s=900)],
                created_by="bench",
            )
            for v in fleet.vpp_ids
        ]
        try:
            for plan in plans[:5]:  # warm up: compiled statements, pooled connections
                await submit_plan(ctx, plan)
            profiler = None
            if args.profile:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005, async_mode="disabled")
                profiler.start()
            halves = []
            for half in range(2):
                with counting() as stats:
                    cpu, wall = time.process_time(), time.perf_counter()
                    n = args.plans // 2
                    for k in range(n):
                        await submit_plan(ctx, plans[(half * n + k) % len(plans)])
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                halves.append(
                    (1000 * cpu / n, 1000 * wall / n, stats.count / n, 1000 * stats.seconds / n)
                )
            if profiler is not None:
                profiler.stop()
                html = args.profile.endswith(".html")
                report = profiler.output_html() if html else profiler.output_text(unicode=True)
                _write(args.profile, report)
        finally:
            await engine.dispose()
    print(
        f"{args.plans} plans of {args.instances // args.vpps} members on {args.db} "
        f"(load {os.getloadavg()[0]:.2f})"
    )
    for name, (cpu, wall, statements, in_statements) in zip(("1st", "2nd"), halves, strict=True):
        print(
            f"  {name} half: CPU {cpu:.2f} ms a plan, wall {wall:.2f} ms "
            f"({in_statements:.2f} ms in statements), {statements:.1f} statements"
        )
    return 0


def cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument(
        "--pg",
        default=os.environ.get("VPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--vpps", type=int, default=40)
    parser.add_argument("--plans", type=int, default=600)
    parser.add_argument("--profile", default="", help="pyinstrument report (.html or text)")
    return asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(cli())
