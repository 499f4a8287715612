"""Execution status tells what the device did: after the write, with the value written;
``failed`` with the device's reason; the measured power while it runs; ``done`` with the
energy integrated from the polls (fake devices at our adapter seam, on a ManualClock)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from edge_agent import Agent, DeviceConfig, DeviceProtocolError
from edge_agent._execution import REPORT_EVERY_S, ExecutionBook, Step
from edge_agent._outbox import Outbox, stored_payload
from edge_agent._safety import Applied, Clamped
from edge_agent.devices import Setpoint, WriteResult
from protocol import DispatchStatus, decode_uplink, encode
from protocol.clock import ManualClock
from tests.edge_agent.conftest import Harness, until
from tests.edge_agent.fakes import FakeAdapter
from tests.edge_agent.test_agent import T, all_statuses, dispatch, running, two_batteries


def mine(statuses: list[DispatchStatus]) -> list[DispatchStatus]:
    return [s for s in statuses if s.instruction_id == "ins-7"]


class RoundingAdapter(FakeAdapter):
    """Holds setpoints in 1 kW steps toward zero, as a register with a scale factor does."""

    async def write(self, setpoint: Setpoint) -> WriteResult:
        held = float(int(setpoint.p_w / 1000.0) * 1000)
        result = await super().write(Setpoint(held, setpoint.revert_s))
        return WriteResult(held, result.revert_s)


async def test_a_refused_write_is_failed_with_the_reason_and_nothing_claims_executing(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    async with running(config, site, manual_clock) as (h, adapters):
        adapters["b1"].refuse_writes = True
        h.agent.on_message(T.dispatch, encode(dispatch(manual_clock, p=30_000.0)))
        await h.cycles(3)
        statuses = mine(await all_statuses(h.agent))
        assert [s.status for s in statuses] == ["failed"], statuses
        assert "write refused" in statuses[0].reason and "code 4" in statuses[0].reason
        assert statuses[0].p_applied_w is None and statuses[0].started_ts_ms is None
        adapters["b1"].refuse_writes = False
        await h.cycles(2)
        statuses = mine(await all_statuses(h.agent))
        assert [s.status for s in statuses][:2] == ["failed", "executing"]
        assert statuses[1].p_applied_w == 30_000.0 and statuses[1].started_ts_ms is not None


async def test_executing_carries_the_value_the_device_accepted_after_rounding(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    adapters: dict[str, FakeAdapter] = {}

    def factory(dev: DeviceConfig) -> FakeAdapter:
        cls = RoundingAdapter if dev.id == "b1" else FakeAdapter
        adapters[dev.id] = cls(dev.id, dev.kind, site, manual_clock)
        return adapters[dev.id]

    async with Agent(config, clock=manual_clock, adapter_factory=factory) as agent:
        await until(lambda: all(r.status.value == "online" for r in agent.runners.values()))
        h = Harness(agent, manual_clock)
        agent.on_message(T.dispatch, encode(dispatch(manual_clock, p=30_499.0)))
        await h.cycles(2)
        executing = [s for s in mine(await all_statuses(agent)) if s.status == "executing"]
        assert executing and executing[0].p_applied_w == 30_000.0
        assert executing[0].p_target_w == 30_499.0
        # an unchanged request is not rewritten every cycle because of the rounding
        writes = len(adapters["b1"].writes)
        await h.cycles(2)
        assert len(adapters["b1"].writes) == writes


async def test_measured_power_is_reported_while_running_and_done_carries_the_energy(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    async with running(config, site, manual_clock) as (h, _):
        h.agent.on_message(T.dispatch, encode(dispatch(manual_clock, p=36_000.0, length=60.0)))
        await h.cycles(65)
        statuses = mine(await all_statuses(h.agent))
        kinds = [s.status for s in statuses]
        assert kinds[0] == "executing" and kinds[-1] == "done", kinds
        running_reports = [s for s in statuses if s.status == "executing"]
        # first write, battery at its setpoint, then every 15 s of the clock
        assert 4 <= len(running_reports) <= 7, running_reports
        steady = [s for s in running_reports if s.p_actual_w == 36_000.0]
        gaps = [(b.ts_ms - a.ts_ms) / 1000 for a, b in itertools.pairwise(steady)]
        assert gaps and all(g == pytest.approx(REPORT_EVERY_S, abs=1.0) for g in gaps), gaps
        assert all(s.deviation_w == 0.0 for s in steady)
        done = statuses[-1]
        started = statuses[0].started_ts_ms
        assert started is not None and done.started_ts_ms == started
        assert done.energy_wh is not None
        # 36 kW for the ~60 s the instruction was in force on the device: ~0.6 kWh
        seconds = (done.ts_ms - started) / 1000
        assert done.energy_wh == pytest.approx(36_000.0 * seconds / 3600, rel=0.05)
        assert done.p_applied_w == 36_000.0 and "ended" in done.reason


async def test_a_new_schedule_version_with_the_same_instruction_does_not_restart_it(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    async with running(config, site, manual_clock) as (h, _):
        h.agent.on_message(T.dispatch, encode(dispatch(manual_clock, p=20_000.0)))
        await h.cycles(3)
        h.agent.on_message(T.dispatch, encode(dispatch(manual_clock, version=2, p=20_000.0)))
        await h.cycles(3)
        statuses = mine(await all_statuses(h.agent))
        assert "done" not in [s.status for s in statuses]
        assert len({s.started_ts_ms for s in statuses}) == 1
        # a new instruction on the device ends the first one
        h.agent.on_message(T.dispatch, encode(dispatch(manual_clock, version=3, p=-20_000.0,
                                                       device="b2")))  # fmt: skip
        await h.cycles(2)
        b1 = [s for s in mine(await all_statuses(h.agent)) if s.device == "b1"]
        assert b1[-1].status == "done" and b1[-1].energy_wh is not None


def step(result: Applied | Clamped, key: str = "i-1") -> Step:
    return Step(key=key, schedule_id="s", version=1, instruction_id=key, target_w=10_000.0,
                result=result)  # fmt: skip


def test_energy_is_the_trapezoid_of_the_polls_from_the_first_write_to_the_end() -> None:
    book = ExecutionBook()
    assert book.decided("d", step(Applied(10_000.0)), 0.0, 0.0, 100_000.0) == []
    book.submitted("d", 10_000.0)
    [started] = book.written("d", 10_000.0, 10_000.0, "", 0.0, 0.0)
    assert started.status == "executing" and started.started_ts_ms == 0
    book.polled("d", 1.0, 10_000.0, 1.0)  # ramp 0 -> 10 kW in 1 s: 5 kJ... 1.389 Wh
    for t in range(2, 11):
        book.polled("d", float(t), 10_000.0, float(t))
    book.polled("d", 10.0, 10_000.0, 10.0)  # the same reading again adds nothing
    [done] = book.end("d", 12.0, "interval over")  # the last reading held to the end
    assert done.status == "done"
    assert done.energy_wh == pytest.approx((5_000.0 * 1 + 10_000.0 * 11) / 3600, abs=1e-3)


def test_a_write_for_a_value_no_longer_asked_is_not_reported() -> None:
    book = ExecutionBook()
    book.decided("d", step(Applied(10_000.0)), 0.0, None)
    book.submitted("d", 12_000.0)
    assert book.written("d", 10_000.0, 10_000.0, "", 0.0, None) == []
    assert book.end("d", 5.0, "over") == []  # never written: no done
    assert book.written("x", 1.0, 1.0, "", 0.0, None) == []


def test_failed_then_accepted_then_clamped_are_each_reported_once() -> None:
    book = ExecutionBook()
    book.decided("d", step(Applied(10_000.0)), 0.0, None)
    book.submitted("d", 10_000.0)
    err = str(DeviceProtocolError("d: write refused at 40100 (code 4)"))
    kinds = [r.status for r in book.written("d", 10_000.0, None, err, 0.0, None)]
    kinds += [r.status for r in book.written("d", 10_000.0, None, err, 1.0, None)]
    kinds += [r.status for r in book.written("d", 10_000.0, 10_000.0, "", 2.0, None)]
    clamped = step(Clamped(8_000.0, requested_w=10_000.0, reason="soc_max"))
    book.decided("d", clamped, 3.0, None)
    book.submitted("d", 8_000.0)
    kinds += [r.status for r in book.written("d", 8_000.0, 8_000.0, "", 3.0, None)]
    assert kinds == ["failed", "executing", "clamped"]


async def test_an_instruction_running_at_shutdown_ends_done_in_the_outbox(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config, site = two_batteries(tmp_path)
    async with running(config, site, manual_clock) as (h, _):
        h.agent.on_message(T.dispatch, encode(dispatch(manual_clock, p=36_000.0)))
        await h.cycles(11)
    # the outbox committed what was pending when the agent stopped: read it back
    async with Outbox(config.outbox.path) as again:
        rows = await again.read_after(None, (again.sid, 0), 100_000)
    statuses = [m for r in rows if isinstance(m := decode_uplink(stored_payload(r.payload)),
                                              DispatchStatus)]  # fmt: skip
    done = [s for s in mine(statuses) if s.status == "done" and s.device == "b1"]
    assert len(done) == 1 and "agent stopping" in done[0].reason
    assert done[0].energy_wh == pytest.approx(36_000.0 * 10 / 3600, rel=0.15)
