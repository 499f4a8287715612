"""``/api/v1/vpp/ai-models`` (seed 4.2.2): the model registry, predictions, training of
the built-in forecasters; ``/api/v1/vpp/ai-experiments``: champion/challenger."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, get, post, put
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED

from hub._deps import Caller, Ctx, Page, Session, Size
from hub.auth import ALL_ROLES, DISPATCHERS, Role, requires
from hub.errors import InvalidInputError

from ._experiments import (
    create_experiment,
    experiment_out,
    forecast,
    get_experiment,
    promote,
    record_outcome,
)
from ._runtime import ModelRuntime
from ._schemas import (
    ExperimentIn,
    ExperimentOut,
    ForecastIn,
    ForecastOut,
    ModelOut,
    ModelPage,
    ModelRegister,
    ModelStatus,
    ModelStatusUpdate,
    OutcomeIn,
    PredictIn,
    PredictOut,
    PromoteIn,
    TaskOut,
    TrainIn,
)
from ._service import (
    change_status,
    get_model,
    list_models,
    predict,
    register,
    versions,
    with_baselines,
)
from ._training import get_task, start_training, task_out

MODEL_WRITERS: Final[tuple[Role, ...]] = ("trader", "admin")
"""Who registers models, changes their status, trains and runs experiments."""
UPLOAD_LIMIT = 256 * 1024 * 1024


def provide_runtime(state: State) -> ModelRuntime:
    runtime: ModelRuntime = state.models
    return runtime


Runtime = NamedDependency[ModelRuntime]


@dataclass
class ModelUpload:
    """A multipart registration: the file and the seed's other fields (schemas as JSON)."""

    file: UploadFile
    name: str
    model_type: str
    version: str
    input_schema: str
    output_schema: str


def _json_field(text: str, field: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"is not JSON: {exc.msg}", field=field) from exc
    if not isinstance(value, dict):
        raise InvalidInputError("must be a JSON object", field=field)
    return value


