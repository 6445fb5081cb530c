"""API keys: minted by admins within their subtree, shown once, stored hashed, listed and revoked in scope."""

from __future__ import annotations

import asyncpg
import httpx

from app.settings import get_settings
from tests.fixtures import Province


async def create(client: httpx.AsyncClient, province: Province, key: str, **body: object) -> httpx.Response:
    return await client.post("/v1/api-keys", json={"name": "k", **body}, headers=province.auth(key))


async def test_secret_is_shown_once_and_only_its_hash_is_stored(client: httpx.AsyncClient, province: Province) -> None:
    response = await create(client, province, "root_admin", role="member", unit_code="TYT-TV")
    assert response.status_code == 201
    secret = response.json()["secret"]
    assert secret.startswith("ddk_") and response.json()["prefix"] == secret[:12]
    read = await client.get(f"/v1/api-keys/{response.json()['id']}", headers=province.auth("root_admin"))
    assert "secret" not in read.json()
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        dump = await conn.fetchval("SELECT string_agg(api_keys::text, '') FROM api_keys")
    finally:
        await conn.close()
    assert secret not in dump and secret[12:] not in dump


async def test_new_key_acts_for_its_unit(client: httpx.AsyncClient, province: Province) -> None:
    secret = (await create(client, province, "root_admin", role="reader", unit_code="TTYT-TH")).json()["secret"]
    units = await client.get("/v1/units", headers={"X-API-Key": secret})
    assert sorted(u["code"] for u in units.json()["items"]) == ["TTYT-TH", "TYT-TG", "TYT-TV"]


async def test_admin_cannot_mint_a_key_outside_its_subtree(client: httpx.AsyncClient, province: Province) -> None:
    response = await create(client, province, "centre_admin", role="reader", unit_code="VP")
    assert response.status_code == 422
    assert response.json()["errors"][0] == {"field": "unit_code", "message": "unknown unit VP", "code": "unknown_unit"}


async def test_non_admins_cannot_mint_keys(client: httpx.AsyncClient, province: Province) -> None:
    for key in ("root_issuer", "root_reader", "station_member"):
        response = await create(client, province, key, role="reader", unit_code="TYT-TV")
        assert response.status_code == 403, key


async def test_giving_both_unit_id_and_code_is_422(client: httpx.AsyncClient, province: Province) -> None:
    response = await create(client, province, "root_admin", role="reader", unit_code="VP", unit_id=str(province.units["VP"]))
    assert response.status_code == 422


async def test_unknown_role_is_422_naming_role(client: httpx.AsyncClient, province: Province) -> None:
    response = await create(client, province, "root_admin", role="superuser", unit_code="VP")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"


async def test_key_list_is_scoped_to_the_subtree(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/api-keys", headers=province.auth("centre_admin"))
    assert sorted(k["name"] for k in response.json()["items"]) == ["centre_admin", "station_admin", "station_member"]


async def test_key_list_pages(client: httpx.AsyncClient, province: Province) -> None:
    first = (await client.get("/v1/api-keys", params={"limit": 4}, headers=province.auth("root_admin"))).json()
    second = (
        await client.get("/v1/api-keys", params={"limit": 4, "cursor": first["next_cursor"]}, headers=province.auth("root_admin"))
    ).json()
    names = [k["name"] for k in first["items"] + second["items"]]
    assert len(names) == 6 and len(set(names)) == 6
    assert second["next_cursor"] is None


async def test_revoked_keys_are_hidden_unless_asked_for(client: httpx.AsyncClient, province: Province) -> None:
    key_id = (await create(client, province, "root_admin", role="reader", unit_code="VP")).json()["id"]
    await client.delete(f"/v1/api-keys/{key_id}", headers=province.auth("root_admin"))
    default = await client.get("/v1/api-keys", headers=province.auth("root_admin"))
    assert key_id not in [k["id"] for k in default.json()["items"]]
    everything = await client.get("/v1/api-keys", params={"include_revoked": True}, headers=province.auth("root_admin"))
    assert key_id in [k["id"] for k in everything.json()["items"]]


async def test_admin_cannot_see_or_revoke_keys_above_it(client: httpx.AsyncClient, province: Province) -> None:
    keys = (await client.get("/v1/api-keys", headers=province.auth("root_admin"))).json()["items"]
    root_key = next(k for k in keys if k["name"] == "root_admin")
    assert (await client.get(f"/v1/api-keys/{root_key['id']}", headers=province.auth("centre_admin"))).status_code == 404
    assert (await client.delete(f"/v1/api-keys/{root_key['id']}", headers=province.auth("centre_admin"))).status_code == 404
    assert (await client.get("/v1/units", headers=province.auth("root_admin"))).status_code == 200


async def test_past_expiry_is_422(client: httpx.AsyncClient, province: Province) -> None:
    response = await create(client, province, "root_admin", role="reader", unit_code="VP", expires_at="2020-01-01T00:00:00Z")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "expires_at"
