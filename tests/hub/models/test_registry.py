"""The model registry (seed 4.2.2): register real model files, predict, statuses; unsafe
files, paths out of the model directory and schema mismatches are refused with nothing kept."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import skops.io as sio
from litestar import Litestar
from litestar.testing import AsyncTestClient
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store import AiModel, AuditEntry
from tests.hub.conftest import AuthFor

from .makers import FEATURES3, lightgbm_text, linear_data, onnx_linear, schema

URL = "/api/v1/vpp/ai-models"


def body(path: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "demand",
        "model_type": "load_forecast",
        "version": "1.0",
        "model_file_path": path,
        "input_schema": schema(FEATURES3),
        "output_schema": schema(["load_kw"]),
        **extra,
    }


def stored_files(model_dir: Path) -> list[Path]:
    store = model_dir / "store"
    return sorted(p for p in store.rglob("*") if p.is_file()) if store.exists() else []


async def count_models(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(AiModel)) or 0)


async def test_a_lightgbm_model_is_registered_by_path_stored_by_hash_and_predicts(
    client: AsyncTestClient[Litestar], auth: AuthFor, model_dir: Path
) -> None:
    text, booster = lightgbm_text()
    (model_dir / "demand.txt").write_text(text)
    x, y = linear_data(200, seed=5)
    calibration = {
        "input_data": {n: x[:, i].tolist() for i, n in enumerate(FEATURES3)},
        "targets": {"load_kw": y.tolist()},
        "level": 0.9,
    }
    r = await client.post(
        URL, json=body("demand.txt", calibration=calibration), headers=auth("trader")
    )
    assert r.status_code == 201, r.text
    model = r.json()
    assert model["format"] == "lightgbm" and model["status"] == "DRAFT"
    assert model["created_by"] == "trader-user"
    digest = model["file_sha256"]
    assert model["model_file_path"] == f"store/{digest[:2]}/{digest}"
    assert (model_dir / model["model_file_path"]).read_text() == text

    rows = np.array([[0.5, -0.2, 0.1], [-0.3, 0.4, 0.0]])
    r = await client.post(
        f"{URL}/{model['id']}/predict",
        json={"input_data": {"a": [0.5, -0.3], "b": [-0.2, 0.4], "c": [0.1, 0.0]}},
        headers=auth("viewer"),
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model_version"] == "1.0"
    np.testing.assert_allclose(out["predictions"]["load_kw"], booster.predict(rows), rtol=1e-9)
    assert out["confidence"] == 0.9 and "split conformal" in out["confidence_method"]
    band = out["intervals"]["load_kw"]
    assert all(
        lo < p < hi
        for lo, p, hi in zip(
            band["lower"], out["predictions"]["load_kw"], band["upper"], strict=True
        )
    )

    r = await client.post(
        f"{URL}/{model['id']}/predict",
        json={"input_data": {"a": 1.0, "b": 2.0}},
        headers=auth("viewer"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "input_data.c"
    r = await client.post(
        f"{URL}/{model['id']}/predict",
        json={"input_data": {"a": ["x"], "b": [1.0], "c": [1.0]}},
        headers=auth("viewer"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "input_data.a[0]"
    r = await client.post(
        f"{URL}/{model['id']}/predict",
        json={"input_data": {"a": [1.0, 2.0], "b": [1.0], "c": [1.0]}},
        headers=auth("viewer"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "input_data.b"


async def test_an_onnx_model_is_uploaded_and_predicts_its_graph(
    client: AsyncTestClient[Litestar], auth: AuthFor, model_dir: Path
) -> None:
    data = onnx_linear([1.0, 2.0, -1.0], 0.5)
    r = await client.post(
        f"{URL}/upload",
        files={"file": ("linear.onnx", data, "application/octet-stream")},
        data={
            "name": "linear",
            "model_type": "price_forecast",
            "version": "2",
            "input_schema": json.dumps(schema(FEATURES3)),
            "output_schema": json.dumps(schema(["price"])),
        },
        headers=auth("admin"),
    )
    assert r.status_code == 201, r.text
    model = r.json()
    assert model["format"] == "onnx" and model["file_size"] == len(data)
    r = await client.post(
        f"{URL}/{model['id']}/predict",
        json={"input_data": {"a": [1.0, 0.0], "b": [1.0, 0.0], "c": [1.0, 2.0]}},
        headers=auth("viewer"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["predictions"]["price"] == pytest.approx([2.5, -1.5])
    assert r.json()["confidence"] is None and r.json()["intervals"] is None
    assert len(stored_files(model_dir)) == 1


async def test_a_skops_model_with_trusted_types_loads_and_one_with_others_is_refused(
    client: AsyncTestClient[Litestar], auth: AuthFor, model_dir: Path
) -> None:
    x, y = linear_data()
    (model_dir / "ridge.skops").write_bytes(sio.dumps(Ridge().fit(x, y)))
    r = await client.post(URL, json=body("ridge.skops"), headers=auth("trader"))
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "skops"
    (model_dir / "knn.skops").write_bytes(sio.dumps(KNeighborsRegressor().fit(x, y)))
    r = await client.post(URL, json=body("knn.skops", version="2"), headers=auth("trader"))
    assert r.status_code == 422, r.text
    assert "trusted" in r.json()["detail"] and r.json()["errors"][0]["field"] == "model_file_path"


@pytest.mark.parametrize(
    "content",
    [
        pickle.dumps({"weights": [1, 2, 3]}, protocol=4),
        pickle.dumps({"weights": [1, 2, 3]}, protocol=0),
        zlib.compress(pickle.dumps([1, 2, 3])),
    ],
    ids=["pickle-4", "pickle-0", "joblib-zlib"],
)
async def test_pickles_are_refused_by_content_whatever_their_name(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    model_dir: Path,
    db: async_sessionmaker[AsyncSession],
    content: bytes,
) -> None:
    (model_dir / "model.onnx").write_bytes(content)
    r = await client.post(URL, json=body("model.onnx"), headers=auth("trader"))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["errors"][0]["field"] == "model_file_path"
    assert "pickle" in problem["detail"]
    assert await count_models(db) == 0
    assert stored_files(model_dir) == []


async def test_paths_out_of_the_model_directory_are_refused_before_reading(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    model_dir: Path,
    tmp_path: Path,
    db: async_sessionmaker[AsyncSession],
) -> None:
    text, _ = lightgbm_text()
    outside = tmp_path / "outside.txt"
    outside.write_text(text)  # a valid model: only the path is wrong
    (model_dir / "sub").mkdir()
    (model_dir / "sub" / "escape.txt").symlink_to(outside)
    (model_dir / "linkdir").symlink_to(tmp_path)
    for path, why in [
        ("../outside.txt", ".."),
        ("sub/../../outside.txt", ".."),
        (str(outside), "outside the model directory"),
        ("/etc/hostname", "outside the model directory"),
        ("sub/escape.txt", "symlink"),
        ("linkdir/outside.txt", "symlink"),
        ("missing.txt", "not a file"),
        ("sub", "not a file"),
    ]:
        r = await client.post(URL, json=body(path), headers=auth("trader"))
        assert r.status_code == 422, (path, r.text)
        assert why in r.json()["detail"], (path, r.json())
        assert r.json()["errors"][0]["field"] == "model_file_path"
    assert await count_models(db) == 0
    assert stored_files(model_dir) == []
    # an absolute path inside the directory, and a symlink that stays inside, are fine
    (model_dir / "real.txt").write_text(text)
    (model_dir / "alias.txt").symlink_to(model_dir / "real.txt")
    assert (
        await client.post(URL, json=body(str(model_dir / "real.txt")), headers=auth("trader"))
    ).status_code == 201
    r = await client.post(URL, json=body("alias.txt", version="2"), headers=auth("trader"))
    assert r.status_code == 201
    assert len(stored_files(model_dir)) == 1  # the same content is stored once


async def test_a_model_whose_inputs_do_not_match_its_schema_is_refused(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    model_dir: Path,
    db: async_sessionmaker[AsyncSession],
) -> None:
    text, _ = lightgbm_text()
    (model_dir / "m.txt").write_text(text)
    (model_dir / "anon.txt").write_text(lightgbm_text(names=None)[0])
    (model_dir / "m.onnx").write_bytes(onnx_linear([1.0, 2.0], 0.0))
    cases = [
        (body("m.txt", input_schema=schema(["a", "b"])), "input_schema", "takes 3 features"),
        (body("m.txt", input_schema=schema(["a", "c", "b"])), "input_schema", "same order"),
        (body("anon.txt", input_schema=schema(["x", "y"])), "input_schema", "takes 3 features"),
        (body("m.onnx"), "input_schema", "takes 2 features"),
        (body("m.txt", output_schema=schema(["p", "q"])), "output_schema", "one output"),
        (
            body("m.txt", input_schema={"properties": {"a": {"type": "string"}}}),
            "input_schema.properties.a",
            "type",
        ),
        (body("m.txt", input_schema={"properties": {}}), "input_schema.properties", "at least one"),
    ]
    for payload, field, why in cases:
        r = await client.post(URL, json=payload, headers=auth("trader"))
        assert r.status_code == 422, (payload, r.text)
        assert r.json()["errors"][0]["field"] == field, r.json()
        assert why in r.json()["detail"], r.json()
    (model_dir / "junk.bin").write_bytes(b"\x00\x01not a model at all")
    r = await client.post(URL, json=body("junk.bin"), headers=auth("trader"))
    assert r.status_code == 422 and "not a recognised model format" in r.json()["detail"]
    (model_dir / "broken.txt").write_text("tree\nversion=v4\nnum_class=1\n")
    r = await client.post(URL, json=body("broken.txt"), headers=auth("trader"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "model_file_path"
    assert await count_models(db) == 0
    assert stored_files(model_dir) == []
    # anonymous LightGBM features only need the right count
    r = await client.post(URL, json=body("anon.txt"), headers=auth("trader"))
    assert r.status_code == 201, r.text


async def test_versions_statuses_and_their_audit(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    model_dir: Path,
    db: async_sessionmaker[AsyncSession],
) -> None:
    h = auth("trader")
    (model_dir / "v1.txt").write_text(lightgbm_text()[0])
    (model_dir / "v2.txt").write_text(lightgbm_text(rounds=40)[0])
    v1 = (await client.post(URL, json=body("v1.txt"), headers=h)).json()
    v2 = (await client.post(URL, json=body("v2.txt", version="1.1"), headers=h)).json()
    r = await client.post(URL, json=body("v2.txt", version="1.1"), headers=h)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "version"
    r = await client.post(URL, json=body("v2.txt", version="3"), headers=auth("viewer"))
    assert r.status_code == 403
    (model_dir / "other.txt").write_text(lightgbm_text(rounds=20)[0])
    await client.post(URL, json=body("other.txt", name="pv", model_type="pv_forecast"), headers=h)

    r = await client.put(f"{URL}/{v1['id']}/status", json={"status": "ACTIVE"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "ACTIVE"
    r = await client.put(
        f"{URL}/{v2['id']}/status", json={"status": "ACTIVE", "reason": "better"}, headers=h
    )
    assert r.json()["status"] == "ACTIVE"
    versions = (await client.get(f"{URL}/{v1['id']}/versions", headers=h)).json()
    assert [(v["version"], v["status"]) for v in versions] == [
        ("1.0", "RETIRED"),
        ("1.1", "ACTIVE"),
    ]
    r = await client.put(f"{URL}/{v1['id']}/status", json={"status": "DRAFT"}, headers=h)
    assert r.status_code == 409
    r = await client.post(
        f"{URL}/{v1['id']}/predict", json={"input_data": {"a": 1, "b": 1, "c": 1}}, headers=h
    )
    assert r.status_code == 409

    listed = (await client.get(URL, params={"model_type": "load_forecast"}, headers=h)).json()
    assert listed["total"] == 2
    active = (await client.get(URL, params={"status": "ACTIVE"}, headers=h)).json()
    assert [m["id"] for m in active["items"]] == [v2["id"]]
    assert (await client.get(URL, params={"status": "GONE"}, headers=h)).status_code == 400
    assert (await client.get(f"{URL}/missing", headers=h)).status_code == 404

    async with db() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "ai_model.status")
                .order_by(AuditEntry.id)
            )
        )
    assert [(e.entity_id, e.before, (e.after or {})["status"]) for e in entries] == [
        (v1["id"], {"status": "DRAFT"}, "ACTIVE"),
        (v1["id"], {"status": "ACTIVE"}, "RETIRED"),
        (v2["id"], {"status": "DRAFT"}, "ACTIVE"),
    ]


def zip_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def onnx_with_external_data() -> bytes:
    model = onnx.load_model_from_string(onnx_linear([1.0, 2.0, 3.0], 0.0))
    weights = model.graph.initializer[0]
    weights.data_location = onnx.TensorProto.EXTERNAL
    entry = weights.external_data.add()
    entry.key, entry.value = "location", "../../etc/hostname"
    weights.ClearField("raw_data")
    data: bytes = model.SerializeToString()
    return data


async def test_archives_with_pickles_and_onnx_external_data_are_refused_on_upload(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    model_dir: Path,
    db: async_sessionmaker[AsyncSession],
) -> None:
    cases = [
        (zip_with({"archive/data.pkl": pickle.dumps([1]), "archive/version": b"3"}), "pickle"),
        (zip_with({"model.joblib": b"x", "schema.json": b"{}"}), "pickle"),
        (zip_with({"readme.txt": b"hi"}), "not a skops file"),
        (onnx_with_external_data(), "external data"),
        (pickle.dumps(Ridge(), protocol=5), "pickle"),
    ]
    for content, why in cases:
        r = await client.post(
            f"{URL}/upload",
            files={"file": ("model.skops", content, "application/octet-stream")},
            data={
                "name": "m",
                "model_type": "price_forecast",
                "version": "1",
                "input_schema": json.dumps(schema(FEATURES3)),
                "output_schema": json.dumps(schema(["price"])),
            },
            headers=auth("trader"),
        )
        assert r.status_code == 422, r.text
        assert why in r.json()["detail"] and r.json()["errors"][0]["field"] == "file"
    r = await client.post(
        f"{URL}/upload",
        files={"file": ("m.onnx", onnx_linear([1.0, 2.0, 3.0], 0.0), "application/octet-stream")},
        data={
            "name": "m",
            "model_type": "p",
            "version": "1",
            "input_schema": "{not json",
            "output_schema": "{}",
        },
        headers=auth("trader"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "input_schema"
    assert await count_models(db) == 0
    assert stored_files(model_dir) == []


def onnx_per_feature() -> bytes:
    """``Y = a * 2 + b`` with one input per feature, out of the schema's order."""
    two = numpy_helper.from_array(np.array([2.0], dtype=np.float32), "TWO")
    graph = helper.make_graph(
        [
            helper.make_node("Mul", ["a", "TWO"], ["a2"]),
            helper.make_node("Add", ["a2", "b"], ["y"]),
        ],
        "per-feature",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N"]) for n in ("b", "a")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"])],
        initializer=[two],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    data: bytes = model.SerializeToString()
    return data


async def test_an_onnx_model_with_one_input_per_feature_is_fed_by_name(
    client: AsyncTestClient[Litestar], auth: AuthFor, model_dir: Path
) -> None:
    (model_dir / "pf.onnx").write_bytes(onnx_per_feature())
    payload = body("pf.onnx", input_schema=schema(["a", "b"]), output_schema=schema(["y"]))
    r = await client.post(URL, json=payload, headers=auth("trader"))
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{URL}/{r.json()['id']}/predict",
        json={"input_data": {"a": [1.0, 3.0], "b": [10.0, 0.5]}},
        headers=auth("viewer"),
    )
    assert r.json()["predictions"]["y"] == pytest.approx([12.0, 6.5])
    r = await client.post(
        URL,
        json={**payload, "version": "2", "input_schema": schema(["a", "c"])},
        headers=auth("trader"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "input_schema"
