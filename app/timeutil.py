"""Clock helpers: UTC inside, Asia/Ho_Chi_Minh only at the edges."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
