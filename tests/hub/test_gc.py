"""``hub_gc_pause_seconds``: the garbage collector's passes, timed while the hub runs."""

from __future__ import annotations

import gc
import re
import weakref

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import CollectorRegistry, generate_latest

from hub import Settings
from hub._context import HubContext
from hub._gc import GcPauses, tuned
from hub._metrics import Metrics
from hub._settings import GC_THRESHOLD0
from hub.app import create_app
from hub.vpps import (
    AggregatedParams,
    Commitment,
    MarketRequirement,
    MemberState,
    PowerRange,
    aggregate,
)


def _count(text: str, generation: int) -> float:
    match = re.search(
        rf'^hub_gc_pause_seconds_count\{{generation="{generation}"\}} ([0-9.e+]+)$', text, re.M
    )
    assert match, text
    return float(match.group(1))


def test_a_full_collection_is_timed_while_installed_and_not_after() -> None:
    registry = CollectorRegistry()
    pauses = GcPauses()
    registry.register(pauses)
    with pauses.installed():
        before = registry.get_sample_value("hub_gc_pause_seconds_count", {"generation": "2"})
        gc.collect()
        gc.collect(0)
        after = registry.get_sample_value("hub_gc_pause_seconds_count", {"generation": "2"})
        young = registry.get_sample_value("hub_gc_pause_seconds_count", {"generation": "0"})
    assert before is not None and after is not None and young is not None
    assert after >= before + 1
    assert young >= 1
    total = registry.get_sample_value("hub_gc_pause_seconds_sum", {"generation": "2"})
    inf = registry.get_sample_value(
        "hub_gc_pause_seconds_bucket", {"generation": "2", "le": "+Inf"}
    )
    assert total is not None and total > 0
    assert inf == after
    assert pauses not in gc.callbacks
    gc.collect()
    assert registry.get_sample_value("hub_gc_pause_seconds_count", {"generation": "2"}) == after


def test_nested_installs_keep_one_callback_until_the_last_exit() -> None:
    pauses = GcPauses()
    with pauses.installed():
        with pauses.installed():
            assert gc.callbacks.count(pauses) == 1
        assert gc.callbacks.count(pauses) == 1
        counted = pauses.count(2)
        gc.collect()
        assert pauses.count(2) == counted + 1  # one entry: each pass counted once
    assert pauses not in gc.callbacks


def test_several_metrics_objects_register_without_clashing() -> None:
    first, second = Metrics(), Metrics()
    with first.gc_pauses.installed(), second.gc_pauses.installed():
        gc.collect()
    for metrics in (first, second):
        assert _count(generate_latest(metrics.registry).decode(), 2) >= 1


async def test_the_hub_serves_its_gc_pauses_while_its_lifespan_runs(app: Litestar) -> None:
    async with AsyncTestClient(app=app) as client:
        ctx: HubContext = app.state.hub
        assert ctx.metrics.gc_pauses in gc.callbacks
        before = _count((await client.get("/metrics")).text, 2)
        gc.collect()
        after = _count((await client.get("/metrics")).text, 2)
        assert after >= before + 1
    assert ctx.metrics.gc_pauses not in gc.callbacks


class _Node:
    """A GC-tracked object that can take part in a reference cycle."""

    def __init__(self) -> None:
        self.other: object = None


def _tracked(obj: object) -> bool:
    """``obj`` is in one of the collector's generations (a frozen object is not)."""
    return any(o is obj for o in gc.get_objects())


def test_tuned_freezes_what_exists_and_sets_generation_0_until_exit() -> None:
    before = gc.get_threshold()
    kept = _Node()
    with tuned(freeze=True, threshold0=before[0] + 12_345):
        assert gc.get_threshold() == (before[0] + 12_345, *before[1:])
        assert gc.get_freeze_count() > 0
        assert not _tracked(kept)  # no pass walks it
        made_after = _Node()
        assert _tracked(made_after)  # only what existed at the freeze
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert _tracked(kept)


