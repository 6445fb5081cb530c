"""Idempotency-Key: a retried POST replays the first response instead of acting twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest

from app.idempotency.claim import Claim
from app.settings import get_settings
from tests.fixtures import Province, sql
from tests.webhooks.receiver import subscribe

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


# A response that cannot be stored: what a crash between the request's work and its record would leave.
REFUSE_RESPONSES = """
CREATE FUNCTION refuse_responses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'no response may be stored'; END $$;
CREATE TRIGGER refuse_responses BEFORE UPDATE OF response_status ON idempotency_keys
FOR EACH ROW WHEN (NEW.response_status IS NOT NULL) EXECUTE FUNCTION refuse_responses();
"""
ALLOW_RESPONSES = "DROP TRIGGER IF EXISTS refuse_responses ON idempotency_keys; DROP FUNCTION IF EXISTS refuse_responses();"


async def _refusing_responses(run: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        await conn.execute(REFUSE_RESPONSES)
        return await run()
    finally:
        await conn.execute(ALLOW_RESPONSES)
        await conn.close()


async def _an_assignment(client: httpx.AsyncClient, province: Province) -> str:
    """The station TYT-TV's assignment in a directive issued for it."""
    body = {
        "issuer_code": "SYT", "number": "500", "symbol": "SYT-NVY", "doc_type": "cong_van", "issued_on": "2025-03-03",
        "subject": "Báo cáo công tác", "tasks": [{"text": "Báo cáo", "assignee_codes": ["TYT-TV"], "due_on": "2099-04-30", "due_kind": "by"}],
    }
    created = await client.post("/v1/directives", json=body, headers=province.auth("root_issuer"))
    issued = await client.post(f"/v1/directives/{created.json()['id']}/issue", headers=province.auth("root_issuer"))
    assert issued.status_code == 200, issued.text
    [(assignment,)] = await sql("SELECT id::text FROM assignments")
    return str(assignment)


async def test_work_whose_response_cannot_be_stored_is_not_committed(client: httpx.AsyncClient, province: Province) -> None:
    """Else a retry, finding no response to replay, would do the work a second time."""
    audited = await sql("SELECT count(*) FROM audit_log")
    failed = await _refusing_responses(lambda: client.post("/v1/units", json=BODY, headers=headers(province)))
    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert await sql("SELECT count(*) FROM units WHERE code = $1", BODY["code"]) == [(0,)]
    assert await sql("SELECT count(*) FROM audit_log") == audited
    retried = await client.post("/v1/units", json=BODY, headers=headers(province))
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    again = await client.post("/v1/units", json=BODY, headers=headers(province))
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == retried.json()
    assert await sql("SELECT count(*) FROM units WHERE code = $1", BODY["code"]) == [(1,)]


async def test_a_report_whose_response_cannot_be_stored_is_not_committed(client: httpx.AsyncClient, province: Province) -> None:
    """The report's own path (a bare connection, no session) holds its transaction for the claim too."""
    assignment = await _an_assignment(client, province)
    path = f"/v1/assignments/{assignment}/reports"
    auth = {**province.auth("station_member"), "Idempotency-Key": "his-report-1"}
    body = {"kind": "progress", "content": "Đã triển khai 50%"}
    state = await sql("SELECT status, version FROM assignments")
    failed = await _refusing_responses(lambda: client.post(path, json=body, headers=auth))
    assert failed.status_code == 500
    assert await sql("SELECT count(*) FROM reports") == [(0,)]
    assert await sql("SELECT status, version FROM assignments") == state
    assert await sql("SELECT count(*) FROM events WHERE type = 'report.submitted'") == [(0,)]
    retried = await client.post(path, json=body, headers=auth)
    again = await client.post(path, json=body, headers=auth)
    assert retried.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == retried.json()["id"]
    assert await sql("SELECT count(*) FROM reports") == [(1,)]
    assert await sql("SELECT count(*) FROM events WHERE type = 'report.submitted'") == [(1,)]


async def test_an_attempt_a_retry_finished_before_changes_nothing(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first attempt that ran past its claim, taken over by a retry that finished first: only one may commit."""
    from app.idempotency import service

    store = service.finish

    async def the_retry_finishes_first(claim: Claim, response: service.StoredResponse) -> bool:
        await sql(
            "UPDATE idempotency_keys SET response_status = 201, response_headers = '{}', response_body = '' "
            "WHERE key = $1", claim.key,
        )
        return await store(claim, response)

    monkeypatch.setattr(service, "finish", the_retry_finishes_first)
    response = await client.post("/v1/units", json=BODY, headers=headers(province))
    assert response.status_code == 409
    assert response.json()["type"].endswith("/idempotency-in-progress")
    assert await sql("SELECT count(*) FROM units WHERE code = $1", BODY["code"]) == [(0,)]


async def test_requests_without_a_key_commit_as_before(client: httpx.AsyncClient, province: Province) -> None:
    created = await client.post("/v1/units", json=BODY, headers=province.auth("root_admin"))
    assert created.status_code == 201
    assert await sql("SELECT count(*) FROM units WHERE code = $1", BODY["code"]) == [(1,)]
    assert await sql("SELECT count(*) FROM idempotency_keys") == [(0,)]


async def test_background_work_after_an_idempotent_response_finds_it_committed(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A webhook test enqueues its delivery after the response: held for the claim, the commit must still come first."""
    from app.webhooks import router as webhooks_router

    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    hook = await subscribe(client, province, "http://127.0.0.1:9/hooks")  # never called: the wake is replaced
    seen: list[list[object]] = []

    async def wake(subscription_ids: list[object]) -> None:
        seen.append([tuple(r) for r in await sql("SELECT count(*) FROM webhook_deliveries")])

    monkeypatch.setattr(webhooks_router, "wake", wake)
    response = await client.post(f"/v1/webhooks/{hook['id']}/test", headers=headers(province, "ping-1"))
    assert response.status_code == 202, response.text
    assert seen == [[(1,)]]
