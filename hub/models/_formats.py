"""Model files: what format a file is (by its content), loading it safely, and its fit to
the declared schemas.

Only three formats are ever loaded; nothing is unpickled:

* **ONNX** (onnxruntime, CPU). Tensors with external data are refused (they would make the
  runtime read files named inside the model).
* **LightGBM text models** (``Booster(model_str=...)``).
* **skops** with an explicit trusted-types list (:data:`TRUSTED_TYPES`): every type named in
  the file's schema must be on it.

Pickle in any dress is refused by its bytes, not its name: the pickle protocol 2-5 header,
the compressed containers joblib writes (zlib, gzip, bz2, xz, lzma, lz4), ZIP archives with
pickles inside (PyTorch, joblib), and a protocol 0/1 pickle stream (parsed, not run, by
``pickletools``). Anything else not recognised is refused too.

Errors::

    ModelFileError                 a file the registry refuses (422)
    ├── UnsafeFormatError              pickle, joblib, or an unknown format
    ├── ModelLoadError                 a safe format that does not load or run
    └── SchemaMismatchError            a model whose inputs/outputs do not match its schemas
"""

from __future__ import annotations

import io
import json
import pickletools
import threading
import zipfile
from collections.abc import Sequence
from typing import Any, Final, Literal, Protocol

import numpy as np
import numpy.typing as npt

from ._features import FEATURES, seasonal_naive
from ._schema import Feature

Format = Literal["onnx", "lightgbm", "skops", "seasonal_naive"]
FILE_FORMATS: Final[tuple[Format, ...]] = ("onnx", "lightgbm", "skops")
Array = npt.NDArray[np.float64]

TRUSTED_TYPES: Final = (
    "sklearn.linear_model._base.LinearRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.linear_model._coordinate_descent.Lasso",
    "sklearn.linear_model._coordinate_descent.ElasticNet",
    "sklearn.linear_model._quantile.QuantileRegressor",
    "sklearn.tree._classes.DecisionTreeRegressor",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._forest.RandomForestRegressor",
    "sklearn.ensemble._forest.ExtraTreesRegressor",
    "sklearn.ensemble._gb.GradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._data.MinMaxScaler",
    "sklearn.pipeline.Pipeline",
)
"""The estimators a skops file may hold (regressors and scalers of scikit-learn)."""
_SAFE_CONTAINERS: Final = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.NoneType",
        "numpy.ndarray",
        "numpy.float64",
        "numpy.float32",
        "numpy.int64",
        "numpy.int32",
        "numpy.dtype",
    }
)