class AiModelController(Controller):
    path = "/api/v1/vpp/ai-models"
    tags = ("ai-models",)
    dependencies = {"runtime": Provide(provide_runtime, sync_to_thread=False)}  # noqa: RUF012

    @get("/", opt={"cached": True})
    async def list_models(
        self,
        session: Session,
        model_type: Annotated[str | None, QueryParameter(max_length=50)] = None,
        status: FromQuery[ModelStatus | None] = None,
        name: Annotated[str | None, QueryParameter(max_length=100)] = None,
        page: Page = 1,
        size: Size = 50,
    ) -> ModelPage:
        """Registered model versions, newest first, filtered by ``model_type``, ``status``
        and ``name``; a built-in model shows the seasonal-naive baseline trained beside it."""
        return await list_models(
            session, model_type=model_type, status=status, name=name, page=page, size=size
        )

    @post("/", guards=[requires(*MODEL_WRITERS)])
    async def register(
        self,
        session: Session,
        ctx: Ctx,
        runtime: Runtime,
        principal: Caller,
        data: JSONBody[ModelRegister],
    ) -> ModelOut:
        """Register a model version from ``model_file_path`` (inside the hub's model
        directory). The file must be ONNX, a LightGBM text model or skops (trusted types
        only); pickles are refused by their bytes. Its inputs must match ``input_schema``.
        ``calibration`` (held-out rows and their actual values) gives it split-conformal
        intervals."""
        row = await register(
            session,
            runtime,
            principal,
            name=data.name,
            model_type=data.model_type,
            version=data.version,
            input_schema=data.input_schema,
            output_schema=data.output_schema,
            calibration=data.calibration,
            max_bytes=ctx.settings.model_max_bytes,
            path=data.model_file_path,
        )
        return (await with_baselines(session, [row]))[0]

    @post("/upload", guards=[requires(*MODEL_WRITERS)], request_max_body_size=UPLOAD_LIMIT)
    async def upload(
        self,
        session: Session,
        ctx: Ctx,
        runtime: Runtime,
        principal: Caller,
        data: Annotated[ModelUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ModelOut:
        """Register a model version from an uploaded file (multipart: ``file``, ``name``,
        ``model_type``, ``version``, ``input_schema`` and ``output_schema`` as JSON text);
        checked as ``POST /ai-models`` checks a path."""
        content = await data.file.read()
        try:
            meta = msgspec.convert(
                {
                    "name": data.name,
                    "model_type": data.model_type,
                    "version": data.version,
                    "model_file_path": "upload",
                    "input_schema": _json_field(data.input_schema, "input_schema"),
                    "output_schema": _json_field(data.output_schema, "output_schema"),
                },
                ModelRegister,
            )
        except msgspec.ValidationError as exc:
            raise InvalidInputError(str(exc)) from exc
        row = await register(
            session,
            runtime,
            principal,
            name=meta.name,
            model_type=meta.model_type,
            version=meta.version,
            input_schema=meta.input_schema,
            output_schema=meta.output_schema,
            max_bytes=ctx.settings.model_max_bytes,
            data=content,
        )
        return (await with_baselines(session, [row]))[0]

    @get("/{model_id:str}", opt={"cached": True})
    async def get_model(self, session: Session, model_id: FromPath[str]) -> ModelOut:
        return (await with_baselines(session, [await get_model(session, model_id)]))[0]

    @get("/{model_id:str}/versions", opt={"cached": True})
    async def versions(self, session: Session, model_id: FromPath[str]) -> list[ModelOut]:
        """Every version of this model's name, oldest first."""
        return await with_baselines(session, await versions(session, model_id))

    @put("/{model_id:str}/status", guards=[requires(*MODEL_WRITERS)])
    async def set_status(
        self,
        session: Session,
        principal: Caller,
        model_id: FromPath[str],
        data: JSONBody[ModelStatusUpdate],
    ) -> ModelOut:
        """DRAFT -> ACTIVE | RETIRED, ACTIVE -> RETIRED, RETIRED -> ACTIVE (rollback);
        activating a version retires the other active one of the same name. Audited."""
        row = await get_model(session, model_id)
        await change_status(session, principal, row, data.status, data.reason)
        await session.commit()
        return (await with_baselines(session, [row]))[0]

    @post("/{model_id:str}/predict", guards=[requires(*ALL_ROLES)], status_code=200)
    async def predict(
        self,
        session: Session,
        runtime: Runtime,
        model_id: FromPath[str],
        data: JSONBody[PredictIn],
    ) -> PredictOut:
        """Predictions of one model version for ``input_data`` (each feature one value or
        one per row), checked against its ``input_schema`` (422 naming the feature), with
        the interval of each prediction and its method (``confidence``: its nominal
        coverage)."""
        return await predict(session, runtime, model_id, data.input_data)

    @post("/train", guards=[requires(*MODEL_WRITERS)], status_code=HTTP_202_ACCEPTED)
    async def train(
        self, ctx: Ctx, runtime: Runtime, principal: Caller, data: JSONBody[TrainIn]
    ) -> TaskOut:
        """Start training a built-in day-ahead forecaster (LightGBM, walk-forward validated,
        split-conformal intervals) and its seasonal-naive baseline; poll
        ``GET /ai-models/training-tasks/{id}``."""
        return task_out(await start_training(ctx, runtime, principal, data))

    @get("/training-tasks/{task_id:str}", opt={"cached": True})
    async def task(self, session: Session, task_id: FromPath[str]) -> TaskOut:
        return task_out(await get_task(session, task_id))


class AiExperimentController(Controller):
    path = "/api/v1/vpp/ai-experiments"
    tags = ("ai-models",)
    dependencies = {"runtime": Provide(provide_runtime, sync_to_thread=False)}  # noqa: RUF012

    @post("/", guards=[requires(*MODEL_WRITERS)])
    async def create(
        self, session: Session, principal: Caller, data: JSONBody[ExperimentIn]
    ) -> ExperimentOut:
        """Run a challenger against a champion on one slot; the split is by day or by VPP
        (stable hash of the experiment and the unit). Audited."""
        row = await create_experiment(session, principal, data)
        return await experiment_out(session, row)

    @get("/{experiment_id:str}", opt={"cached": True})
    async def get(self, session: Session, experiment_id: FromPath[str]) -> ExperimentOut:
        """The experiment with metrics per arm and the Diebold-Mariano test."""
        return await experiment_out(session, await get_experiment(session, experiment_id))

    @post("/{experiment_id:str}/forecast", guards=[requires(*DISPATCHERS)], status_code=200)
    async def forecast(
        self,
        session: Session,
        runtime: Runtime,
        experiment_id: FromPath[str],
        data: JSONBody[ForecastIn],
    ) -> ForecastOut:
        """A forecast from the arm that serves this day (or VPP); both arms run (the other in
        shadow) and the decision records which arm served it."""
        return await forecast(session, runtime, experiment_id, data)

    @post(
        "/{experiment_id:str}/decisions/{decision_id:str}/outcome",
        guards=[requires(*DISPATCHERS)],
        status_code=200,
    )
    async def outcome(
        self,
        session: Session,
        principal: Caller,
        experiment_id: FromPath[str],
        decision_id: FromPath[str],
        data: JSONBody[OutcomeIn],
    ) -> ExperimentOut:
        """The actual values (and revenue, capture ratio) of a decision; with
        ``auto_promote`` the winner is promoted once the test is significant."""
        row = await record_outcome(session, principal, experiment_id, decision_id, data)
        return await experiment_out(session, row)

    @post("/{experiment_id:str}/promote", guards=[requires(*MODEL_WRITERS)], status_code=200)
    async def promote(
        self,
        session: Session,
        principal: Caller,
        experiment_id: FromPath[str],
        data: JSONBody[PromoteIn],
    ) -> ExperimentOut:
        """Promote the winner by hand (ACTIVE; the other arm RETIRED). Audited."""
        row = await get_experiment(session, experiment_id)
        await promote(session, principal, row, data.winner_id, data.reason or "by hand")
        await session.commit()
        return await experiment_out(session, row)


__all__ = ["AiExperimentController", "AiModelController"]
