"""A key bound to a unit sees and changes only that unit's subtree; roles limit what it may change.

Outside the subtree is indistinguishable from not existing (404); inside it, a
role too weak for the action is 403.
"""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures import Province

OUTSIDE = ["SYT", "VP", "BVDK", "TTYT-TH", "TYT-TG"]  # everything but the station's own subtree


@pytest.mark.parametrize("target", OUTSIDE)
@pytest.mark.parametrize("suffix", ["", "/subtree", "/ancestors"])
async def test_station_key_cannot_read_units_outside_its_subtree(
    client: httpx.AsyncClient, province: Province, target: str, suffix: str
) -> None:
    response = await client.get(f"/v1/units/{province.units[target]}{suffix}", headers=province.auth("station_admin"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("target", OUTSIDE)
async def test_station_admin_cannot_change_units_outside_its_subtree(
    client: httpx.AsyncClient, province: Province, target: str
) -> None:
    url = f"/v1/units/{province.units[target]}"
    patched = await client.patch(url, json={"name": "Hijacked"}, headers=province.auth("station_admin"))
    deleted = await client.delete(url, headers=province.auth("station_admin"))
    assert (patched.status_code, deleted.status_code) == (404, 404)
    assert (await client.get(url, headers=province.auth("root_admin"))).json()["name"] != "Hijacked"


async def test_station_key_lists_only_its_own_subtree(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/units", headers=province.auth("station_member"))
    assert [u["code"] for u in response.json()["items"]] == ["TYT-TV"]


async def test_station_key_search_does_not_leak_other_units(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/units", params={"q": "thieu"}, headers=province.auth("station_member"))
    assert [u["code"] for u in response.json()["items"]] == ["TYT-TV"]


async def test_station_key_reads_its_own_unit(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get(f"/v1/units/{province.units['TYT-TV']}", headers=province.auth("station_member"))
    assert response.status_code == 200


async def test_centre_admin_cannot_create_under_a_unit_outside_its_subtree(client: httpx.AsyncClient, province: Province) -> None:
    body = {"code": "NEW", "name": "New office", "kind": "office", "parent_id": str(province.units["SYT"])}
    response = await client.post("/v1/units", json=body, headers=province.auth("centre_admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "unknown_unit"


async def test_centre_admin_cannot_move_a_unit_out_of_its_subtree(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.patch(
        f"/v1/units/{province.units['TYT-TV']}", json={"parent_code": "BVDK"}, headers=province.auth("centre_admin")
    )
    assert response.status_code == 422
    station = await client.get(f"/v1/units/{province.units['TYT-TV']}", headers=province.auth("root_admin"))
    assert station.json()["parent_id"] == str(province.units["TTYT-TH"])


async def test_admin_cannot_deactivate_its_own_unit(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.patch(
        f"/v1/units/{province.units['TYT-TV']}", json={"active": False}, headers=province.auth("station_admin")
    )
    assert response.status_code == 409


async def test_admin_cannot_move_its_own_unit(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.patch(
        f"/v1/units/{province.units['TTYT-TH']}", json={"parent_code": "TYT-TV"}, headers=province.auth("centre_admin")
    )
    assert response.status_code == 422  # its would-be parent is its own descendant: a cycle, refused first


@pytest.mark.parametrize("key", ["root_issuer", "root_reader", "station_member"])
async def test_non_admin_roles_cannot_write_units(client: httpx.AsyncClient, province: Province, key: str) -> None:
    headers = province.auth(key)
    created = await client.post(
        "/v1/units", json={"code": "N", "name": "N", "kind": "office", "parent_code": "TYT-TV"}, headers=headers
    )
    patched = await client.patch(f"/v1/units/{province.units['TYT-TV']}", json={"name": "X"}, headers=headers)
    deleted = await client.delete(f"/v1/units/{province.units['TYT-TV']}", headers=headers)
    assert [created.status_code, patched.status_code, deleted.status_code] == [403, 403, 403]
    assert created.json()["type"].endswith("/forbidden")


@pytest.mark.parametrize("key", ["root_issuer", "root_reader", "station_member", "station_admin"])
async def test_non_admin_or_scoped_roles_cannot_list_keys_beyond_their_right(
    client: httpx.AsyncClient, province: Province, key: str
) -> None:
    response = await client.get("/v1/api-keys", headers=province.auth(key))
    if key == "station_admin":
        assert sorted(k["name"] for k in response.json()["items"]) == ["station_admin", "station_member"]
    else:
        assert response.status_code == 403


async def test_only_a_top_level_admin_adds_unit_kinds(client: httpx.AsyncClient, province: Province) -> None:
    body = {"code": "mobile_clinic", "name": "Phòng khám lưu động"}
    denied = await client.post("/v1/unit-kinds", json=body, headers=province.auth("centre_admin"))
    assert denied.status_code == 403
    granted = await client.post("/v1/unit-kinds", json=body, headers=province.auth("root_admin"))
    assert granted.status_code == 201
    kinds = await client.get("/v1/unit-kinds", headers=province.auth("station_member"))
    assert "mobile_clinic" in [k["code"] for k in kinds.json()]