_PICKLE_PROTOCOLS: Final = frozenset({2, 3, 4, 5})
_COMPRESSED: Final = (
    (b"\x78\x01", "zlib"),
    (b"\x78\x5e", "zlib"),
    (b"\x78\x9c", "zlib"),
    (b"\x78\xda", "zlib"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x5d\x00\x00", "lzma"),
    (b"\x04\x22\x4d\x18", "lz4"),
)
_LIGHTGBM_HEADER: Final = b"tree\nversion="


def require(module: str) -> Any:
    """An optional model library, or a :class:`ModelLoadError` that says how to get it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelLoadError(
            f"{module.partition('.')[0]} is not installed: pip install 'lingtan-vpp[hub]'"
        ) from exc


class ModelFileError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnsafeFormatError(ModelFileError):
    pass


class ModelLoadError(ModelFileError):
    pass


class SchemaMismatchError(ModelFileError):
    def __init__(self, detail: str, *, schema: Literal["input_schema", "output_schema"]) -> None:
        super().__init__(detail)
        self.schema = schema


def _is_pickle_stream(data: bytes) -> bool:
    """A whole protocol 0/1 pickle (opcodes parsed up to STOP; nothing is executed)."""
    if not data or data[-1:] != b".":
        return False
    try:
        for _ in pickletools.genops(io.BytesIO(data)):
            pass
    except Exception:
        return False
    return True


def sniff(data: bytes) -> Format:
    """The format of a model file, from its bytes; unsafe or unknown ones raise."""
    if len(data) >= 2 and data[0] == 0x80 and data[1] in _PICKLE_PROTOCOLS:
        raise UnsafeFormatError(
            f"a pickle (protocol {data[1]}): pickle files are never loaded; "
            "export the model to ONNX, a LightGBM text model or skops"
        )
    for magic, kind in _COMPRESSED:
        if data.startswith(magic):
            raise UnsafeFormatError(
                f"a {kind}-compressed stream (how joblib stores pickles): not a safe model format"
            )
    if data.startswith(_LIGHTGBM_HEADER):
        return "lightgbm"
    if data.startswith(b"PK\x03\x04"):
        _check_skops_archive(data)
        return "skops"
    if _is_pickle_stream(data):
        raise UnsafeFormatError("a pickle (protocol 0/1): pickle files are never loaded")
    if _looks_like_onnx(data):
        return "onnx"
    raise UnsafeFormatError("not a recognised model format (ONNX, LightGBM text model or skops)")


def _check_skops_archive(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile as exc:
        raise UnsafeFormatError("a damaged ZIP archive") from exc
    pickled = [n for n in names if n.endswith((".pkl", ".pickle", ".joblib")) or "/data/" in n]
    if pickled:
        raise UnsafeFormatError(
            f"a ZIP archive holding pickles ({pickled[0]}): pickle files are never loaded"
        )
    if "schema.json" not in names:
        raise UnsafeFormatError("a ZIP archive that is not a skops file (no schema.json)")


def _looks_like_onnx(data: bytes) -> bool:
    onnx = require("onnx")
    decode_error = require("google.protobuf.message").DecodeError
    try:
        model = onnx.load_model_from_string(data)
    except (decode_error, ValueError, RuntimeError):
        return False
    return model.ir_version > 0 and len(model.graph.node) > 0 and len(model.graph.input) > 0


class Predictor(Protocol):
    """A loaded model: rows of features in, one array per output out."""

    @property
    def outputs(self) -> list[str]: ...

    def predict(self, rows: Array) -> dict[str, Array]: ...


def _flat(values: Any, n: int, output: str) -> Array:
    out = np.asarray(values, dtype=np.float64)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape != (n,):
        raise ModelLoadError(f"output {output!r} has shape {out.shape}, not one value per row")
    return out


class _LightGbm:
    def __init__(self, data: bytes, features: Sequence[Feature], outputs: list[str]) -> None:
        lightgbm = require("lightgbm")
        try:
            self._booster = lightgbm.Booster(model_str=data.decode("utf-8"))
        except (UnicodeDecodeError, lightgbm.basic.LightGBMError) as exc:
            raise ModelLoadError(f"not a loadable LightGBM model: {exc}") from exc
        names = list(self._booster.feature_name())
        if len(names) != len(features):
            raise SchemaMismatchError(
                f"the model takes {len(names)} features, input_schema declares {len(features)}",
                schema="input_schema",
            )
        anonymous = all(n == f"Column_{i}" for i, n in enumerate(names))
        declared = [f.name for f in features]
        if not anonymous and names != declared:
            raise SchemaMismatchError(
                f"the model's features {names} are not input_schema's {declared} (same order)",
                schema="input_schema",
            )
        if self._booster.num_model_per_iteration() != 1:
            raise SchemaMismatchError(
                "a multi-class model: one value per output per row is expected",
                schema="output_schema",
            )
        if len(outputs) != 1:
            raise SchemaMismatchError(
                f"a LightGBM model has one output, output_schema declares {len(outputs)}",
                schema="output_schema",
            )
        self._outputs = outputs
        self._lock = threading.Lock()

    @property
    def outputs(self) -> list[str]:
        return self._outputs

    def predict(self, rows: Array) -> dict[str, Array]:
        with self._lock:
            values = self._booster.predict(rows, num_threads=1)
        return {self._outputs[0]: _flat(values, rows.shape[0], self._outputs[0])}


_ONNX_TYPES: Final = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
}


def _external_tensors(data: bytes) -> list[str]:
    onnx = require("onnx")

    model = onnx.load_model_from_string(data)
    found: list[str] = []

    def tensors_of(graph: Any) -> None:
        for tensor in graph.initializer:
            if tensor.data_location == onnx.TensorProto.EXTERNAL:
                found.append(tensor.name)
        for node in graph.node:
            for attr in node.attribute:
                for tensor in [attr.t, *attr.tensors]:
                    if tensor.data_location == onnx.TensorProto.EXTERNAL:
                        found.append(tensor.name)
                for sub in [attr.g, *attr.graphs]:
                    tensors_of(sub)

    tensors_of(model.graph)
    return found


class _Onnx:
    def __init__(  # noqa: PLR0912 - one check per way a graph can miss its schema
        self, data: bytes, features: Sequence[Feature], outputs: list[str]
    ) -> None:
        ort = require("onnxruntime")
        external = _external_tensors(data)
        if external:
            raise UnsafeFormatError(
                f"an ONNX model with external data ({external[0]}): only self-contained "
                "models are loaded"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                data, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped family
            raise ModelLoadError(f"onnxruntime cannot load the model: {exc}") from exc
        inputs = self._session.get_inputs()
        declared = [f.name for f in features]
        self._inputs: list[tuple[str, Any]] = []
        names = [i.name for i in inputs]
        for i in inputs:
            if i.type not in _ONNX_TYPES:
                raise SchemaMismatchError(
                    f"model input {i.name!r} is {i.type}, not a numeric tensor",
                    schema="input_schema",
                )
        self._ranks: list[int] = []
        if len(names) > 1 and sorted(names) == sorted(declared):
            self._per_feature = True
            by_name = {i.name: i for i in inputs}
            self._inputs = [(n, _ONNX_TYPES[by_name[n].type]) for n in declared]
            self._ranks = [len(by_name[n].shape or [None]) for n in declared]
            if any(r not in {1, 2} for r in self._ranks):
                raise SchemaMismatchError(
                    "a per-feature model input must be rows or rows x 1", schema="input_schema"
                )
        elif len(inputs) == 1:
            self._per_feature = False
            shape = inputs[0].shape
            width = shape[-1] if shape else None
            if len(shape) != 2:
                raise SchemaMismatchError(
                    f"model input {names[0]!r} has rank {len(shape)}; a single input must be "
                    "rows x features",
                    schema="input_schema",
                )
            if isinstance(width, int) and width != len(features):
                raise SchemaMismatchError(
                    f"the model takes {width} features, input_schema declares {len(features)}",
                    schema="input_schema",
                )
            self._inputs = [(names[0], _ONNX_TYPES[inputs[0].type])]
        else:
            raise SchemaMismatchError(
                f"the model's inputs {names} match neither input_schema's features {declared} "
                "nor one rows x features tensor",
                schema="input_schema",
            )
        model_outputs = [o.name for o in self._session.get_outputs()]
        if len(outputs) == 1 and len(model_outputs) == 1:
            self._map = {outputs[0]: model_outputs[0]}
        else:
            missing = [o for o in outputs if o not in model_outputs]
            if missing:
                raise SchemaMismatchError(
                    f"output_schema names {missing} that the model does not produce "
                    f"(it produces {model_outputs})",
                    schema="output_schema",
                )
            self._map = {o: o for o in outputs}
        self._outputs = outputs

    @property
    def outputs(self) -> list[str]:
        return self._outputs

    def predict(self, rows: Array) -> dict[str, Array]:
        if self._per_feature:
            feeds = {
                name: (rows[:, i] if rank == 1 else rows[:, i : i + 1]).astype(dtype)
                for i, ((name, dtype), rank) in enumerate(
                    zip(self._inputs, self._ranks, strict=True)
                )
            }
        else:
            name, dtype = self._inputs[0]
            feeds = {name: rows.astype(dtype)}
        wanted = list(self._map.values())
        try:
            results = self._session.run(wanted, feeds)
        except Exception as exc:  # onnxruntime's untyped errors (shape, type)
            raise ModelLoadError(f"the model failed to run: {exc}") from exc
        by_name = dict(zip(wanted, results, strict=True))
        return {o: _flat(by_name[m], rows.shape[0], o) for o, m in self._map.items()}


def _schema_types(data: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


class _Skops:
    def __init__(self, data: bytes, features: Sequence[Feature], outputs: list[str]) -> None:
        sio = require("skops.io")
        try:
            named = _schema_types(data)
            untrusted = set(sio.get_untrusted_types(data=data))
        except Exception as exc:  # a damaged archive or schema
            raise ModelLoadError(f"not a readable skops file: {exc}") from exc
        refused = sorted((named | untrusted) - set(TRUSTED_TYPES) - _SAFE_CONTAINERS)
        if refused:
            raise UnsafeFormatError(
                f"a skops file with types outside the trusted list: {', '.join(refused[:5])}"
            )
        try:
            self._model = sio.loads(data, trusted=list(TRUSTED_TYPES))
        except Exception as exc:  # skops raises many kinds
            raise ModelLoadError(f"skops cannot load the model: {exc}") from exc
        n_in = getattr(self._model, "n_features_in_", None)
        if n_in is not None and int(n_in) != len(features):
            raise SchemaMismatchError(
                f"the model takes {n_in} features, input_schema declares {len(features)}",
                schema="input_schema",
            )
        names = getattr(self._model, "feature_names_in_", None)
        declared = [f.name for f in features]
        if names is not None and [str(n) for n in names] != declared:
            raise SchemaMismatchError(
                f"the model's features {list(names)} are not input_schema's {declared}",
                schema="input_schema",
            )
        if len(outputs) != 1:
            raise SchemaMismatchError(
                f"a scikit-learn regressor has one output, output_schema declares {len(outputs)}",
                schema="output_schema",
            )
        self._outputs = outputs

    @property
    def outputs(self) -> list[str]:
        return self._outputs

    def predict(self, rows: Array) -> dict[str, Array]:
        values = self._model.predict(rows)
        return {self._outputs[0]: _flat(values, rows.shape[0], self._outputs[0])}


class SeasonalNaive:
    """The built-in baseline (no file): see :func:`hub.models.seasonal_naive`."""

    def __init__(self, features: Sequence[Feature], outputs: list[str]) -> None:
        if [f.name for f in features] != list(FEATURES):
            raise SchemaMismatchError(
                "the seasonal-naive baseline takes the built-in forecasters' features",
                schema="input_schema",
            )
        if len(outputs) != 1:
            raise SchemaMismatchError("the baseline has one output", schema="output_schema")
        self._outputs = outputs

    @property
    def outputs(self) -> list[str]:
        return self._outputs

    def predict(self, rows: Array) -> dict[str, Array]:
        return {self._outputs[0]: seasonal_naive(rows)}


def load(fmt: Format, data: bytes, features: Sequence[Feature], outputs: list[str]) -> Predictor:
    """Load a model of a known format and check it against the schemas, then run it once on
    a row of zeros (a model that loads but cannot run is refused here, not at predict)."""
    predictor: Predictor
    match fmt:
        case "lightgbm":
            predictor = _LightGbm(data, features, outputs)
        case "onnx":
            predictor = _Onnx(data, features, outputs)
        case "skops":
            predictor = _Skops(data, features, outputs)
        case "seasonal_naive":
            predictor = SeasonalNaive(features, outputs)
    try:
        predictor.predict(np.zeros((1, len(features))))
    except ModelFileError:
        raise
    except Exception as exc:  # the library's own errors on a model that cannot run
        raise ModelLoadError(f"the model failed a trial prediction: {exc}") from exc
    return predictor


__all__ = [
    "FILE_FORMATS",
    "TRUSTED_TYPES",
    "Format",
    "ModelFileError",
    "ModelLoadError",
    "Predictor",
    "SchemaMismatchError",
    "SeasonalNaive",
    "UnsafeFormatError",
    "load",
    "require",
    "sniff",
]
