"""Resource templates (seed 4.1.1): presets, filters, paging, versions, guarded delete."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from .conftest import AuthFor
from .helpers import make_battery, presets

URL = "/api/v1/vpp/resource-templates"
PRESET_TYPES = {
    "battery_storage",
    "pv_inverter",
    "ev_charger",
    "hvac_chiller",
    "industrial_load",
    "gas_generator",
    "site_meter",
}


async def test_presets_are_loaded_with_parameters_and_control_interface(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    r = await client.get(URL, params={"size": 100}, headers=auth("viewer"))
    assert r.status_code == 200
    items = r.json()["items"]
    assert {t["type"] for t in items} == PRESET_TYPES
    battery = next(t for t in items if t["type"] == "battery_storage")
    assert battery["category"] == "STORAGE"
    assert battery["parameters"]["rated_kwh"]["unit"] == "kWh"
    assert battery["parameters"]["soc_min_pct"]["default"] == 10.0
    assert "writable_setpoints" in battery["control_interface"]
    assert battery["version"] == "1.0" and battery["status"] == "ACTIVE"


async def test_list_filters_by_type_and_category_and_pages(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("viewer")
    r = await client.get(URL, params={"category": "FLEXIBLE"}, headers=h)
    assert {t["type"] for t in r.json()["items"]} == {"ev_charger", "hvac_chiller"}
    r = await client.get(URL, params={"type": "pv_inverter"}, headers=h)
    assert [t["type"] for t in r.json()["items"]] == ["pv_inverter"]
    first = (await client.get(URL, params={"size": 3, "page": 1}, headers=h)).json()
    second = (await client.get(URL, params={"size": 3, "page": 2}, headers=h)).json()
    assert first["total"] == 7 and len(first["items"]) == 3 and len(second["items"]) == 3
    assert not {t["id"] for t in first["items"]} & {t["id"] for t in second["items"]}
    r = await client.get(URL, params={"category": "NUCLEAR"}, headers=h)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_create_validates_and_names_the_field(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    body = {
        "name": "Flywheel",
        "type": "flywheel",
        "category": "STORAGE",
        "parameters": {"rated_kw": {"type": "number", "unit": "kW", "required": True}},
        "control_interface": {"protocol": "modbus-tcp"},
    }
    r = await client.post(URL, json=body, headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["version"] == "1.0" and created["created_by"] == "operator-id"
    bad = body | {"category": "MAGIC"}
    r = await client.post(URL, json=bad, headers=h)
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "category"
    r = await client.post(URL, json=body | {"parameters": {"x": {"type": "complex"}}}, headers=h)
    assert r.status_code == 400
    assert "parameters" in r.json()["errors"][0]["field"]


async def test_changing_parameters_creates_a_new_version_and_instances_keep_theirs(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    ids = await presets(client, h)
    instance = await make_battery(client, h)
    old = ids["battery_storage"]
    r = await client.put(
        f"{URL}/{old}",
        json={"parameters": {"rated_kw": {"type": "number", "required": True}}},
        headers=h,
    )
    assert r.status_code == 200, r.text
    newer = r.json()
    assert newer["id"] != old and newer["version"] == "2.0"
    assert newer["lineage_id"] == old
    previous = (await client.get(f"{URL}/{old}", headers=h)).json()
    assert previous["status"] == "INACTIVE"
    got = await client.get(f"/api/v1/vpp/resource-instances/{instance['id']}", headers=h)
    assert got.json()["template_id"] == old
    # a rename keeps the version and the id
    r = await client.put(f"{URL}/{newer['id']}", json={"name": "BESS v2"}, headers=h)
    assert r.json()["id"] == newer["id"] and r.json()["name"] == "BESS v2"
    assert r.json()["version"] == "2.0"
    # new instances of the inactive version are refused
    r = await client.post(
        "/api/v1/vpp/resource-instances",
        json={
            "template_id": old,
            "name": "x",
            "capacity": 1,
            "parameters": {"rated_kw": 1, "rated_kwh": 1},
        },
        headers=h,
    )
    assert r.status_code == 409


async def test_delete_is_refused_while_instances_use_the_template(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    instance = await make_battery(client, h)
    tid = instance["template_id"]
    r = await client.delete(f"{URL}/{tid}", headers=h)
    assert r.status_code == 409
    assert r.json()["title"] == "Conflict"
    ids = await presets(client, h)
    r = await client.delete(f"{URL}/{ids['site_meter']}", headers=h)
    assert r.status_code == 204
    assert (await client.get(f"{URL}/{ids['site_meter']}", headers=h)).status_code == 404
    assert (await client.delete(f"{URL}/missing", headers=h)).status_code == 404


async def test_viewers_cannot_write_and_anonymous_callers_cannot_read(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    body = {"name": "x", "type": "x", "category": "LOAD"}
    r = await client.post(URL, json=body, headers=auth("viewer"))
    assert r.status_code == 403
    assert r.json()["status"] == 403
    assert (await client.get(URL)).status_code == 401
    r = await client.get(URL, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


async def test_instances_migrate_to_a_newer_version_of_their_template(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    ids = await presets(client, h)
    instance = await make_battery(client, h)
    old = ids["battery_storage"]
    newer = (
        await client.put(
            f"{URL}/{old}",
            json={
                "parameters": {
                    "rated_kw": {"type": "number", "required": True},
                    "rated_kwh": {"type": "number", "required": True},
                    "cycles_per_day": {"type": "number", "default": 1.5},
                }
            },
            headers=h,
        )
    ).json()
    move = f"/api/v1/vpp/resource-instances/{instance['id']}/template"
    r = await client.put(move, json={"template_id": newer["id"]}, headers=h)
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["template_id"] == newer["id"]
    assert moved["parameters"] == {"rated_kw": 100.0, "rated_kwh": 200.0, "cycles_per_day": 1.5}
    r = await client.put(move, json={"template_id": ids["pv_inverter"]}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "template_id"
    r = await client.put(move, json={"template_id": old, "parameters": {"rated_kw": 1}}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parameters.rated_kwh"
    r = await client.put(move, json={"template_id": "nope"}, headers=h)
    assert r.status_code == 422
