"""ETags from row versions, and `If-Match` (RFC 9110) for optimistic concurrency."""

from __future__ import annotations

from app.errors import PreconditionFailed


def etag(version: int) -> str:
    return f'"{version}"'


def require_match(if_match: str | None, *, version: int, what: str) -> None:
    """No header: proceed. Otherwise one listed tag (weak or strong) or `*` must match, else 412."""
    if if_match is None:
        return
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if "*" not in tags and etag(version) not in tags:
        raise PreconditionFailed(f"{what} is at version {version}; fetch it again and retry.", current_etag=etag(version))
