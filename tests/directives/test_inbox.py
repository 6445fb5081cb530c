"""GET /v1/assignments: a unit's inbox, its filters, its order and its paging, and who sees what.

One directive of the Sở, issued on 1/3/2024 and read on 10/3/2024 09:00 (Hà Nội):

    task  deadline (end of day)  units                                     at 10/3 09:00
    1     5/3                    TYT-TV (reported 4/3), TYT-TG (reported 8/3)  completed on time / late
    2     6/3                    TYT-TV                                    overdue
    3     12/3                   TYT-TV, TYT-TG                            due soon (2.6 days left)
    4     30/3                   TYT-TV lead, TYT-TG coordinating, BVDK    on time
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import time_machine

from tests.directives.helpers import create_directive, local
from tests.fixtures import Province

NOW = "2024-03-10 09:00"


@dataclass
class Inbox:
    province: Province
    directive_id: str
    codes: dict[str, str]  # unit id -> code

    def auth(self, key: str) -> dict[str, str]:
        return self.province.auth(key)


def due(day: str, *units: str, **extra: Any) -> dict[str, Any]:
    return {"text": f"Việc hạn {day}", "assignee_codes": list(units), "due_on": day, "due_kind": "by", **extra}


@pytest.fixture
async def inbox(client: httpx.AsyncClient, province: Province) -> Inbox:
    issuer = province.auth("root_issuer")
    tasks = [
        due("2024-03-05", "TYT-TV", "TYT-TG"),
        due("2024-03-06", "TYT-TV"),
        due("2024-03-12", "TYT-TV", "TYT-TG"),
        due("2024-03-30", "BVDK", lead_codes=["TYT-TV"], coordinating_codes=["TYT-TG"]),
    ]
    body = {
        "issuer_code": "SYT", "number": "310", "symbol": "SYT-NVY", "doc_type": "cong_van", "issued_on": "2024-03-01",
        "subject": "Phòng chống sốt xuất huyết", "tasks": tasks,
    }
    with time_machine.travel(local("2024-03-01 08:00"), tick=False):
        d = await create_directive(client, issuer, body)
        assert (await client.post(f"/v1/directives/{d['id']}/issue", headers=issuer)).json()["assignments_created"] == 8
    result = Inbox(province, d["id"], {str(uid): code for code, uid in province.units.items()})
    first = {a["unit_id"]: a for a in await listing(client, result, "root_issuer", due_before=local("2024-03-06 00:00").isoformat())}
    tv, tg = first[str(province.units["TYT-TV"])], first[str(province.units["TYT-TG"])]
    for assignment, key, when in ((tv, "station_member", "2024-03-04 10:00"), (tg, "centre_admin", "2024-03-08 10:00")):
        with time_machine.travel(local(when), tick=False):
            report = await client.post(
                f"/v1/assignments/{assignment['id']}/reports", json={"kind": "final", "content": "Xong"}, headers=province.auth(key)
            )
            assert report.status_code == 201, report.text
            accepted = await client.post(f"/v1/reports/{report.json()['id']}/accept", json={}, headers=issuer)
            assert accepted.status_code == 200, accepted.text
    return result


async def listing(client: httpx.AsyncClient, inbox: Inbox, key: str, **params: Any) -> list[dict[str, Any]]:
    with time_machine.travel(local(NOW), tick=False):
        response = await client.get("/v1/assignments", params={"limit": 500, **params}, headers=inbox.auth(key))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def seen(inbox: Inbox, items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(task deadline day, unit code) per item, in the order listed."""
    return [(a["task_text"].removeprefix("Việc hạn "), inbox.codes[a["unit_id"]]) for a in items]


async def test_soonest_deadline_comes_first(client: httpx.AsyncClient, inbox: Inbox) -> None:
    items = await listing(client, inbox, "root_issuer")
    keys = [(a["due_at"], a["id"]) for a in items]
    assert keys == sorted(keys) and len(items) == 8


async def test_unit_filter_covers_the_units_subtree(client: httpx.AsyncClient, inbox: Inbox) -> None:
    items = await listing(client, inbox, "root_issuer", unit_id=str(inbox.province.units["TTYT-TH"]))
    assert {code for _, code in seen(inbox, items)} == {"TYT-TV", "TYT-TG"} and len(items) == 7


async def test_directive_filter(client: httpx.AsyncClient, inbox: Inbox, province: Province) -> None:
    other = {
        "issuer_code": "SYT", "number": "311", "symbol": "SYT-NVY", "doc_type": "cong_van", "issued_on": "2024-03-02",
        "subject": "Khác", "tasks": [due("2024-03-15", "TYT-TV")],
    }
    d = await create_directive(client, province.auth("root_issuer"), other)
    await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    assert len(await listing(client, inbox, "root_issuer")) == 9
    assert {a["directive_id"] for a in await listing(client, inbox, "root_issuer", directive_id=inbox.directive_id)} == {inbox.directive_id}
    assert [a["directive_id"] for a in await listing(client, inbox, "root_issuer", directive_id=d["id"])] == [d["id"]]