def test_a_cycle_dropped_while_frozen_is_collected_after_exit() -> None:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    ref = weakref.ref(a)
    with tuned(freeze=True, threshold0=0):
        del a, b
        gc.collect()
        assert ref() is not None  # frozen: the collector does not see the cycle
    gc.collect()
    assert ref() is None


def test_tuned_without_freeze_or_threshold_changes_nothing() -> None:
    before = gc.get_threshold()
    kept = _Node()
    with tuned(freeze=False, threshold0=0):
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0
        assert _tracked(kept)


async def test_the_hub_tunes_the_collector_while_it_runs(settings: Settings) -> None:
    before = gc.get_threshold()
    tuned_settings = msgspec.structs.replace(settings, gc_threshold0=before[0] + 1_000)
    app = create_app(tuned_settings)
    async with AsyncTestClient(app=app) as client:
        assert gc.get_freeze_count() > 0
        assert not _tracked(app)  # made before the lifespan ran: frozen
        assert gc.get_threshold()[0] == before[0] + 1_000
        assert (await client.get("/healthz")).status_code == 200
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
    untuned = msgspec.structs.replace(settings, gc_freeze=False, gc_threshold0=0)
    async with AsyncTestClient(app=create_app(untuned)):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == before


def test_the_objects_each_generation_holds_are_counted_frozen_apart() -> None:
    registry = CollectorRegistry()
    registry.register(GcPauses())

    def objects(generation: str) -> float:
        value = registry.get_sample_value("hub_gc_objects", {"generation": generation})
        assert value is not None
        return value

    gc.collect()
    assert objects("frozen") == 0
    old = objects("2")
    assert old > 0
    with tuned(freeze=True, threshold0=0):
        assert objects("frozen") >= old
        assert objects("2") < old


UNTRACKED_STRUCTS = (MemberState, PowerRange, AggregatedParams, MarketRequirement, Commitment)


def _scalar(info: msgspec.inspect.Type) -> bool:
    """A type whose values hold no reference to a container (no cycle through them)."""
    if isinstance(info, msgspec.inspect.UnionType):
        return all(_scalar(t) for t in info.types)
    return isinstance(
        info,
        msgspec.inspect.StrType
        | msgspec.inspect.IntType
        | msgspec.inspect.FloatType
        | msgspec.inspect.BoolType
        | msgspec.inspect.NoneType
        | msgspec.inspect.LiteralType,
    )


@pytest.mark.parametrize("cls", UNTRACKED_STRUCTS, ids=lambda c: c.__name__)
def test_scalar_structs_are_not_tracked_by_the_collector(cls: type[msgspec.Struct]) -> None:
    assert cls.__struct_config__.gc is False
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:  # gc=False is safe only while no field can hold a container
        assert _scalar(field.type), f"{cls.__name__}.{field.name}: {field.type}"


def test_member_states_made_by_aggregation_inputs_are_untracked() -> None:
    state = MemberState(resource_id="r", category="STORAGE", status="ONLINE", capacity_kw=1.0)
    assert not gc.is_tracked(state)
    assert not gc.is_tracked(
        aggregate([state, msgspec.structs.replace(state, resource_id="s", p_kw=2.0)])
    )
    assert gc.is_tracked(_Node())  # the check itself sees tracked objects


def test_the_tuning_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings.from_env()
    assert defaults.gc_freeze is True
    assert defaults.gc_threshold0 == GC_THRESHOLD0 > 700  # above Python's own
    monkeypatch.setenv("VPP_HUB_GC_FREEZE", "0")
    monkeypatch.setenv("VPP_HUB_GC_THRESHOLD0", "700")
    settings = Settings.from_env()
    assert settings.gc_freeze is False
    assert settings.gc_threshold0 == 700


def test_overlapping_tunings_restore_the_collector_when_the_last_one_exits() -> None:
    before = gc.get_threshold()
    first = tuned(freeze=True, threshold0=before[0] + 1)
    second = tuned(freeze=False, threshold0=before[0] + 2)
    first.__enter__()
    second.__enter__()
    assert gc.get_threshold()[0] == before[0] + 2
    first.__exit__(None, None, None)  # not in the order they were entered (two apps)
    assert gc.get_freeze_count() > 0  # the other one still runs
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
