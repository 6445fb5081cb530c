"""Idempotency-Key: a retried POST replays the first response instead of acting twice."""

from __future__ import annotations

import asyncpg
import httpx

from app.settings import get_settings
from tests.fixtures import Province

BODY = {"code": "TYT-IDEM", "name": "Trạm Y tế xã Thiệu Lý", "kind": "commune_health_station", "parent_code": "TTYT-TH"}


def headers(province: Province, key: str = "k-1") -> dict[str, str]:
    return {**province.auth("root_admin"), "Idempotency-Key": key}


async def test_retry_with_the_same_key_replays_the_first_response(client: httpx.AsyncClient, province: Province) -> None:
    first = await client.post("/v1/units", json=BODY, headers=headers(province))
    again = await client.post("/v1/units", json=BODY, headers=headers(province))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"]


async def test_a_failed_request_is_replayed_too(client: httpx.AsyncClient, province: Province) -> None:
    bad = {**BODY, "parent_code": "NOPE"}
    first = await client.post("/v1/units", json=bad, headers=headers(province))
    again = await client.post("/v1/units", json=bad, headers=headers(province))
    assert first.status_code == again.status_code == 422
    assert again.headers["idempotent-replayed"] == "true"


async def test_same_key_with_a_different_body_is_422(client: httpx.AsyncClient, province: Province) -> None:
    await client.post("/v1/units", json=BODY, headers=headers(province))
    response = await client.post("/v1/units", json={**BODY, "code": "OTHER"}, headers=headers(province))
    assert response.status_code == 422
    assert response.json()["type"].endswith("/idempotency-key-reused")


async def test_retry_while_the_first_is_running_is_409(client: httpx.AsyncClient, province: Province) -> None:
    from app.idempotency.service import client_hash, fingerprint

    conn = await asyncpg.connect(get_settings().database_url)
    body = httpx.Request("POST", "http://x", json=BODY).content
    await conn.execute(
        "INSERT INTO idempotency_keys (client_hash, key, fingerprint, locked_until) VALUES ($1, 'k-1', $2, now() + interval '1 minute')",
        client_hash(province.keys["root_admin"]), fingerprint("POST", "/v1/units", "", body),
    )
    await conn.close()
    response = await client.post("/v1/units", content=body, headers={**headers(province), "Content-Type": "application/json"})
    assert response.status_code == 409
    assert response.json()["type"].endswith("/idempotency-in-progress")


async def test_keys_are_per_client(client: httpx.AsyncClient, province: Province) -> None:
    await client.post("/v1/units", json=BODY, headers=headers(province))
    other = await client.post(
        "/v1/units", json={**BODY, "code": "TYT-IDEM2"}, headers={**province.auth("centre_admin"), "Idempotency-Key": "k-1"}
    )
    assert other.status_code == 201
    assert "idempotent-replayed" not in other.headers


async def test_new_api_keys_are_never_stored_for_replay(client: httpx.AsyncClient, province: Province) -> None:
    body = {"name": "app", "role": "reader", "unit_code": "VP"}
    first = await client.post("/v1/api-keys", json=body, headers=headers(province))
    second = await client.post("/v1/api-keys", json=body, headers=headers(province))
    assert first.json()["secret"] != second.json()["secret"]