async def test_status_filter_is_repeatable(client: httpx.AsyncClient, inbox: Inbox) -> None:
    completed = await listing(client, inbox, "root_issuer", status="completed")
    assert sorted(seen(inbox, completed)) == [("2024-03-05", "TYT-TG"), ("2024-03-05", "TYT-TV")]
    both = await listing(client, inbox, "root_issuer", status=["completed", "pending"])
    assert len(both) == 8
    assert await listing(client, inbox, "root_issuer", status=["cancelled", "blocked"]) == []


@pytest.mark.parametrize(
    ("timeliness", "expected"),
    [
        ("completed_on_time", [("2024-03-05", "TYT-TV")]),
        ("completed_late", [("2024-03-05", "TYT-TG")]),
        ("overdue", [("2024-03-06", "TYT-TV")]),
        ("due_soon", [("2024-03-12", "TYT-TG"), ("2024-03-12", "TYT-TV")]),
        ("on_time", [("2024-03-30", "BVDK"), ("2024-03-30", "TYT-TG"), ("2024-03-30", "TYT-TV")]),
    ],
)
async def test_timeliness_filter(client: httpx.AsyncClient, inbox: Inbox, timeliness: str, expected: list[tuple[str, str]]) -> None:
    items = await listing(client, inbox, "root_issuer", timeliness=timeliness)
    assert sorted(seen(inbox, items)) == expected
    assert {a["timeliness"] for a in items} == {timeliness}


async def test_each_item_shows_the_timeliness_the_python_rule_gives(client: httpx.AsyncClient, inbox: Inbox) -> None:
    """Listed rows carry timeliness computed in SQL; it must agree with `timeliness_of`, item by item."""
    from datetime import datetime

    from app.assignments.service import timeliness_of

    items = await listing(client, inbox, "root_issuer")
    assert len(items) == 8
    now = local(NOW)
    for item in items:
        completed_at = datetime.fromisoformat(item["completed_at"]) if item["completed_at"] else None
        expected = timeliness_of(item["status"], datetime.fromisoformat(item["due_at"]), completed_at, now)
        assert item["timeliness"] == expected, item
    shown = {(day, code): a["timeliness"] for (day, code), a in zip(seen(inbox, items), items, strict=True)}
    assert shown[("2024-03-05", "TYT-TG")] == "completed_late" and shown[("2024-03-12", "TYT-TV")] == "due_soon"


async def test_due_soon_becomes_overdue_as_the_clock_passes_the_deadline(client: httpx.AsyncClient, inbox: Inbox) -> None:
    with time_machine.travel(local("2024-03-13 00:30"), tick=False):
        response = await client.get("/v1/assignments", params={"timeliness": "overdue"}, headers=inbox.auth("root_issuer"))
    assert sorted(seen(inbox, response.json()["items"])) == [("2024-03-06", "TYT-TV"), ("2024-03-12", "TYT-TG"), ("2024-03-12", "TYT-TV")]


async def test_due_window_filters(client: httpx.AsyncClient, inbox: Inbox) -> None:
    window = {"due_after": local("2024-03-06 00:00").isoformat(), "due_before": local("2024-03-13 00:00").isoformat()}
    items = await listing(client, inbox, "root_issuer", **window)
    assert sorted(seen(inbox, items)) == [("2024-03-06", "TYT-TV"), ("2024-03-12", "TYT-TG"), ("2024-03-12", "TYT-TV")]
    later = await listing(client, inbox, "root_issuer", due_after=local("2024-03-13 00:00").isoformat())
    assert {day for day, _ in seen(inbox, later)} == {"2024-03-30"}


async def test_empty_due_window_is_422(client: httpx.AsyncClient, inbox: Inbox) -> None:
    same = local("2024-03-10 00:00").isoformat()
    for after in (same, local("2024-03-11 00:00").isoformat()):
        response = await client.get("/v1/assignments", params={"due_after": after, "due_before": same}, headers=inbox.auth("root_issuer"))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "due_after"


async def test_role_filter(client: httpx.AsyncClient, inbox: Inbox) -> None:
    lead = await listing(client, inbox, "root_issuer", role="lead")
    assert seen(inbox, lead) == [("2024-03-30", "TYT-TV")]
    coordinating = await listing(client, inbox, "root_issuer", role="coordinating")
    assert seen(inbox, coordinating) == [("2024-03-30", "TYT-TG")]
    assert len(await listing(client, inbox, "root_issuer", role="assignee")) == 6


