"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from app.assignments.models import Assignment
from app.audit.models import AuditEntry
from app.auth.models import ApiKey
from app.directives.models import Directive, DirectiveReference
from app.events.models import Event
from app.idempotency.models import IdempotencyRecord
from app.reports.models import Report
from app.tasks.models import Task, TaskUnit
from app.units.models import Unit, UnitKind

__all__ = [
    "ApiKey",
    "Assignment",
    "AuditEntry",
    "Directive",
    "DirectiveReference",
    "Event",
    "IdempotencyRecord",
    "Report",
    "Task",
    "TaskUnit",
    "Unit",
    "UnitKind",
]
