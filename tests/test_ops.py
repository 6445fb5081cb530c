"""Operations: liveness, readiness (database at head, Redis reachable), metrics, request ids."""

from __future__ import annotations

import httpx

from tests.fixtures import Province


async def test_healthz_is_ok(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_readyz_reports_database_at_head_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["database"]["revision"] == body["database"]["head"]
    assert body["redis"]["ok"] is True
    assert "queued_jobs" in body["redis"]
    assert body["workers"] == {  # nothing is waiting
        "deadline_scan_lag_s": None, "outbox_lag_events": 0, "outbox_lag_oldest_age_s": None, "oldest_due_delivery_age_s": None,
    }


async def test_readyz_is_503_when_redis_is_unreachable(client: httpx.AsyncClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.settings import get_settings

    monkeypatch.setattr(get_settings(), "redis_url", "redis://127.0.0.1:1/0")
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["redis"]["ok"] is False


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient, province: Province) -> None:
    await client.get(f"/v1/units/{province.units['VP']}", headers=province.auth("root_reader"))
    text = (await client.get("/metrics")).text
    assert 'dondoc_http_requests_total{method="GET",route="/v1/units/{unit_id}",status="200"}' in text


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "his-42"})
    assert echoed.headers["x-request-id"] == "his-42"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 32
