"""A request's claim on its Idempotency-Key, and the transaction the claim commits with.

A POST sent with a key does its work in a transaction that the request does not commit itself:
the session dependency (or a report's bare connection) hands it over to the claim, and the
idempotency middleware stores the response in that same transaction and then commits it. Work and
stored response are thus one commit: a crash before it loses both (a retry runs the request
afresh), a crash after it loses neither (a retry replays the response). Committed apart, a crash
between the two would leave the work done and nothing to replay, and the retry would do it again.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from app.db import InTransaction


class HeldTransaction(Protocol):
    """A request's transaction, still open, handed over for the claim to commit or roll back."""

    @property
    def within(self) -> InTransaction: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


@dataclass(slots=True)
class Claim:
    """The key this request holds (per client), and the request's transaction once handed over."""

    client: str
    key: str
    held: HeldTransaction | None = None

    def hold(self, transaction: HeldTransaction) -> None:
        if self.held is not None:  # two transactions for one request could not commit as one
            raise RuntimeError("a request sent with an Idempotency-Key writes in one transaction")
        self.held = transaction

    async def end(self, *, commit: bool) -> None:
        """Commit or roll back the held transaction, if any; once only, whatever happens."""
        held, self.held = self.held, None
        if held is not None:
            await (held.commit() if commit else held.rollback())


# Set by the middleware around the request; None when the request carries no key.
current_claim: ContextVar[Claim | None] = ContextVar("idempotency_claim", default=None)
