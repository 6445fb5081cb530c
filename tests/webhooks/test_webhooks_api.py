"""Webhook subscriptions over HTTP: secrets shown once, admin only, scoped to the key's subtree, validated."""

from __future__ import annotations

import base64
from uuid import UUID

import asyncpg
import httpx
import pytest

from app.db import sessionmaker
from app.settings import get_settings
from app.webhooks.attempts import disable_subscription
from tests.fixtures import Province
from tests.webhooks.receiver import subscribe

URL = "https://hooks.benhvien.example/dondoc"


@pytest.fixture(autouse=True)
def _public_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)


async def test_secret_is_shown_once_at_creation(client: httpx.AsyncClient, province: Province) -> None:
    created = await subscribe(client, province, URL)
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    read = await client.get(f"/v1/webhooks/{created['id']}", headers=province.auth("root_admin"))
    listed = await client.get("/v1/webhooks", headers=province.auth("root_admin"))
    assert "secret" not in read.json() and secret not in read.text
    assert secret not in listed.text and [w["id"] for w in listed.json()["items"]] == [created["id"]]


async def test_subscription_defaults_to_the_keys_unit(client: httpx.AsyncClient, province: Province) -> None:
    created = await subscribe(client, province, URL, key="centre_admin")
    assert created["unit_id"] == str(province.units["TTYT-TH"]) and created["active"] is True


async def test_subscription_may_name_a_unit_in_the_subtree_by_code(client: httpx.AsyncClient, province: Province) -> None:
    created = await subscribe(client, province, URL, key="centre_admin", unit_code="TYT-TV")
    assert created["unit_id"] == str(province.units["TYT-TV"])


