"""Champion/challenger: two model versions on one slot, a traffic split, decisions per arm,
metrics per arm and promotion (by hand, or automatically by a significant test).

Each forecast runs **both** arms on the same input: the arm the split assigns serves it
(its forecast is returned and used), the other runs in shadow. So every resolved decision
has a paired loss (the mean absolute error of each arm over the decision's values) and the
arms are compared by a one-sided Diebold-Mariano test on those pairs
(:func:`hub.models.diebold_mariano`). With ``auto_promote``, once ``min_decisions`` are
resolved and the test is significant at ``alpha`` the challenger is promoted; a champion
that is significantly better is kept and the experiment concluded. Per-arm revenue and
capture ratio are the means over the decisions each arm served. Every switch is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import SYSTEM, Principal, audit
from hub.errors import ConflictError, InvalidInputError, NotFoundError
from hub.store import AiDecision, AiExperiment, AiModel, new_id, row_dict, utcnow

from ._metrics import diebold_mariano
from ._runtime import ModelRuntime
from ._schemas import (
    ArmMetrics,
    ExperimentIn,
    ExperimentOut,
    ForecastIn,
    ForecastOut,
    OutcomeIn,
    TestOut,
)
from ._service import change_status, get_model, intervals, run_model
from ._split import Arm, arm_for

TEST_METHOD = (
    "Diebold-Mariano, one-sided, on paired per-decision MAE (HLN-corrected, normal reference)"
)


async def create_experiment(
    session: AsyncSession, who: Principal, data: ExperimentIn
) -> AiExperiment:
    if data.champion_id == data.challenger_id:
        raise InvalidInputError("champion and challenger must differ", field="challenger_id")
    champion = await _model(session, data.champion_id, "champion_id")
    challenger = await _model(session, data.challenger_id, "challenger_id")
    if champion.output_schema != challenger.output_schema:
        raise InvalidInputError(
            "the challenger's output_schema differs from the champion's", field="challenger_id"
        )
    for arm_model, field in ((champion, "champion_id"), (challenger, "challenger_id")):
        if arm_model.status == "RETIRED":
            raise InvalidInputError(f"model {arm_model.id} is retired", field=field)
    running = await session.scalar(
        select(AiExperiment.id).where(
            AiExperiment.slot == data.slot, AiExperiment.state == "RUNNING"
        )
    )
    if running:
        raise ConflictError(f"slot {data.slot!r} already runs experiment {running}", field="slot")
    row = AiExperiment(
        id=new_id(),
        slot=data.slot,
        champion_id=data.champion_id,
        challenger_id=data.challenger_id,
        split_by=data.split_by,
        challenger_share=data.challenger_share,
        auto_promote=data.auto_promote,
        alpha=data.alpha,
        min_decisions=data.min_decisions,
        state="RUNNING",
        created_by=who.username,
    )
    session.add(row)
    audit(session, who, "ai_experiment.create", "ai_experiment", row.id, None, row_dict(row))
    await session.commit()
    return row


async def _model(session: AsyncSession, model_id: str, field: str) -> AiModel:
    row = await session.get(AiModel, model_id)
    if row is None:
        raise InvalidInputError(f"unknown AI model {model_id}", field=field)
    return row


async def get_experiment(session: AsyncSession, experiment_id: str) -> AiExperiment:
    row = await session.get(AiExperiment, experiment_id)
    if row is None:
        raise NotFoundError(f"experiment {experiment_id} not found")
    return row


def unit_of(row: AiExperiment, data: ForecastIn, today: dt.date) -> str:
    if row.split_by == "vpp":
        if data.vpp_id is None:
            raise InvalidInputError(
                "this experiment splits by VPP: vpp_id is needed", field="vpp_id"
            )
        return data.vpp_id
    return (data.day or today).isoformat()


async def forecast(
    session: AsyncSession, runtime: ModelRuntime, experiment_id: str, data: ForecastIn
) -> ForecastOut:
    row = await get_experiment(session, experiment_id)
    if row.state != "RUNNING":
        raise ConflictError("the experiment is concluded", field="experiment_id")
    unit = unit_of(row, data, utcnow().date())
    arm: Arm = arm_for(row.id, unit, row.challenger_share)
    champion = await get_model(session, row.champion_id)
    challenger = await get_model(session, row.challenger_id)
    champ = await run_model(runtime, champion, data.input_data)
    chall = await run_model(runtime, challenger, data.input_data)
    served, model = (chall, challenger) if arm == "challenger" else (champ, champion)
    output = next(iter(served))
    decision = AiDecision(
        id=new_id(),
        experiment_id=row.id,
        arm=arm,
        model_id=model.id,
        unit=unit,
        vpp_id=data.vpp_id,
        day=data.day,
        champion_forecast=champ[output].tolist(),
        challenger_forecast=chall[output].tolist(),
    )
    session.add(decision)
    await session.commit()
    confidence, _method, bands = intervals(model, served)
    return ForecastOut(
        decision_id=decision.id,
        arm=arm,
        model_id=model.id,
        model_version=model.version,
        predictions={k: v.tolist() for k, v in served.items()},
        confidence=confidence,
        intervals=bands,
    )


async def _decisions(session: AsyncSession, experiment_id: str) -> list[AiDecision]:
    return list(
        await session.scalars(
            select(AiDecision)
            .where(AiDecision.experiment_id == experiment_id)
            .order_by(AiDecision.created_at, AiDecision.id)
        )
    )


def _test(decisions: list[AiDecision], alpha: float) -> TestOut | None:
    resolved = [
        d for d in decisions if d.champion_loss is not None and d.challenger_loss is not None
    ]
    if len(resolved) < 2:
        return None
    result = diebold_mariano(
        np.array([d.champion_loss for d in resolved], dtype=np.float64),
        np.array([d.challenger_loss for d in resolved], dtype=np.float64),
    )
    return TestOut(
        method=TEST_METHOD,
        n=result.n,
        statistic=result.statistic,
        p_value=result.p_value,
        significant=result.p_value < alpha,
    )


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def _arm(arm: Arm, model_id: str, decisions: list[AiDecision]) -> ArmMetrics:
    served = [d for d in decisions if d.arm == arm]
    loss = "champion_loss" if arm == "champion" else "challenger_loss"
    return ArmMetrics(
        model_id=model_id,
        decisions=len(served),
        resolved=sum(1 for d in served if d.actual is not None),
        mae=_mean([getattr(d, loss) for d in served]),
        shadow_mae=_mean([getattr(d, loss) for d in decisions]),
        revenue=_mean([d.revenue for d in served]),
        capture_ratio=_mean([d.capture_ratio for d in served]),
    )


async def experiment_out(session: AsyncSession, row: AiExperiment) -> ExperimentOut:
    decisions = await _decisions(session, row.id)
    return ExperimentOut(
        id=row.id,
        slot=row.slot,
        champion_id=row.champion_id,
        challenger_id=row.challenger_id,
        split_by=row.split_by,
        challenger_share=row.challenger_share,
        auto_promote=row.auto_promote,
        alpha=row.alpha,
        min_decisions=row.min_decisions,
        state=row.state,
        winner_id=row.winner_id,
        created_by=row.created_by,
        created_at=row.created_at,
        concluded_at=row.concluded_at,
        arms={
            "champion": _arm("champion", row.champion_id, decisions),
            "challenger": _arm("challenger", row.challenger_id, decisions),
        },
        test=_test(decisions, row.alpha),
    )


async def promote(
    session: AsyncSession, who: Principal, row: AiExperiment, winner_id: str, reason: str
) -> None:
    """Conclude with ``winner_id`` ACTIVE and the other arm RETIRED (audited). The caller
    commits."""
    if row.state != "RUNNING":
        raise ConflictError("the experiment is already concluded", field="experiment_id")
    if winner_id not in {row.champion_id, row.challenger_id}:
        raise InvalidInputError(
            "the winner must be the champion or the challenger", field="winner_id"
        )
    loser_id = row.challenger_id if winner_id == row.champion_id else row.champion_id
    before = row_dict(row)
    winner = await get_model(session, winner_id)
    loser = await get_model(session, loser_id)
    if winner.status != "ACTIVE":
        await change_status(session, who, winner, "ACTIVE", f"won experiment {row.id}")
    if loser.status != "RETIRED":
        await change_status(session, who, loser, "RETIRED", f"lost experiment {row.id}")
    row.state = "CONCLUDED"
    row.winner_id = winner_id
    row.concluded_at = utcnow()
    after: dict[str, Any] = {**row_dict(row), "reason": reason}
    audit(session, who, "ai_experiment.promote", "ai_experiment", row.id, before, after)


async def record_outcome(
    session: AsyncSession, who: Principal, experiment_id: str, decision_id: str, data: OutcomeIn
) -> AiExperiment:
    row = await get_experiment(session, experiment_id)
    decision = await session.get(AiDecision, decision_id)
    if decision is None or decision.experiment_id != row.id:
        raise NotFoundError(f"decision {decision_id} not found in experiment {experiment_id}")
    if decision.actual is not None:
        raise ConflictError("the decision's outcome is already recorded", field="decision_id")
    actual = np.asarray(data.actual, dtype=np.float64)
    if actual.size != len(decision.champion_forecast):
        raise InvalidInputError(
            f"needs {len(decision.champion_forecast)} values, one per forecast value",
            field="actual",
        )
    decision.actual = data.actual
    decision.champion_loss = float(np.mean(np.abs(actual - np.asarray(decision.champion_forecast))))
    decision.challenger_loss = float(
        np.mean(np.abs(actual - np.asarray(decision.challenger_forecast)))
    )
    decision.revenue = data.revenue
    decision.capture_ratio = data.capture_ratio
    decision.resolved_at = utcnow()
    audit(
        session,
        who,
        "ai_decision.outcome",
        "ai_decision",
        decision.id,
        None,
        {"champion_loss": decision.champion_loss, "challenger_loss": decision.challenger_loss},
    )
    await session.flush()
    if row.auto_promote and row.state == "RUNNING":
        test = _test(await _decisions(session, row.id), row.alpha)
        if test is not None and test.n >= row.min_decisions:
            # One-sided both ways: challenger better (small p) or champion better.
            if test.significant:
                await promote(
                    session, SYSTEM, row, row.challenger_id, f"{TEST_METHOD}: p={test.p_value:.4g}"
                )
            elif 1.0 - test.p_value < row.alpha:
                await promote(
                    session,
                    SYSTEM,
                    row,
                    row.champion_id,
                    f"{TEST_METHOD}: p={1 - test.p_value:.4g}",
                )
    await session.commit()
    return row


class Serving(msgspec.Struct, frozen=True, kw_only=True):
    """Which model serves a slot for one unit: an experiment's arm, or the active version."""

    model_id: str
    model_version: str
    arm: Arm | None = None
    experiment_id: str | None = None


