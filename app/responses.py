"""JSON bodies for the hottest reads, written by orjson straight from database rows.

FastAPI validates an endpoint's return value against its response model and then serializes
it; for a page of 50 inbox items that cost more CPU than the query. The endpoints using this
build their rows in the model's field order from trusted database columns, declare the model
as `response_model` (so the OpenAPI document is unchanged), and tests parse each body back
through the model to hold it to the same shape and values.
"""

from typing import Any
from uuid import UUID

import orjson
from fastapi import Response

# UTC instants end in "Z", as pydantic writes them everywhere else in the API.
_OPTIONS = orjson.OPT_UTC_Z


def _default(value: Any) -> str:
    # asyncpg's own UUID type is not one orjson writes natively; str() gives the canonical form.
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body, default=_default, option=_OPTIONS), status_code=status_code, media_type="application/json")


def field_order(model: Any) -> tuple[str, ...]:
    """The names of a response model's fields, in the order they appear in its JSON."""
    return tuple(model.model_fields)
