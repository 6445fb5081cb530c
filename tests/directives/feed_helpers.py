"""Reading GET /v1/events to its end in tests."""

from __future__ import annotations

from typing import Any

import httpx


async def read_feed(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    after: str | None = None,
    limit: int = 100,
    **params: Any,
) -> tuple[list[dict[str, Any]], str | None]:
    """Every event from `after` to the end of the feed, and the cursor to poll with next."""
    items: list[dict[str, Any]] = []
    cursor = after
    while True:
        query = {"limit": limit, **params, **({"after": cursor} if cursor else {})}
        response = await client.get("/v1/events", params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if not page["items"]:
            return items, page["next_cursor"]
        cursor = page["next_cursor"]
