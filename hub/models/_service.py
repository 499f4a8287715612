"""Registry use cases: register (path or upload), list, versions, status, predict.

Registration checks everything before it keeps anything: the path (before reading it), the
format (by content), loading, the declared schemas and the calibration. Only then is the
row added and flushed, the file stored by its hash, and the transaction committed; a file
stored for a registration that did not commit is removed again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Principal, audit
from hub.errors import ConflictError, InvalidInputError, NotFoundError
from hub.store import AiModel, new_id, row_dict

from ._files import PathRefusedError, read_inside, resolve_inside, sha256, store, unstore
from ._formats import (
    Format,
    ModelFileError,
    Predictor,
    SchemaMismatchError,
    load,
    sniff,
)
from ._metrics import conformal_quantile
from ._runtime import ModelRuntime
from ._schema import Feature, SchemaError, parse_schema, rows_of
from ._schemas import Calibration, Interval, ModelOut, ModelPage, ModelSummary, PredictOut

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "DRAFT": frozenset({"ACTIVE", "RETIRED"}),
    "ACTIVE": frozenset({"RETIRED"}),
    "RETIRED": frozenset({"ACTIVE"}),
}
"""Allowed status changes (RETIRED -> ACTIVE is a rollback). Activating a version retires
the other active version of the same name: one version of a model is live at a time."""
ASYNC_ROWS: Final = 2000
"""Predictions of more rows than this run in a thread (fewer: in the loop, it is faster)."""


def invalid(exc: SchemaError) -> InvalidInputError:
    return InvalidInputError(exc.detail, field=exc.field)


def schemas_of(
    input_schema: Mapping[str, Any], output_schema: Mapping[str, Any]
) -> tuple[list[Feature], list[str]]:
    try:
        features = parse_schema(input_schema, "input_schema")
        outputs = [f.name for f in parse_schema(output_schema, "output_schema")]
    except SchemaError as exc:
        raise invalid(exc) from exc
    return features, outputs


def calibrate(
    predictor: Predictor, features: list[Feature], calibration: Calibration
) -> dict[str, Any]:
    """Split-conformal half-widths from held-out rows given at registration."""
    try:
        rows = rows_of(features, calibration.input_data, "calibration.input_data")
    except SchemaError as exc:
        raise invalid(exc) from exc
    predicted = predictor.predict(rows)
    half: dict[str, float] = {}
    for output in predictor.outputs:
        actual = calibration.targets.get(output)
        if actual is None or len(actual) != rows.shape[0]:
            raise InvalidInputError(
                f"needs {rows.shape[0]} actual values of {output!r}",
                field=f"calibration.targets.{output}",
            )
        half[output] = conformal_quantile(
            np.asarray(actual, dtype=np.float64) - predicted[output], calibration.level
        )
    return {
        "method": "split_conformal",
        "level": calibration.level,
        "half_width": half,
        "n": int(rows.shape[0]),
        "source": "held-out rows given at registration",
    }


def _checked(
    data: bytes, features: list[Feature], outputs: list[str], field: str
) -> tuple[Format, Predictor]:
    try:
        fmt = sniff(data)
        return fmt, load(fmt, data, features, outputs)
    except SchemaMismatchError as exc:
        raise InvalidInputError(exc.detail, field=exc.schema) from exc
    except ModelFileError as exc:
        raise InvalidInputError(exc.detail, field=field) from exc


async def _read_path(runtime: ModelRuntime, path: str, max_bytes: int) -> bytes:
    try:
        real = resolve_inside(runtime.root, path)  # refused before anything is read
        return await asyncio.to_thread(read_inside, real, max_bytes)
    except PathRefusedError as exc:
        raise InvalidInputError(exc.detail, field="model_file_path") from exc


async def _predictor(
    fmt_override: Format | None,
    data: bytes | None,
    features: list[Feature],
    outputs: list[str],
    field: str,
    max_bytes: int,
) -> tuple[Format, Predictor]:
    if fmt_override == "seasonal_naive":
        return "seasonal_naive", await asyncio.to_thread(
            load, "seasonal_naive", b"", features, outputs
        )
    if data is None:
        raise InvalidInputError("a model file is needed", field=field)
    if len(data) > max_bytes:
        raise InvalidInputError(f"the model file is larger than {max_bytes} bytes", field=field)
    return await asyncio.to_thread(_checked, data, features, outputs, field)


async def register(
    session: AsyncSession,
    runtime: ModelRuntime,
    who: Principal,
    *,
    name: str,
    model_type: str,
    version: str,
    input_schema: dict[str, Any],
    output_schema: dict[str, Any],
    max_bytes: int,
    path: str | None = None,
    data: bytes | None = None,
    calibration: Calibration | None = None,
    calibration_record: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    fmt_override: Format | None = None,
    baseline_id: str | None = None,
    training_task_id: str | None = None,
    status: str = "DRAFT",
    commit: bool = True,
) -> AiModel:
    """Check and register one model version (file from ``path`` inside the model directory,
    or ``data`` uploaded); nothing is kept unless every check passes and the row commits.
    ``commit=False`` leaves the commit to the caller (several registrations in one
    transaction); a file it stored for a row that then does not commit stays in the store,
    unreferenced, and is stored again by the next registration of the same content."""
    features, outputs = schemas_of(input_schema, output_schema)
    field = "model_file_path" if path is not None else "file"
    if path is not None:
        data = await _read_path(runtime, path, max_bytes)
    if await session.scalar(
        select(AiModel.id).where(AiModel.name == name, AiModel.version == version)
    ):
        raise ConflictError(f"model {name!r} version {version!r} exists", field="version")
    fmt, predictor = await _predictor(fmt_override, data, features, outputs, field, max_bytes)
    if fmt == "seasonal_naive":
        data = None
    cal = calibration_record
    if calibration is not None:
        cal = await asyncio.to_thread(calibrate, predictor, features, calibration)
    row = AiModel(
        id=new_id(),
        name=name,
        model_type=model_type,
        version=version,
        format=fmt,
        input_schema=input_schema,
        output_schema=output_schema,
        status=status,
        calibration=cal,
        metrics=metrics,
        baseline_id=baseline_id,
        training_task_id=training_task_id,
        created_by=who.username,
    )
    relative: str | None = None
    written = False
    try:
        if data is not None:
            row.file_sha256 = sha256(data)
            row.file_size = len(data)
            relative, written = await asyncio.to_thread(store, runtime.root, data)
            row.model_file_path = relative
        session.add(row)
        audit(session, who, "ai_model.register", "ai_model", row.id, None, row_dict(row))
        await session.flush()
        if commit:
            await session.commit()
    except BaseException as exc:
        await session.rollback()
        if written and relative is not None:
            await asyncio.to_thread(unstore, runtime.root, relative)
        if isinstance(exc, IntegrityError):
            raise ConflictError(
                f"model {name!r} version {version!r} exists", field="version"
            ) from exc
        raise
    return row


async def get_model(session: AsyncSession, model_id: str) -> AiModel:
    row = await session.get(AiModel, model_id)
    if row is None:
        raise NotFoundError(f"AI model {model_id} not found")
    return row


def summary(row: AiModel) -> ModelSummary:
    return ModelSummary(
        id=row.id,
        name=row.name,
        version=row.version,
        format=row.format,
        status=row.status,
        metrics=row.metrics,
    )


def model_out(row: AiModel, baseline: AiModel | None = None) -> ModelOut:
    return ModelOut(
        id=row.id,
        name=row.name,
        model_type=row.model_type,
        version=row.version,
        format=row.format,
        model_file_path=row.model_file_path,
        file_sha256=row.file_sha256,
        file_size=row.file_size,
        input_schema=row.input_schema,
        output_schema=row.output_schema,
        status=row.status,
        calibration=row.calibration,
        metrics=row.metrics,
        baseline_id=row.baseline_id,
        baseline=summary(baseline) if baseline is not None else None,
        training_task_id=row.training_task_id,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def with_baselines(session: AsyncSession, rows: list[AiModel]) -> list[ModelOut]:
    ids = [r.baseline_id for r in rows if r.baseline_id]
    baselines: dict[str, AiModel] = {}
    if ids:
        baselines = {
            b.id: b for b in await session.scalars(select(AiModel).where(AiModel.id.in_(ids)))
        }
    return [model_out(r, baselines.get(r.baseline_id or "")) for r in rows]


async def list_models(
    session: AsyncSession,
    *,
    model_type: str | None,
    status: str | None,
    name: str | None,
    page: int,
    size: int,
) -> ModelPage:
    query = select(AiModel)
    if model_type is not None:
        query = query.where(AiModel.model_type == model_type)
    if status is not None:
        query = query.where(AiModel.status == status)
    if name is not None:
        query = query.where(AiModel.name == name)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(
        await session.scalars(
            query.order_by(AiModel.created_at.desc(), AiModel.id)
            .limit(size)
            .offset((page - 1) * size)
        )
    )
    items = await with_baselines(session, rows)
    return ModelPage(items=items, total=total or 0, page=page, size=size)


async def versions(session: AsyncSession, model_id: str) -> list[AiModel]:
    row = await get_model(session, model_id)
    return list(
        await session.scalars(
            select(AiModel).where(AiModel.name == row.name).order_by(AiModel.created_at, AiModel.id)
        )
    )


def _set_status(
    session: AsyncSession, who: Principal, row: AiModel, status: str, reason: str
) -> None:
    before = {"status": row.status}
    row.status = status
    audit(
        session,
        who,
        "ai_model.status",
        "ai_model",
        row.id,
        before,
        {"status": status, "reason": reason},
    )


async def change_status(
    session: AsyncSession, who: Principal, row: AiModel, status: str, reason: str
) -> list[AiModel]:
    """Move a version to ``status`` (audited); activating it retires the other active
    version of the same name (audited too). Returns the rows that changed. The caller
    commits."""
    if status == row.status:
        return []
    if status not in TRANSITIONS[row.status]:
        raise ConflictError(f"a {row.status} model cannot become {status}", field="status")
    changed = [row]
    if status == "ACTIVE":
        others = await session.scalars(
            select(AiModel).where(
                AiModel.name == row.name, AiModel.status == "ACTIVE", AiModel.id != row.id
            )
        )
        for other in others:
            _set_status(session, who, other, "RETIRED", f"{row.version} activated")
            changed.append(other)
    _set_status(session, who, row, status, reason)
    return changed


def intervals(
    row: AiModel, predictions: dict[str, np.ndarray[Any, Any]]
) -> tuple[float | None, str, dict[str, Interval] | None]:
    cal = row.calibration
    if not cal or cal.get("method") != "split_conformal":
        return None, "none: no held-out calibration for this model", None
    half: dict[str, float] = cal.get("half_width", {})
    out: dict[str, Interval] = {}
    for name, values in predictions.items():
        q = float(half.get(name, 0.0))
        out[name] = Interval(lower=(values - q).tolist(), upper=(values + q).tolist())
    method = (
        f"split conformal: prediction +/- the {cal['level']:g} quantile of |residuals| of "
        f"{cal.get('n', '?')} held-out values ({cal.get('source', 'held-out data')})"
    )
    return float(cal["level"]), method, out


async def run_model(
    runtime: ModelRuntime, row: AiModel, input_data: Mapping[str, Any], field: str = "input_data"
) -> dict[str, np.ndarray[Any, Any]]:
    """Validate ``input_data`` against the model's input schema and predict."""
    features = parse_schema(row.input_schema, "input_schema")
    try:
        rows = rows_of(features, input_data, field)
    except SchemaError as exc:
        raise invalid(exc) from exc
    if rows.shape[0] > ASYNC_ROWS:
        predictor = await asyncio.to_thread(runtime.predictor, row)
        return await asyncio.to_thread(predictor.predict, rows)
    return runtime.predictor(row).predict(rows)


async def predict(
    session: AsyncSession, runtime: ModelRuntime, model_id: str, input_data: Mapping[str, Any]
) -> PredictOut:
    row = await get_model(session, model_id)
    if row.status == "RETIRED":
        raise ConflictError(f"model {row.name} {row.version} is retired", field="id")
    try:
        predictions = await run_model(runtime, row, input_data)
    except ModelFileError as exc:
        raise InvalidInputError(exc.detail, field="input_data") from exc
    confidence, method, bands = intervals(row, predictions)
    return PredictOut(
        predictions={k: v.tolist() for k, v in predictions.items()},
        confidence=confidence,
        confidence_method=method,
        intervals=bands,
        model_version=row.version,
        model_id=row.id,
    )


__all__ = [
    "TRANSITIONS",
    "calibrate",
    "change_status",
    "get_model",
    "intervals",
    "list_models",
    "model_out",
    "predict",
    "register",
    "run_model",
    "versions",
    "with_baselines",
]
