"""The caller: who a request acts as, and the checks every service applies to it."""

from dataclasses import dataclass
from uuid import UUID

from app.auth.models import ROLE_RANK, Role
from app.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated API key: it sees and acts on `unit_id`'s subtree only."""

    key_id: UUID | None  # None for the command line, which acts with the operator's authority
    unit_id: UUID
    role: Role

    def require(self, role: Role) -> None:
        """Raise 403 unless this caller's role is at least `role`."""
        if ROLE_RANK[self.role] < ROLE_RANK[role]:
            raise Forbidden(f"This needs the {role.value} role; the key has {self.role.value}.")

    def covers(self, unit_path: list[UUID]) -> bool:
        """Is the unit whose root-to-self path is `unit_path` inside this caller's subtree?"""
        return self.unit_id in unit_path