async def serving_model(
    session: AsyncSession,
    *,
    slot: str,
    model_type: str | None = None,
    model_version: str | None = None,
    day: dt.date | None = None,
    vpp_id: str | None = None,
) -> Serving:
    """The model a caller (a strategy: ``slot="strategy:<id>"``, or a forecast slot) uses
    for ``day`` / ``vpp_id``: the arm of the slot's running experiment when there is one,
    else the version ``model_version`` of ``model_type`` (seed 4.2.1 ``model_config``), else
    that type's ACTIVE version. A decision made with an arm is recorded through
    :func:`forecast` (which runs both arms)."""
    experiment = await session.scalar(
        select(AiExperiment).where(AiExperiment.slot == slot, AiExperiment.state == "RUNNING")
    )
    if experiment is not None:
        unit = vpp_id if experiment.split_by == "vpp" else (day or utcnow().date()).isoformat()
        if unit is None:
            raise InvalidInputError(
                "this experiment splits by VPP: vpp_id is needed", field="vpp_id"
            )
        arm = arm_for(experiment.id, unit, experiment.challenger_share)
        chosen = await get_model(
            session, experiment.challenger_id if arm == "challenger" else experiment.champion_id
        )
        return Serving(
            model_id=chosen.id, model_version=chosen.version, arm=arm, experiment_id=experiment.id
        )
    if model_type is None:
        raise NotFoundError(f"no experiment runs on slot {slot!r} and no model_type is given")
    query = select(AiModel).where(AiModel.model_type == model_type)
    if model_version is not None:
        query = query.where(AiModel.version == model_version, AiModel.status != "RETIRED")
    else:
        query = query.where(AiModel.status == "ACTIVE")
    row = await session.scalar(query.order_by(AiModel.updated_at.desc(), AiModel.id).limit(1))
    if row is None:
        wanted = f"version {model_version}" if model_version else "an ACTIVE version"
        raise NotFoundError(f"no {model_type} model with {wanted}")
    return Serving(model_id=row.id, model_version=row.version)


__all__ = [
    "TEST_METHOD",
    "Serving",
    "create_experiment",
    "experiment_out",
    "forecast",
    "get_experiment",
    "promote",
    "record_outcome",
    "serving_model",
]
