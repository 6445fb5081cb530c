"""POST /v1/directives/parse (text → parse result, nothing stored) and /import (text → draft directive)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fixtures import Province

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
TEXT_2206 = (CORPUS / "thanhhoa-2018-2206-SYT-VP.txt").read_text(encoding="utf-8") if CORPUS.exists() else ""
needs_corpus = pytest.mark.skipif(not TEXT_2206, reason="../shared/corpus is not beside the repository")


@needs_corpus
async def test_parse_plain_text(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post(
        "/v1/directives/parse", content=TEXT_2206.encode(), headers={**province.auth("station_member"), "Content-Type": "text/plain; charset=utf-8"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["notation"] == "2206/SYT-VP" and body["issued_on"] == "2018-08-28"
    assert [t["deadline"]["due_on"] for t in body["tasks"] if t["deadline"]] == ["2018-11-10", "2018-11-15"]


@needs_corpus
async def test_parse_json_text_and_nothing_is_stored(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post("/v1/directives/parse", json={"text": TEXT_2206}, headers=province.auth("root_reader"))
    assert response.json()["symbol"] == "SYT-VP"
    listed = await client.get("/v1/directives", headers=province.auth("root_issuer"))
    assert listed.json()["items"] == []


async def test_parse_rejects_text_that_is_not_utf8(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post(
        "/v1/directives/parse", content="Số: 12/SYT".encode("utf-16"), headers={**province.auth("root_reader"), "Content-Type": "text/plain"}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "not_utf8"


async def test_parse_rejects_more_than_a_megabyte(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post(
        "/v1/directives/parse", content=b"a" * 1_100_000, headers={**province.auth("root_reader"), "Content-Type": "text/plain"}
    )
    assert response.status_code == 413


async def test_parse_rejects_other_media_types(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post(
        "/v1/directives/parse", content=b"<x/>", headers={**province.auth("root_reader"), "Content-Type": "application/xml"}
    )
    assert response.status_code == 415


async def test_parse_json_with_unknown_field_is_422(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post("/v1/directives/parse", json={"text": "x", "lang": "vi"}, headers=province.auth("root_reader"))
    assert response.status_code == 422


@needs_corpus
async def test_import_creates_a_draft_and_returns_unresolved_mentions(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post(
        "/v1/directives/import", json={"text": TEXT_2206, "issuer_code": "SYT"}, headers=province.auth("root_issuer")
    )
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["directive"]["status"] == "draft" and result["directive"]["notation"] == "2206/SYT-VP"
    assert {r["mention"]: r["unit_code"] for r in result["resolved"]}["Văn phòng Sở"] == "VP"  # by name
    assert "Các đơn vị trong ngành" in {u["mention"] for u in result["unresolved"]}
    lead_task = next(t for t in result["directive"]["tasks"] if any(u["role"] == "lead" for u in t["units"]))
    assert lead_task["due_on"] == "2018-11-15" and lead_task["due_kind"] == "before"


@needs_corpus
async def test_confirmed_mapping_is_applied_and_saved_as_an_alias(client: httpx.AsyncClient, province: Province) -> None:
    body = {"text": TEXT_2206, "issuer_code": "SYT", "mappings": {"Các đơn vị trong ngành": "BVDK"}}
    result = (await client.post("/v1/directives/import", json=body, headers=province.auth("root_issuer"))).json()
    assert [a["unit_code"] for a in result["aliases_saved"]] == ["BVDK"]
    assert "Các đơn vị trong ngành" not in {u["mention"] for u in result["unresolved"]}
    unit = (await client.get(f"/v1/units/{province.units['BVDK']}", headers=province.auth("root_admin"))).json()
    assert "Các đơn vị trong ngành" in unit["aliases"]


@needs_corpus
async def test_importing_the_same_directive_twice_is_409(client: httpx.AsyncClient, province: Province) -> None:
    body = {"text": TEXT_2206, "issuer_code": "SYT"}
    first = await client.post("/v1/directives/import", json=body, headers=province.auth("root_issuer"))
    again = await client.post("/v1/directives/import", json=body, headers=province.auth("root_issuer"))
    assert again.status_code == 409 and again.json()["existing_id"] == first.json()["directive"]["id"]


async def test_import_without_a_symbol_asks_for_overrides(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post(
        "/v1/directives/import", json={"text": "Một đoạn văn không có số hiệu."}, headers=province.auth("root_issuer")
    )
    assert response.status_code == 422
    assert "overrides" in response.json()["detail"]
    assert {e["field"] for e in response.json()["errors"]} >= {"symbol"}


async def test_import_with_overrides_creates_the_draft(client: httpx.AsyncClient, province: Province) -> None:
    body = {"text": "Giao Văn phòng Sở chủ trì báo cáo trước ngày 10/11/2024.", "overrides": {
        "symbol": "SYT-VP", "doc_type": "cong_van", "subject": "Báo cáo", "number": "7", "issued_on": "2024-10-01"}}
    response = await client.post("/v1/directives/import", json=body, headers=province.auth("root_issuer"))
    assert response.status_code == 201, response.text
    assert response.json()["directive"]["issuer_id"] == str(province.units["SYT"])


async def test_mapping_to_a_unit_outside_the_scope_is_422(client: httpx.AsyncClient, province: Province) -> None:
    body = {"text": "x", "mappings": {"Văn phòng Sở": "VP"}, "overrides": {"symbol": "TTYT", "doc_type": "cong_van", "subject": "s"}}
    response = await client.post("/v1/directives/import", json=body, headers=province.auth("centre_admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "unknown_unit"


async def test_members_cannot_import(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post("/v1/directives/import", json={"text": "x"}, headers=province.auth("station_member"))
    assert response.status_code == 403