async def test_unit_outside_the_subtree_is_422(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post(
        "/v1/webhooks", json={"url": URL, "event_types": ["*"], "unit_code": "VP"}, headers=province.auth("centre_admin")
    )
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "unknown_unit"


@pytest.mark.parametrize("event_types", [["assignment.exploded"], [], ["webhook.ping"]])
async def test_unknown_or_missing_event_types_are_422(
    client: httpx.AsyncClient, province: Province, event_types: list[str]
) -> None:
    response = await client.post(
        "/v1/webhooks", json={"url": URL, "event_types": event_types}, headers=province.auth("root_admin")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("event_types")


@pytest.mark.parametrize("url", ["ftp://hooks.example/x", "hooks.example/x", "https://", "javascript:alert(1)"])
async def test_only_http_urls_are_accepted(client: httpx.AsyncClient, province: Province, url: str) -> None:
    response = await client.post("/v1/webhooks", json={"url": url, "event_types": ["*"]}, headers=province.auth("root_admin"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "url"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook", "http://localhost/hook", "https://10.1.2.3/hook", "http://192.168.1.10/",
        "http://169.254.169.254/latest/meta-data", "http://[::1]/hook", "http://0.0.0.0/", "http://224.0.0.1/",
        "http://[::ffff:127.0.0.1]/hook", "http://100.64.0.1/",
    ],
)
async def test_private_addresses_are_refused(client: httpx.AsyncClient, province: Province, url: str) -> None:
    response = await client.post("/v1/webhooks", json={"url": url, "event_types": ["*"]}, headers=province.auth("root_admin"))
    assert response.status_code == 422, url
    assert response.json()["errors"][0] == {"field": "url", "message": response.json()["errors"][0]["message"], "code": "unsafe_url"}


async def test_private_addresses_are_allowed_when_configured(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    await subscribe(client, province, "http://127.0.0.1:9/hook")


async def test_unknown_fields_are_422(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post(
        "/v1/webhooks", json={"url": URL, "event_types": ["*"], "secret": "whsec_mine"}, headers=province.auth("root_admin")
    )
    assert response.status_code == 422


async def test_list_pages_with_a_cursor(client: httpx.AsyncClient, province: Province) -> None:
    ids = [(await subscribe(client, province, f"{URL}/{i}"))["id"] for i in range(3)]
    first = (await client.get("/v1/webhooks", params={"limit": 2}, headers=province.auth("root_admin"))).json()
    rest = (
        await client.get("/v1/webhooks", params={"limit": 2, "cursor": first["next_cursor"]}, headers=province.auth("root_admin"))
    ).json()
    assert [w["id"] for w in first["items"] + rest["items"]] == list(reversed(ids)) and rest["next_cursor"] is None


async def test_list_shows_only_the_subtree(client: httpx.AsyncClient, province: Province) -> None:
    await subscribe(client, province, URL)
    mine = await subscribe(client, province, URL, key="centre_admin")
    listed = await client.get("/v1/webhooks", headers=province.auth("centre_admin"))
    assert [w["id"] for w in listed.json()["items"]] == [mine["id"]]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/rotate-secret"), ("POST", "/test"), ("GET", "/deliveries")],
)
async def test_a_webhook_outside_the_subtree_is_404(
    client: httpx.AsyncClient, province: Province, method: str, suffix: str
) -> None:
    created = await subscribe(client, province, URL)
    body = {"description": "x"} if method == "PATCH" else None
    response = await client.request(
        method, f"/v1/webhooks/{created['id']}{suffix}", json=body, headers=province.auth("centre_admin")
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/rotate-secret"), ("POST", "/test"), ("GET", "/deliveries")],
)
async def test_non_admins_get_403(client: httpx.AsyncClient, province: Province, method: str, suffix: str) -> None:
    created = await subscribe(client, province, URL)
    body = {"description": "x"} if method == "PATCH" else None
    response = await client.request(method, f"/v1/webhooks/{created['id']}{suffix}", json=body, headers=province.auth("root_issuer"))
    assert response.status_code == 403


async def test_non_admins_cannot_create_or_list(client: httpx.AsyncClient, province: Province) -> None:
    created = await client.post("/v1/webhooks", json={"url": URL, "event_types": ["*"]}, headers=province.auth("root_reader"))
    listed = await client.get("/v1/webhooks", headers=province.auth("station_member"))
    assert (created.status_code, listed.status_code) == (403, 403)


async def test_redeliver_outside_the_subtree_is_404(client: httpx.AsyncClient, province: Province) -> None:
    created = await subscribe(client, province, URL)
    ping = await client.post(f"/v1/webhooks/{created['id']}/test", headers=province.auth("root_admin"))
    assert ping.status_code == 202
    delivery_id = ping.json()["delivery_id"]
    denied = await client.post(f"/v1/webhook-deliveries/{delivery_id}/redeliver", headers=province.auth("centre_admin"))
    unknown = await client.post(
        "/v1/webhook-deliveries/00000000-0000-0000-0000-000000000000/redeliver", headers=province.auth("root_admin")
    )
    assert (denied.status_code, unknown.status_code) == (404, 404)


async def test_patch_changes_fields_and_audits(client: httpx.AsyncClient, province: Province) -> None:
    created = await subscribe(client, province, URL)
    patched = await client.patch(
        f"/v1/webhooks/{created['id']}", json={"event_types": ["*"], "description": "HIS BVĐK"},
        headers=province.auth("root_admin"),
    )
    assert patched.status_code == 200 and patched.json()["event_types"] == ["*"]
    audit = await client.get("/v1/audit", params={"entity_id": created["id"]}, headers=province.auth("root_admin"))
    assert [e["action"] for e in audit.json()["items"]] == ["webhook.updated", "webhook.created"]


async def test_patch_to_a_private_url_is_422(client: httpx.AsyncClient, province: Province) -> None:
    created = await subscribe(client, province, URL)
    response = await client.patch(
        f"/v1/webhooks/{created['id']}", json={"url": "http://127.0.0.1/x"}, headers=province.auth("root_admin")
    )
    assert response.status_code == 422


async def test_delete_removes_the_webhook(client: httpx.AsyncClient, province: Province) -> None:
    created = await subscribe(client, province, URL)
    deleted = await client.delete(f"/v1/webhooks/{created['id']}", headers=province.auth("root_admin"))
    again = await client.get(f"/v1/webhooks/{created['id']}", headers=province.auth("root_admin"))
    assert (deleted.status_code, again.status_code) == (204, 404)


async def test_rotation_shows_the_new_secret_once_and_keeps_the_old_for_a_day(
    client: httpx.AsyncClient, province: Province
) -> None:
    created = await subscribe(client, province, URL)
    rotated = await client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=province.auth("root_admin"))
    assert rotated.status_code == 200 and rotated.json()["secret"] != created["secret"]
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        row = await conn.fetchrow(
            "SELECT previous_secret, previous_secret_expires_at - now() AS left FROM webhook_subscriptions WHERE id = $1",
            __import__("uuid").UUID(created["id"]),
        )
    finally:
        await conn.close()
    assert row["previous_secret"] == created["secret"] and 23 * 3600 < row["left"].total_seconds() <= 24 * 3600


async def test_test_ping_on_a_disabled_webhook_is_409(client: httpx.AsyncClient, province: Province) -> None:
    created = await subscribe(client, province, URL, active=False)
    response = await client.post(f"/v1/webhooks/{created['id']}/test", headers=province.auth("root_admin"))
    assert response.status_code == 409


async def test_patch_and_delete_take_if_match(client: httpx.AsyncClient, province: Province) -> None:
    created = await subscribe(client, province, URL)
    path, admin = f"/v1/webhooks/{created['id']}", province.auth("root_admin")
    read = await client.get(path, headers=admin)
    assert read.headers["etag"] == '"1"' and read.json()["version"] == 1
    changed = await client.patch(path, json={"description": "HIS"}, headers={**admin, "If-Match": read.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] == '"2"'
    stale = await client.patch(path, json={"description": "cũ"}, headers={**admin, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["current_etag"] == '"2"'
    assert (await client.delete(path, headers={**admin, "If-Match": '"1"'})).status_code == 412
    assert (await client.get(path, headers=admin)).json()["description"] == "HIS"  # the stale writes changed nothing
    # The worker disabling the endpoint is a change too: a PATCH based on the earlier read must not re-enable it blindly.
    async with sessionmaker()() as session, session.begin():
        assert await disable_subscription(session, UUID(created["id"]), reason="gone")
    assert (await client.patch(path, json={"active": True}, headers={**admin, "If-Match": '"2"'})).status_code == 412
    assert (await client.delete(path, headers={**admin, "If-Match": '"3"'})).status_code == 204
