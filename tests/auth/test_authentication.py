"""Every /v1 endpoint demands a valid key: 401 problem+json without one, with a bad, revoked or expired one."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.main import app
from tests.fixtures import Province


def v1_operations() -> list[tuple[str, str]]:
    """Every method and path the OpenAPI document lists under /v1, ids filled with a random UUID."""
    operations = []
    for path, item in app.openapi()["paths"].items():
        if not path.startswith("/v1/"):
            continue
        concrete = re.sub(r"\{[a-z_]+_id\}", lambda _: str(uuid.uuid4()), path).replace("{day}", "2024-02-10")
        operations += [(method.upper(), concrete) for method in item]
    return operations


OPERATIONS = v1_operations()


def test_the_endpoint_list_is_not_empty() -> None:
    assert len(OPERATIONS) >= 28
    assert not any("{" in path for _, path in OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
async def test_no_key_is_401_problem(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
async def test_unknown_key_is_401(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={}, headers={"Authorization": "Bearer ddk_" + "x" * 43})
    assert response.status_code == 401


async def test_malformed_key_is_401(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get("/v1/units", headers={"Authorization": "Bearer not-a-key"})
    assert response.status_code == 401
    assert "malformed" in response.json()["detail"]


async def test_x_api_key_header_is_accepted(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/units", headers={"X-API-Key": province.keys["root_reader"]})
    assert response.status_code == 200


async def test_revoked_key_stops_working_at_once(client: httpx.AsyncClient, province: Province) -> None:
    created = await client.post(
        "/v1/api-keys", json={"name": "tmp", "role": "reader", "unit_code": "VP"}, headers=province.auth("root_admin")
    )
    key_id, secret = created.json()["id"], created.json()["secret"]
    assert (await client.get("/v1/units", headers={"X-API-Key": secret})).status_code == 200
    revoked = await client.delete(f"/v1/api-keys/{key_id}", headers=province.auth("root_admin"))
    assert revoked.json()["revoked_at"] is not None
    assert (await client.get("/v1/units", headers={"X-API-Key": secret})).status_code == 401


async def test_expired_key_is_401(client: httpx.AsyncClient, province: Province) -> None:
    import asyncpg

    from app.settings import get_settings

    created = await client.post(
        "/v1/api-keys",
        json={"name": "short", "role": "reader", "unit_code": "VP", "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
        headers=province.auth("root_admin"),
    )
    conn = await asyncpg.connect(get_settings().database_url)
    await conn.execute("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", uuid.UUID(created.json()["id"]))
    await conn.close()
    response = await client.get("/v1/units", headers={"X-API-Key": created.json()["secret"]})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_key_of_a_deactivated_unit_is_401(client: httpx.AsyncClient, province: Province) -> None:
    created = await client.post(
        "/v1/api-keys", json={"name": "tg", "role": "member", "unit_code": "TYT-TG"}, headers=province.auth("root_admin")
    )
    await client.patch(f"/v1/units/{province.units['TYT-TG']}", json={"active": False}, headers=province.auth("root_admin"))
    response = await client.get("/v1/units", headers={"X-API-Key": created.json()["secret"]})
    assert response.status_code == 401
