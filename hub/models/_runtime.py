"""What the models capability keeps while the hub runs: the model directory, loaded models
(a small cache keyed by model id and file hash) and the training worker.

The lifespan (:func:`models_lifespan`) runs after the hub's own (it needs ``app.state.hub``)
and owns the worker's tasks; training runs in a thread, one at a time, from a bounded queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Final

from litestar import Litestar
from sqlalchemy import select

from hub._context import HubContext
from hub._settings import Settings, mqtt_client_id
from hub.store import AiModel, AiTrainingTask

from ._files import load_stored, model_root
from ._formats import Format, Predictor, load
from ._schema import parse_schema

_log = logging.getLogger(__name__)
CACHE_SIZE: Final = 32
TRAIN_QUEUE: Final = 8


class ModelRuntime:
    def __init__(self, model_dir: str) -> None:
        self.root: Path = model_root(model_dir)
        self._cache: OrderedDict[tuple[str, str], Predictor] = OrderedDict()
        self._lock = threading.Lock()
        self.queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue(TRAIN_QUEUE)
        self.idle = asyncio.Event()
        self.idle.set()

    def predictor(self, row: AiModel) -> Predictor:
        """The loaded model of a registry row (loaded on first use, its hash checked)."""
        key = (row.id, row.file_sha256 or "")
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        features = parse_schema(row.input_schema, "input_schema")
        outputs = [f.name for f in parse_schema(row.output_schema, "output_schema")]
        fmt: Format = row.format  # type: ignore[assignment]
        data = b""
        if row.model_file_path is not None and row.file_sha256 is not None:
            data = load_stored(self.root, row.model_file_path, row.file_sha256)
        predictor = load(fmt, data, features, outputs)
        with self._lock:
            self._cache[key] = predictor
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return predictor

    async def _worker(self) -> None:
        while True:
            job = await self.queue.get()
            self.idle.clear()
            try:
                await job()
            except Exception:  # a failed training is recorded by the job; keep serving
                _log.exception("training job failed")
            finally:
                self.queue.task_done()
                if self.queue.empty():
                    self.idle.set()


def worker_id(settings: Settings) -> str:
    """Who runs a training task: the hub process's stable identity (the MQTT client id:
    the same across restarts, distinct per replica)."""
    return mqtt_client_id(settings)


async def _fail_orphans(ctx: HubContext) -> None:
    """Tasks this hub left PENDING or RUNNING when it stopped are FAILED, not stuck; another
    replica's running tasks are not touched (each task records its worker)."""
    me = worker_id(ctx.settings)
    async with ctx.sessions() as session:
        rows = await session.scalars(
            select(AiTrainingTask).where(AiTrainingTask.state.in_(["PENDING", "RUNNING"]))
        )
        for row in rows:
            if (row.request or {}).get("worker", me) == me:
                row.state = "FAILED"
                row.message = "the hub stopped before the task finished"
        await session.commit()


@contextlib.asynccontextmanager
async def models_lifespan(app: Litestar) -> AsyncIterator[None]:
    ctx: HubContext = app.state.hub
    runtime = ModelRuntime(ctx.settings.model_dir)
    app.state.models = runtime
    await _fail_orphans(ctx)
    worker = asyncio.get_running_loop().create_task(runtime._worker(), name="model-training")
    try:
        yield
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


__all__ = ["ModelRuntime", "models_lifespan", "worker_id"]
