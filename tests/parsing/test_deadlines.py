"""Deadline phrases, working-day terms and recurrence."""

from __future__ import annotations

from datetime import date

import pytest

from app.parsing.deadlines import DateContext, find_deadlines, find_recurrence
from app.calendar.national import add_calendar_days, add_working_days, is_working_day, next_working_day

ISSUED = DateContext(issued_on=date(2023, 11, 10), year=2023, month=11)


def _one(text: str, ctx: DateContext = ISSUED) -> tuple[str | None, str] | None:
    found = find_deadlines(text, 0, len(text), ctx)
    if not found:
        return None
    d = found[0]
    return (d.due_on.isoformat() if d.due_on else None, d.kind)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("báo cáo về Văn phòng Sở trước ngày 10/11/2023.", ("2023-11-10", "before")),
        ("gửi về phòng hành chính chậm nhất vào ngày 18/12/2023.", ("2023-12-18", "by")),
        ("gửi chậm nhất ngày 18/12/2023", ("2023-12-18", "by")),
        ("gửi chậm nhất là ngày 18/12/2023", ("2023-12-18", "by")),
        ("gửi chậm nhất trước ngày 18/12/2023", ("2023-12-18", "before")),
        ("hoàn thành trước ngày 20/12/2023", ("2023-12-20", "before")),
        ("thực hiện đến ngày 30/11/2023", ("2023-11-30", "by")),
        ("hoàn thành trong ngày 15/11/2023", ("2023-11-15", "by")),
        ("trước ngày 15 tháng 12 năm 2023", ("2023-12-15", "before")),
        ("trước ngày 15-12-2023", ("2023-12-15", "before")),
        ("trước ngày 05/01", ("2024-01-05", "before")),
        ("trong tháng 12 năm 2023", ("2023-12-31", "by")),
        ("trong tháng 02/2024", ("2024-02-29", "by")),
        ("trong quý IV/2023", ("2023-12-31", "by")),
    ],
)
def test_deadline_phrases_give_date_and_kind(text: str, expected: tuple[str, str]) -> None:
    assert _one(text) == expected


def test_time_of_day_makes_the_day_itself_the_deadline() -> None:
    found = find_deadlines("trước 17h00 ngày 15/11/2023", 0, 27, ISSUED)
    assert (found[0].due_on, found[0].kind, found[0].due_time) == (date(2023, 11, 15), "by", "17:00")


def test_working_day_term_runs_from_the_issue_date() -> None:
    text = "trong thời hạn 05 ngày làm việc kể từ ngày ký văn bản này"
    found = find_deadlines(text, 0, len(text), ISSUED)  # issued Friday 10/11/2023
    assert (found[0].due_on, found[0].working_days, found[0].kind) == (date(2023, 11, 17), 5, "by")


def test_working_day_term_without_issue_date_has_no_date_but_keeps_the_term() -> None:
    text = "trong thời hạn 03 ngày làm việc kể từ ngày nhận được công văn"
    found = find_deadlines(text, 0, len(text), DateContext())
    assert (found[0].due_on, found[0].working_days) == (None, 3)


def test_today_stands_in_for_a_missing_issue_date() -> None:
    text = "trong thời hạn 03 ngày làm việc kể từ ngày ký"
    found = find_deadlines(text, 0, len(text), DateContext(today=date(2024, 4, 26)))
    # Fri 26/4 → Mon 29/4 (day off), Tue 30/4, Wed 1/5 holidays → Thu 2, Fri 3, Sat 4/5 (make-up working day)
    assert found[0].due_on == date(2024, 5, 4)


def test_dates_in_citations_are_not_deadlines() -> None:
    assert _one("theo Quyết định số 1300/QĐ-BYT ngày 09/3/2023 của Bộ Y tế, giai đoạn đến năm 2030") is None


def test_a_date_before_the_directive_is_not_a_deadline() -> None:
    assert _one("đã báo cáo trước ngày 01/10/2023") is None


def test_narrative_month_is_not_a_deadline() -> None:
    assert _one("Trong tháng 6/2023, Sở Y tế đã thành lập đoàn kiểm tra") is None


def test_monthly_day_gives_the_day_and_no_date() -> None:
    found = find_deadlines("trước ngày 25 hàng tháng", 0, 24, ISSUED)
    assert (found[0].due_on, found[0].day_of_month, found[0].kind) == (None, 25, "before")


@pytest.mark.parametrize(
    ("text", "recurrence"),
    [
        ("định kỳ hàng tháng báo cáo về Sở", "monthly"),
        ("báo cáo hằng quý về Sở", "quarterly"),
        ("báo cáo định kỳ 6 tháng về Sở", "semiannual"),
        ("tổng hợp báo cáo hàng năm", "yearly"),
        ("hàng tháng, hàng quý và cuối năm tổ chức đánh giá", "monthly"),
        ("hướng dẫn thực hiện kinh phí hàng năm", None),
        ("báo cáo kết quả", None),
    ],
)
def test_recurrence_is_read_from_the_task(text: str, recurrence: str | None) -> None:
    assert find_recurrence(text, 0, len(text)) == recurrence


def test_weekends_and_tet_are_days_off() -> None:
    assert not is_working_day(date(2024, 2, 10))  # Tết
    assert not is_working_day(date(2024, 3, 2))  # Saturday
    assert is_working_day(date(2024, 3, 4))


def test_start_day_is_not_counted() -> None:
    assert add_working_days(date(2024, 3, 4), 1) == date(2024, 3, 5)


def test_calendar_term_ending_on_a_day_off_moves_to_the_next_working_day() -> None:
    assert add_calendar_days(date(2024, 3, 1), 1) == date(2024, 3, 4)
    assert next_working_day(date(2024, 9, 2)) == date(2024, 9, 4)
