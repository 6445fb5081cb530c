"""Bad input gets a precise 4xx problem+json and leaves the database unchanged."""

from __future__ import annotations

import httpx

from tests.fixtures import Province

PROBLEM = "application/problem+json"


async def unit_count(client: httpx.AsyncClient, province: Province) -> int:
    return len((await client.get("/v1/units", params={"limit": 500}, headers=province.auth("root_admin"))).json()["items"])


async def test_malformed_json_is_400_and_writes_nothing(client: httpx.AsyncClient, province: Province) -> None:
    before = await unit_count(client, province)
    response = await client.post(
        "/v1/units", content=b'{"code": "X", "name": ', headers={**province.auth("root_admin"), "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "https://dondoc.vn/problems/malformed-json"
    assert await unit_count(client, province) == before


async def test_wrong_types_are_422_with_one_entry_per_field(client: httpx.AsyncClient, province: Province) -> None:
    body = {"code": 12, "name": ["x"], "kind": "office", "parent_code": "SYT", "active": "maybe"}
    response = await client.post("/v1/units", json=body, headers=province.auth("root_admin"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "https://dondoc.vn/problems/validation-error"
    assert {e["field"] for e in problem["errors"]} == {"code", "name", "active"}


async def test_unknown_field_is_422_naming_it(client: httpx.AsyncClient, province: Province) -> None:
    body = {"code": "X", "name": "X", "kind": "office", "parent_code": "SYT", "colour": "blue"}
    response = await client.post("/v1/units", json=body, headers=province.auth("root_admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "colour"


async def test_code_change_is_refused_since_codes_are_stable(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.patch(f"/v1/units/{province.units['VP']}", json={"code": "VP2"}, headers=province.auth("root_admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "code"


async def test_null_for_a_required_field_in_patch_is_422(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.patch(f"/v1/units/{province.units['VP']}", json={"name": None}, headers=province.auth("root_admin"))
    assert response.status_code == 422


async def test_over_long_name_is_422(client: httpx.AsyncClient, province: Province) -> None:
    body = {"code": "X", "name": "x" * 256, "kind": "office", "parent_code": "SYT"}
    response = await client.post("/v1/units", json=body, headers=province.auth("root_admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


async def test_code_with_spaces_is_422(client: httpx.AsyncClient, province: Province) -> None:
    body = {"code": "has space", "name": "X", "kind": "office", "parent_code": "SYT"}
    response = await client.post("/v1/units", json=body, headers=province.auth("root_admin"))
    assert response.status_code == 422


async def test_body_over_the_limit_is_413_and_writes_nothing(client: httpx.AsyncClient, province: Province) -> None:
    before = await unit_count(client, province)
    items = [{"code": f"C{i}", "name": "n" * 200, "kind": "office", "parent_code": "SYT"} for i in range(1000)]
    huge = {"items": items * 12}
    response = await client.post("/v1/units/batch", json=huge, headers=province.auth("root_admin"))
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert await unit_count(client, province) == before


async def test_non_json_body_is_a_4xx_problem(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post(
        "/v1/units", content=b"code=X", headers={**province.auth("root_admin"), "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == PROBLEM


async def test_bad_uuid_in_path_is_422_naming_the_parameter(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/units/not-a-uuid", headers=province.auth("root_admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "unit_id"


async def test_limit_out_of_range_is_422(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/units", params={"limit": 0}, headers=province.auth("root_admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["in"] == "query"


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get("/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_wrong_method_is_405_problem(client: httpx.AsyncClient, db: str) -> None:
    response = await client.put("/v1/units")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


async def test_nul_character_in_a_body_is_422_naming_the_field(client: httpx.AsyncClient, province: Province) -> None:
    body = {"code": "X", "name": "Trạm\u0000", "kind": "office", "parent_code": "SYT"}
    response = await client.post("/v1/units", json=body, headers=province.auth("root_admin"))
    assert response.status_code == 422
    assert "name" in response.json()["detail"]


async def test_lone_surrogate_in_a_body_is_422(client: httpx.AsyncClient, province: Province) -> None:
    raw = b'{"code": "X", "name": "\\udb3b", "kind": "office", "parent_code": "SYT"}'
    response = await client.post(
        "/v1/units", content=raw, headers={**province.auth("root_admin"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422


async def test_nul_character_in_the_query_is_422(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/events?types=a%00b", headers=province.auth("root_admin"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_database_errors_from_statements_run_on_asyncpg_are_problems_too(db: str) -> None:
    """The hot paths run statements straight on asyncpg, whose errors SQLAlchemy never wraps."""
    from fastapi import FastAPI
    from sqlalchemy import text

    from app.db import DriverStatement, sessionmaker
    from app.problems import install_problem_handlers

    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/divide")
    async def divide() -> None:  # class 22, a data exception: bad input
        await DriverStatement.of(text("SELECT 1 / CAST(:zero AS int)")).read_one(zero=0)

    @app.post("/duplicate")
    async def duplicate() -> None:  # a unique violation: a conflict
        async with sessionmaker()() as session:
            await DriverStatement.of(text("INSERT INTO unit_kinds (code, name) VALUES (:code, 'x')")).execute(session, code="office")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        divided, duplicated = await http.get("/divide"), await http.post("/duplicate")
    assert (divided.status_code, divided.headers["content-type"]) == (422, PROBLEM)
    assert "DivisionByZeroError" in divided.json()["detail"]
    assert (duplicated.status_code, duplicated.headers["content-type"]) == (409, PROBLEM)
