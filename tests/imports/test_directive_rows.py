"""The plain records an import writes hold exactly what the table models the single endpoints build would."""

from __future__ import annotations

from uuid import uuid4

from app.auth.caller import Caller
from app.auth.models import Role
from app.directives import service as directives
from app.directives.models import Directive
from app.imports import directives as importing
from app.imports.schemas import DirectiveLine
from app.tasks import service as tasks

LINE = DirectiveLine.model_validate({
    "issuer_code": "SYT", "number": "12", "symbol": "SYT-NVY", "doc_type": "cong_van", "issued_on": "2025-03-03",
    "subject": "Triển khai tiêm chủng", "signer_name": "Nguyễn Văn A", "urgency": "khan",
    "tasks": [{"text": "Báo cáo hằng tháng", "recurrence": "monthly", "recurrence_until": "2025-06-30"},
              {"ordinal": "b", "text": "Tổ chức thực hiện", "due_on": "2025-04-30", "due_kind": "by"}],
})


def test_a_directive_record_matches_the_directive_table_row() -> None:
    directive_id, issuer_id, key_id = uuid4(), uuid4(), uuid4()
    row = importing._DirectiveRow(
        id=directive_id, issuer_id=issuer_id, symbol=LINE.symbol, doc_type=LINE.doc_type.value, subject=LINE.subject,
        created_by_key_id=key_id,
    )
    model = Directive(
        id=directive_id, issuer_id=issuer_id, symbol=LINE.symbol, notation="", notation_key="", doc_type=LINE.doc_type.value,
        subject=LINE.subject, search_key="", created_by_key_id=key_id,
    )
    directives.apply_fields(row, LINE)  # type: ignore[arg-type]
    directives.apply_fields(model, LINE)
    assert importing._directive_record(row) == importing._directive_record(model)  # type: ignore[arg-type]


def test_a_task_record_matches_the_task_table_row() -> None:
    lookup = tasks.UnitLookup(Caller(key_id=None, unit_id=uuid4(), role=Role.issuer))
    directive_id = uuid4()
    for position, data in enumerate(LINE.tasks or []):
        row, _ = tasks.task_row(directive_id, position, data, lookup)
        model, _ = tasks.build_task(directive_id, position, data, lookup)
        model.id = row.id
        assert importing._task_record(row) == importing._task_record(model)  # type: ignore[arg-type]
