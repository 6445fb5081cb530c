"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from app.assignments.models import Assignment
from app.audit.models import AuditEntry
from app.auth.models import ApiKey
from app.calendar.models import CalendarDay
from app.directives.models import Directive, DirectiveReference
from app.escalation.models import DigestRun, EscalationPolicy, EscalationStep
from app.events.models import Event
from app.idempotency.models import IdempotencyRecord
from app.imports.models import ImportJob, ImportLine
from app.reports.models import Report
from app.tasks.models import Task, TaskUnit
from app.units.models import Unit, UnitKind
from app.webhooks.models import RelayCursor, WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "ApiKey",
    "Assignment",
    "AuditEntry",
    "CalendarDay",
    "DigestRun",
    "Directive",
    "DirectiveReference",
    "EscalationPolicy",
    "EscalationStep",
    "Event",
    "IdempotencyRecord",
    "ImportJob",
    "ImportLine",
    "RelayCursor",
    "Report",
    "Task",
    "TaskUnit",
    "Unit",
    "UnitKind",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
