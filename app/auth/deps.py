"""The `Caller` dependency: every /v1 endpoint authenticates through it."""

from typing import Annotated

from fastapi import Depends, Request

from app.auth import service
from app.auth.caller import Caller


def _presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return token.strip()
    return None


async def current_caller(request: Request) -> Caller:
    # Read from the headers directly: declaring them as FastAPI Header parameters costs every request
    # a validation pass for two values that are only ever strings. No session: a key is looked up
    # on its own pool, so a request whose endpoint needs no database opens no session at all.
    headers = request.headers
    return await service.authenticate(_presented_key(headers.get("authorization"), headers.get("x-api-key")))


CurrentCaller = Annotated[Caller, Depends(current_caller)]
