"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from app.audit.models import AuditEntry
from app.auth.models import ApiKey
from app.idempotency.models import IdempotencyRecord
from app.units.models import Unit, UnitKind

__all__ = ["ApiKey", "AuditEntry", "IdempotencyRecord", "Unit", "UnitKind"]
