"""The `Caller` dependency: every /v1 endpoint authenticates through it."""

from typing import Annotated

from fastapi import Depends, Header

from app.auth import service
from app.auth.caller import Caller
from app.db import Session


def _presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return token.strip()
    return None


async def current_caller(
    session: Session,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Caller:
    return await service.authenticate(session, _presented_key(authorization, x_api_key))


CurrentCaller = Annotated[Caller, Depends(current_caller)]
