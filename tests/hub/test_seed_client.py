"""A client written to the seed (4.1) does not break: plain parameter maps, instances from
the seed's six fields, template ids that keep answering after a new version."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from hub.catalogue import (
    STORAGE_HOURS,
    ParameterError,
    ParamSpec,
    instance_parameters,
    template_parameters,
)

from .conftest import AuthFor
from .helpers import presets

TEMPLATES = "/api/v1/vpp/resource-templates"
INSTANCES = "/api/v1/vpp/resource-instances"
VPPS = "/api/v1/vpp/vpps"
Client = AsyncTestClient[Litestar]


def seed_instance(template_id: str, name: str, capacity: float) -> dict[str, Any]:
    """Exactly the six fields of seed 4.1.2 ``POST resource-instances``."""
    return {
        "template_id": template_id,
        "name": name,
        "device_ip": "192.168.10.21",
        "device_port": 502,
        "location_info": {"lat": 36.65, "lon": 117.12, "building": "B2"},
        "capacity": capacity,
    }


async def test_the_seed_path_template_instance_vpp_aggregated_params(
    client: Client, auth: AuthFor
) -> None:
    h = auth("operator")
    r = await client.post(
        TEMPLATES,
        json={
            "name": "园区储能 500kW/1MWh",
            "type": "bess_500",
            "category": "STORAGE",
            "parameters": {"rated_power_kw": 500, "capacity_kwh": 1000},
            "control_interface": {"protocol": "modbus-tcp", "unit_id": 1},
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    template = r.json()
    assert template["parameters"] == {
        "rated_power_kw": {"default": 500},
        "capacity_kwh": {"default": 1000},
    }
    r = await client.get(
        TEMPLATES,
        params={"type": "bess_500", "category": "STORAGE", "page": 1, "size": 10},
        headers=h,
    )
    assert [t["id"] for t in r.json()["items"]] == [template["id"]]

    r = await client.post(INSTANCES, json=seed_instance(template["id"], "储能1号", 500), headers=h)
    assert r.status_code == 201, r.text
    own = r.json()
    assert own["parameters"] == {"rated_power_kw": 500, "capacity_kwh": 1000}
    assert own["status"] == "OFFLINE" and own["device_port"] == 502

    battery_preset = (await presets(client, h))["battery_storage"]
    r = await client.post(INSTANCES, json=seed_instance(battery_preset, "储能2号", 250), headers=h)
    assert r.status_code == 201, r.text
    battery = r.json()
    assert battery["parameters"]["rated_kw"] == 250
    assert battery["parameters"]["rated_kwh"] == 250 * STORAGE_HOURS
    assert battery["parameters"]["soc_min_pct"] == 10.0

    r = await client.get(INSTANCES, params={"template_id": template["id"]}, headers=h)
    assert [i["id"] for i in r.json()["items"]] == [own["id"]]

    r = await client.post(
        VPPS,
        json={
            "name": "园区VPP",
            "description": "seed path",
            "market_type": "SPOT",
            "resource_ids": [own["id"], battery["id"]],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    vpp = r.json()
    r = await client.get(f"{VPPS}/{vpp['id']}/aggregated-params", headers=h)
    assert r.status_code == 200, r.text
    agg = r.json()
    assert agg["total_capacity"] == 750
    assert agg["member_count"] == 2
    # nobody is online yet: no headroom either way
    assert agg["available_up_capacity"] == 0 and agg["available_down_capacity"] == 0
    assert {"response_time", "efficiency"} <= agg.keys()


async def test_every_preset_takes_the_seed_six_fields(client: Client, auth: AuthFor) -> None:
    h = auth("operator")
    ids = await presets(client, h)
    assert len(ids) == 7
    for type_, tid in ids.items():
        r = await client.post(INSTANCES, json=seed_instance(tid, type_, 120.5), headers=h)
        assert r.status_code == 201, (type_, r.text)
        params = r.json()["parameters"]
        assert params["rated_kw"] == 120.5, type_
        assert ("rated_kwh" in params) == (type_ == "battery_storage")
    # the instance's own efficiency fills the parameter of that name
    body = seed_instance(ids["pv_inverter"], "pv", 80) | {"efficiency": 0.91}
    r = await client.post(INSTANCES, json=body, headers=h)
    assert r.status_code == 201 and r.json()["parameters"]["efficiency"] == 0.91
    # a body that gives parameters gives the energy too (as before), rated_kw still from capacity
    body = seed_instance(ids["battery_storage"], "b", 100) | {"parameters": {"soc_min_pct": 5}}
    r = await client.post(INSTANCES, json=body, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "parameters.rated_kwh"
    body["parameters"] = {"rated_kwh": 400}
    r = await client.post(INSTANCES, json=body, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["parameters"]["rated_kw"] == 100 and r.json()["parameters"]["rated_kwh"] == 400


async def test_plain_values_become_typed_parameters_with_defaults(
    client: Client, auth: AuthFor
) -> None:
    h = auth("operator")
    r = await client.post(
        TEMPLATES,
        json={
            "name": "chiller",
            "type": "chiller_x",
            "category": "FLEXIBLE",
            "parameters": {"rated_kw": 300, "cop": 3.2, "remote": True, "mode": "eco"},
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    schema = r.json()["parameters"]
    assert schema["rated_kw"] == {"default": 300}  # type number is the default, omitted
    assert schema["cop"] == {"default": 3.2}
    assert schema["remote"] == {"type": "boolean", "default": True}
    assert schema["mode"] == {"type": "string", "default": "eco"}
    tid = r.json()["id"]
    body = seed_instance(tid, "c1", 250) | {"parameters": {"cop": 2.5, "mode": "boost"}}
    r = await client.post(INSTANCES, json=body, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["parameters"] == {"rated_kw": 250, "cop": 2.5, "remote": True, "mode": "boost"}
    # a whole-number default does not make the parameter an integer
    r = await client.post(
        INSTANCES, json=seed_instance(tid, "c2", 1) | {"parameters": {"rated_kw": 299.5}}, headers=h
    )
    assert r.status_code == 201 and r.json()["parameters"]["rated_kw"] == 299.5
    r = await client.post(
        INSTANCES, json=seed_instance(tid, "c3", 1) | {"parameters": {"remote": "yes"}}, headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parameters.remote"


BAD_PARAMETERS = [
    ({"rated_kw": 500, "limits": {"type": "number"}}, "parameters.limits", "mixes forms"),
    ({"limits": {"type": "number"}, "rated_kw": 500}, "parameters.rated_kw", "mixes forms"),
    ({"rated_kw": 500, "modes": ["peak", "valley"]}, "parameters.modes", "array"),
    ({"rated_kw": None}, "parameters.rated_kw", "null"),
    ({"limits": {"soc_min": 10}}, "parameters.limits", "nested objects"),
    ({"x": {"type": "complex"}}, "parameters.x", "complex"),
    ({"x": {"min": 5, "max": 1}}, "parameters.x", "above max"),
    ({"x": {"type": "number", "default": "big"}}, "parameters.x", "must be a number"),
    ({"x": {"type": "integer", "default": 1.5}}, "parameters.x", "must be an integer"),
    ({"x": {"default": 50, "max": 10}}, "parameters.x", "<= 10"),
]


async def test_bad_parameter_maps_are_400_naming_the_key_and_store_nothing(
    client: Client, auth: AuthFor
) -> None:
    h = auth("operator")
    before = (await client.get(TEMPLATES, headers=h)).json()["total"]
    base = {"name": "t", "type": "t", "category": "LOAD"}
    for parameters, field, words in BAD_PARAMETERS:
        r = await client.post(TEMPLATES, json=base | {"parameters": parameters}, headers=h)
        assert r.status_code == 400, (parameters, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["errors"][0]["field"] == field, parameters
        assert field in problem["detail"]
        assert words in problem["errors"][0]["message"], problem
    assert (await client.get(TEMPLATES, headers=h)).json()["total"] == before
    created = await client.post(TEMPLATES, json=base | {"parameters": {"a": 1}}, headers=h)
    tid = created.json()["id"]
    for parameters, field, _ in BAD_PARAMETERS[:3]:
        r = await client.put(f"{TEMPLATES}/{tid}", json={"parameters": parameters}, headers=h)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == field
    r = await client.get(f"{TEMPLATES}/{tid}", headers=h)
    assert r.json()["version"] == "1.0" and r.json()["parameters"] == {"a": {"default": 1}}


async def test_bad_seed_instances_are_4xx_naming_the_field(client: Client, auth: AuthFor) -> None:
    h = auth("operator")
    ids = await presets(client, h)
    body = seed_instance(ids["battery_storage"], "b", 100)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({k: v for k, v in body.items() if k != "capacity"}, 400, "capacity"),
        (body | {"capacity": -5}, 400, "capacity"),
        (body | {"capacity": "big"}, 400, "capacity"),
        (body | {"device_port": 70000}, 400, "device_port"),
        (body | {"template_id": "nope"}, 422, "template_id"),
    ]
    for bad, status, field in cases:
        r = await client.post(INSTANCES, json=bad, headers=h)
        assert r.status_code == status, (bad, r.text)
        assert r.json()["errors"][0]["field"] == field
    # a template whose required parameter has no default and no derivation
    r = await client.post(
        TEMPLATES,
        json={
            "name": "odd",
            "type": "odd",
            "category": "LOAD",
            "parameters": {
                "phases": {"type": "integer", "required": True},
                "rated_kw": {"type": "integer"},
            },
        },
        headers=h,
    )
    tid = r.json()["id"]
    r = await client.post(INSTANCES, json=seed_instance(tid, "o", 10), headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parameters.phases"
    r = await client.post(
        INSTANCES, json=seed_instance(tid, "o", 10.5) | {"parameters": {"phases": 3}}, headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parameters.rated_kw"
    assert (await client.get(INSTANCES, headers=h)).json()["total"] == 0


async def test_put_keeps_answering_for_the_id_the_client_holds(
    client: Client, auth: AuthFor
) -> None:
    h = auth("operator")
    r = await client.post(
        TEMPLATES,
        json={
            "name": "pv",
            "type": "pv_x",
            "category": "GENERATION",
            "parameters": {"rated_kw": 100},
        },
        headers=h,
    )
    held = r.json()["id"]
    r = await client.put(f"{TEMPLATES}/{held}", json={"parameters": {"rated_kw": 120}}, headers=h)
    assert r.status_code == 200, r.text
    v2 = r.json()
    assert v2["id"] != held and v2["version"] == "2.0" and v2["lineage_id"] == held
    assert r.headers["content-location"] == f"{TEMPLATES}/{v2['id']}"
    # the client keeps writing to the id it holds: each write lands on the current version
    r = await client.put(f"{TEMPLATES}/{held}", json={"parameters": {"rated_kw": 150}}, headers=h)
    v3 = r.json()
    assert r.status_code == 200 and v3["version"] == "3.0" and v3["lineage_id"] == held
    assert r.headers["content-location"] == f"{TEMPLATES}/{v3['id']}"
    r = await client.put(f"{TEMPLATES}/{v2['id']}", json={"name": "PV 150"}, headers=h)
    assert r.json()["id"] == v3["id"] and r.json()["name"] == "PV 150"
    assert r.json()["version"] == "3.0"
    r = await client.put(f"{TEMPLATES}/{held}", json={"parameters": {"rated_kw": 150}}, headers=h)
    assert r.json()["id"] == v3["id"] and r.json()["version"] == "3.0"  # nothing new

    versions = (await client.get(TEMPLATES, params={"type": "pv_x"}, headers=h)).json()["items"]
    assert sorted(t["version"] for t in versions) == ["1.0", "2.0", "3.0"]
    assert [t["id"] for t in versions if t["status"] == "ACTIVE"] == [v3["id"]]
    assert {t["current_id"] for t in versions} == {v3["id"]}
    old = (await client.get(f"{TEMPLATES}/{held}", headers=h)).json()
    assert old["status"] == "INACTIVE" and old["version"] == "1.0"
    assert old["current_id"] == v3["id"]  # where the template went
    assert v3["current_id"] == v3["id"]
    others = (await client.get(TEMPLATES, params={"type": "battery_storage"}, headers=h)).json()
    assert [t["current_id"] == t["id"] for t in others["items"]] == [True]

    # an instance of the id the client holds is refused (409, as before) and says where to go
    r = await client.post(INSTANCES, json=seed_instance(held, "pv-1", 90), headers=h)
    assert r.status_code == 409
    assert v3["id"] in r.json()["detail"]
    r = await client.post(INSTANCES, json=seed_instance(v3["id"], "pv-1", 90), headers=h)
    assert r.status_code == 201 and r.json()["parameters"] == {"rated_kw": 90}

    # status goes to the current version too: the whole template off, then on again
    r = await client.put(f"{TEMPLATES}/{held}", json={"status": "INACTIVE"}, headers=h)
    assert r.json()["id"] == v3["id"] and r.json()["status"] == "INACTIVE"
    r = await client.post(INSTANCES, json=seed_instance(held, "pv-2", 90), headers=h)
    assert r.status_code == 409 and "no version" in r.json()["detail"]
    r = await client.put(f"{TEMPLATES}/{held}", json={"status": "ACTIVE"}, headers=h)
    assert r.json()["id"] == v3["id"] and r.json()["status"] == "ACTIVE"
    versions = (await client.get(TEMPLATES, params={"type": "pv_x"}, headers=h)).json()["items"]
    assert [t["id"] for t in versions if t["status"] == "ACTIVE"] == [v3["id"]]
    assert (await client.put(f"{TEMPLATES}/missing", json={}, headers=h)).status_code == 404


def test_template_parameters_reads_both_forms() -> None:
    assert template_parameters({}) == {}
    assert template_parameters({"n": 5, "on": False, "s": "x"}) == {
        "n": ParamSpec(type="number", default=5),
        "on": ParamSpec(type="boolean", default=False),
        "s": ParamSpec(type="string", default="x"),
    }
    assert template_parameters({"n": {"unit": "kW", "required": True}}) == {
        "n": ParamSpec(unit="kW", required=True)
    }
    bad: list[tuple[dict[str, object], str]] = [
        ({"a": 1, "b": {}}, "parameters.b"),
        ({"a": float("nan")}, "parameters.a"),
        ({"a": {"min": float("inf")}}, "parameters.a"),
    ]
    for raw, field in bad:
        with pytest.raises(ParameterError) as caught:
            template_parameters(raw)
        assert caught.value.field == field


def test_instance_parameters_derive_from_the_instance_fields() -> None:
    schema = template_parameters(
        {
            "rated_kw": {"required": True},
            "rated_kwh": {"required": True},
            "efficiency": {"default": 0.9, "max": 1},
        }
    )
    assert instance_parameters(schema, {}, 50.0, 0.8) == {
        "rated_kw": 50.0,
        "rated_kwh": 50.0 * STORAGE_HOURS,
        "efficiency": 0.8,
    }
    assert instance_parameters(schema, {"rated_kwh": 10}, 50.0) == {
        "rated_kw": 50.0,
        "rated_kwh": 10,
        "efficiency": 0.9,
    }
    with pytest.raises(ParameterError) as caught:
        instance_parameters(schema, {"rated_kw": 1}, 50.0)
    assert caught.value.field == "parameters.rated_kwh"
    # a string parameter named rated_kw is not derived from a number
    text = template_parameters({"rated_kw": {"type": "string", "required": True}})
    with pytest.raises(ParameterError):
        instance_parameters(text, {}, 50.0)