async def test_cursor_paging_has_no_duplicates_or_gaps(client: httpx.AsyncClient, inbox: Inbox) -> None:
    everything = await listing(client, inbox, "root_issuer")
    for limit in (1, 3):
        paged: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            with time_machine.travel(local(NOW), tick=False):
                page = (await client.get("/v1/assignments", params=params, headers=inbox.auth("root_issuer"))).json()
            assert len(page["items"]) <= limit
            paged += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [a["id"] for a in paged] == [a["id"] for a in everything], limit


async def test_station_member_sees_only_its_own_subtree(client: httpx.AsyncClient, inbox: Inbox) -> None:
    items = await listing(client, inbox, "station_member")
    assert {code for _, code in seen(inbox, items)} == {"TYT-TV"} and len(items) == 4
    centre = await listing(client, inbox, "centre_admin")
    assert {code for _, code in seen(inbox, centre)} == {"TYT-TV", "TYT-TG"}
    # A unit outside the key's subtree is refused as unknown (as on /v1/events), exactly as a unit that does not exist.
    for unit_id in (str(inbox.province.units["TYT-TG"]), "00000000-0000-0000-0000-000000000001"):
        response = await client.get("/v1/assignments", params={"unit_id": unit_id}, headers=inbox.auth("station_member"))
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "unit_id" and response.json()["errors"][0]["code"] == "unknown_unit"


async def test_issuer_key_sees_the_assignments_of_directives_its_unit_issued(
    client: httpx.AsyncClient, inbox: Inbox, province: Province
) -> None:
    created = await client.post(
        "/v1/api-keys", json={"name": "khtc", "role": "issuer", "unit_code": "KHTC"}, headers=province.auth("root_admin")
    )
    khtc = {"Authorization": f"Bearer {created.json()['secret']}"}
    body = {
        "issuer_code": "KHTC", "number": "12", "symbol": "SYT-KHTC", "doc_type": "cong_van", "issued_on": "2024-03-02",
        "subject": "Báo cáo tài chính", "tasks": [due("2024-03-25", "TYT-TV", "BVDK")],
    }
    d = await create_directive(client, province.auth("root_issuer"), body)  # the Sở enters it on the office's behalf
    await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    with time_machine.travel(local(NOW), tick=False):
        items = (await client.get("/v1/assignments", headers=khtc)).json()["items"]
    assert {a["directive_id"] for a in items} == {d["id"]}  # none of the Sở's own directive
    assert sorted(seen(inbox, items)) == [("2024-03-25", "BVDK"), ("2024-03-25", "TYT-TV")]


async def test_another_units_assignment_is_404_for_a_member(client: httpx.AsyncClient, inbox: Inbox) -> None:
    tg = (await listing(client, inbox, "root_issuer", unit_id=str(inbox.province.units["TYT-TG"])))[0]
    response = await client.get(f"/v1/assignments/{tg['id']}", headers=inbox.auth("station_member"))
    assert response.status_code == 404
    tv = (await listing(client, inbox, "station_member"))[0]
    assert (await client.get(f"/v1/assignments/{tv['id']}", headers=inbox.auth("station_member"))).status_code == 200


async def test_tampered_cursor_is_422(client: httpx.AsyncClient, inbox: Inbox) -> None:
    response = await client.get("/v1/assignments", params={"cursor": "garbage!"}, headers=inbox.auth("root_issuer"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cursor"


async def test_cursor_with_the_right_keys_but_bad_values_is_422(client: httpx.AsyncClient, inbox: Inbox) -> None:
    cursor = base64.urlsafe_b64encode(orjson.dumps({"due_at": "yesterday", "id": "x"})).decode().rstrip("=")
    response = await client.get("/v1/assignments", params={"cursor": cursor}, headers=inbox.auth("root_issuer"))
    assert response.status_code == 422



async def test_inbox_and_single_read_bodies_are_exactly_their_response_models(client: httpx.AsyncClient, inbox: Inbox) -> None:
    """These two are written by orjson straight from rows: parsing each body through its model changes nothing."""
    from app.assignments.schemas import AssignmentRead, InboxItem
    from app.pagination import Page

    with time_machine.travel(local(NOW), tick=False):
        page = await client.get("/v1/assignments", params={"limit": 3}, headers=inbox.auth("root_issuer"))
        assert page.status_code == 200 and page.headers["content-type"] == "application/json"
        body = page.json()
        assert Page[InboxItem].model_validate_json(page.content).model_dump(mode="json") == body
        assert list(body["items"][0]) == list(InboxItem.model_fields) and body["next_cursor"]
        for item in body["items"]:
            one = await client.get(f"/v1/assignments/{item['id']}", headers=inbox.auth("root_issuer"))
            assert one.status_code == 200
            assert AssignmentRead.model_validate_json(one.content).model_dump(mode="json") == one.json()
            assert list(one.json()) == list(AssignmentRead.model_fields)
            assert one.json() == {k: v for k, v in item.items() if k in AssignmentRead.model_fields}
    assert body["items"][0]["due_at"].endswith("Z") and body["items"][0]["timeliness"].startswith("completed_")
