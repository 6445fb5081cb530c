"""Deadlines (thời hạn) and recurrence (định kỳ) written in a task.

Kinds follow the design: "trước ngày D" is ``before`` (the start of D); "chậm nhất
(vào) ngày D", "đến ngày D", "trong ngày D" are ``by`` (the end of D), and so is a
term in days ("trong thời hạn 05 ngày làm việc kể từ ngày ký") or a month
("trong tháng 12 năm 2014": the end of that month).
"""

from __future__ import annotations

import calendar as std_calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from app.calendar.national import add_calendar_days, add_working_days
from app.parsing.patterns import DATE_BODY, Scan, date_from_match, make_date, squash

BEFORE = "before"
BY = "by"

# "17h00", "17 giờ 30 phút chiều", followed by the date.
_TIME = r"(?P<hh>\d{1,2})\s*(?:h|giờ)\s*(?P<mm>\d{2})?(?:\s*phút)?(?:\s*(?P<pm>chiều|tối|sáng))?\s*,?\s*"
_ON = r"(?:ngày\s*)?"


@dataclass(slots=True)
class DateContext:
    """What a deadline needs from the rest of the document to become a date."""

    issued_on: date | None = None
    year: int | None = None
    month: int | None = None
    today: date | None = None

    @property
    def base(self) -> date | None:
        """The day a term in days runs from when the text says "kể từ ngày ký/nhận"."""
        return self.issued_on or self.today

    def complete(self, day: int, month: int, year: int | None) -> date | None:
        """The date, taking a missing year from the issue date (rolling over New Year)."""
        if year is not None:
            return make_date(year, month, day)
        ref_year = self.year or (self.today.year if self.today else None)
        if ref_year is None:
            return None
        guess = make_date(ref_year, month, day)
        ref_month = self.month or (self.issued_on.month if self.issued_on else None)
        if guess and ref_month and month < ref_month - 1:
            return make_date(ref_year + 1, month, day)
        return guess


@dataclass(slots=True)
class Deadline:
    """A deadline phrase and what it means; offsets index the layout text."""

    due_on: date | None
    kind: str
    phrase: str
    start: int
    end: int
    working_days: int | None = None
    calendar_days: int | None = None
    due_time: str | None = None
    day_of_month: int | None = None


Handler = Callable[[re.Match[str], DateContext], Deadline | None]


def _make(match: re.Match[str], kind: str, due: date | None, **extra: object) -> Deadline:
    return Deadline(due, kind, squash(match.group()), match.start(), match.end(), **extra)  # type: ignore[arg-type]


def _dated(kind: str) -> Handler:
    def handle(match: re.Match[str], ctx: DateContext) -> Deadline | None:
        year = int(match.group("y")) if match.group("y") else None
        due = ctx.complete(int(match.group("d")), int(match.group("m")), year)
        return _make(match, kind, due) if due else None

    return handle


def _timed(match: re.Match[str], ctx: DateContext) -> Deadline | None:
    # "trước 17h00 ngày D": due during D itself, so the date is D and the kind "by".
    deadline = _dated(BY)(match, ctx)
    hour = int(match.group("hh"))
    if deadline is None or hour > 23:
        return None
    if match.group("pm") in ("chiều", "tối") and hour < 12:
        hour += 12
    deadline.due_time = f"{hour:02d}:{int(match.group('mm') or 0):02d}"
    return deadline


def _month(match: re.Match[str], ctx: DateContext) -> Deadline | None:
    month, year = int(match.group("mo")), int(match.group("yo"))
    if not 1 <= month <= 12:
        return None
    if match.group("mkw").lower().startswith("trước"):
        return _make(match, BEFORE, date(year, month, 1))
    last = std_calendar.monthrange(year, month)[1]
    return _make(match, BY, date(year, month, last))


_QUARTERS = {"I": 1, "II": 2, "III": 3, "IV": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _quarter(match: re.Match[str], ctx: DateContext) -> Deadline | None:
    quarter, year = _QUARTERS[match.group("q").upper()], int(match.group("yq"))
    month = quarter * 3
    return _make(match, BY, date(year, month, std_calendar.monthrange(year, month)[1]))


def _term(match: re.Match[str], ctx: DateContext) -> Deadline | None:
    count = int(match.group("n"))
    working = bool(match.group("wd"))
    if not (working or match.group("term") or match.group("since")) or not 0 < count <= 365:
        return None
    base = ctx.base
    if match.group("d"):
        base = date_from_match(match, ctx.year) or base
    due = None
    if base is not None:
        due = add_working_days(base, count) if working else add_calendar_days(base, count)
    if working:
        return _make(match, BY, due, working_days=count)
    return _make(match, BY, due, calendar_days=count)


def _monthly_day(match: re.Match[str], ctx: DateContext) -> Deadline | None:
    day = int(match.group("dom"))
    if not 1 <= day <= 31:
        return None
    kind = BEFORE if match.group("dkw").lower().startswith("trước") else BY
    return _make(match, kind, None, day_of_month=day)


_RULES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(r"chậm\s+nhất\s+(?:là\s+)?trước\s+" + _ON + DATE_BODY, re.I), _dated(BEFORE)),
    (re.compile(r"(?:chậm|muộn)\s+nhất\s*(?:là\s+|vào\s+|trong\s+)*" + _TIME + _ON + DATE_BODY, re.I), _timed),
    (re.compile(r"(?:(?:chậm|muộn)\s+nhất|hạn\s+chót)\s*(?:là\s+|vào\s+|trong\s+)*" + _ON + DATE_BODY, re.I), _dated(BY)),
    (re.compile(r"trước\s+" + _TIME + _ON + DATE_BODY, re.I), _timed),
    (re.compile(r"trước\s+" + _ON + DATE_BODY, re.I), _dated(BEFORE)),
    (re.compile(r"(?:đến|tới)\s+(?:hết\s+)?ngày\s*" + DATE_BODY, re.I), _dated(BY)),
    (re.compile(r"trong\s+ngày\s*" + DATE_BODY, re.I), _dated(BY)),
    (
        re.compile(r"(?P<mkw>trong|hết|cuối|trước)\s+tháng\s*(?P<mo>\d{1,2})\s*(?:/|năm)\s*(?P<yo>(?:19|20)\d{2})"),
        _month,
    ),
    (re.compile(r"(?:trong|hết|cuối)\s+quý\s+(?P<q>IV|I{1,3}|[1-4])\s*(?:/|năm)\s*(?P<yq>(?:19|20)\d{2})", re.I), _quarter),
    (
        re.compile(
            r"trong\s+(?:(?P<term>thời\s+hạn|vòng|thời\s+gian)\s+)?(?P<n>\d{1,3})\s*(?:\([^()\n]{1,20}\)\s*)?"
            r"ngày(?P<wd>\s+làm\s+việc)?(?:\s*,?\s*(?P<since>(?:kể\s+)?từ\s+(?:ngày\s*)?)(?:" + DATE_BODY
            + r"|(?:ký|ban\s+hành|nhận\s+được)(?:\s+(?:văn\s+bản|công\s+văn|kế\s+hoạch|quyết\s+định|thông\s+báo)"
            r"(?:\s+này)?)?)?)?",
            re.I,
        ),
        _term,
    ),
    (
        re.compile(r"(?P<dkw>trước|chậm\s+nhất(?:\s+(?:vào|là))?)\s+ngày\s*(?P<dom>\d{1,2})\s+(?:hàng|hằng)\s+tháng", re.I),
        _monthly_day,
    ),
]


# Where a deadline can start; the rules above are only tried at these positions.
# (The leading lookahead is a cheap first-character filter for the scan.)
_TRIGGER_RE = re.compile(
    r"(?=[CcMmHhTtĐđ])(?:(?:[Cc]hậm|[Mm]uộn)\s+nhất|[Hh]ạn\s+chót|[Tt]rước\s+(?:ngày|tháng|\d)|(?:[Đđ]ến|[Tt]ới)\s+(?:hết\s+)?ngày"
    r"|[Tt]rong\s+(?:ngày|tháng|quý|thời\s+hạn|vòng|thời\s+gian|\d)|(?:[Hh]ết|[Cc]uối)\s+(?:tháng|quý))"
)


_TRIGGER_WORDS = ("chậm", "muộn", "hạn", "trước", "đến", "tới", "trong", "hết", "cuối")


def trigger_scan(text: str, start: int = 0, end: int | None = None) -> Scan:
    """Where deadlines may start in ``text[start:end]``, for repeated :func:`find_deadlines` calls.

    ``str.find`` on the lower-cased text locates the few words a deadline starts
    with far faster than a regex scan; the trigger pattern is then only matched there.
    """
    stop = len(text) if end is None else end
    lowered = text.lower()
    if len(lowered) != len(text):  # a letter whose lower case is longer: offsets would shift
        return Scan(_TRIGGER_RE, text, start, stop)
    positions: list[int] = []
    for word in _TRIGGER_WORDS:
        pos = lowered.find(word, start, stop)
        while pos >= 0:
            positions.append(pos)
            pos = lowered.find(word, pos + 1, stop)
    positions.sort()
    return Scan.of([m for m in (_TRIGGER_RE.match(text, p, stop) for p in positions) if m])


def find_deadlines(text: str, start: int, end: int, ctx: DateContext, triggers: Scan | None = None) -> list[Deadline]:
    """Deadlines in ``text[start:end]``, in order; where phrases overlap the longest wins."""
    kept: list[Deadline] = []
    found = triggers.within(start, end) if triggers else _TRIGGER_RE.finditer(text, start, end)
    for trigger in found:
        if kept and trigger.start() < kept[-1].end:
            continue
        best: Deadline | None = None
        for pattern, handle in _RULES:
            match = pattern.match(text, trigger.start(), end)
            if match is None or (best is not None and match.end() - match.start() <= best.end - best.start):
                continue
            deadline = handle(match, ctx)
            if deadline is not None:
                best = deadline
        if best is None:
            continue
        if ctx.issued_on and best.due_on and best.due_on < ctx.issued_on:
            continue  # a date before the directive itself is history, not a deadline
        kept.append(best)
    return kept


# --- recurrence -----------------------------------------------------------------------

_RECURRENCE_RE = re.compile(
    r"(?P<periodic>định\s+kỳ\s+)?(?:(?:hàng|hằng)\s+(?P<unit>tháng|quý|năm)"
    r"|(?:06|6|sáu)\s+tháng\s*(?:(?:một|1)\s+lần|/\s*lần)"
    r"|(?<=định kỳ )(?P<half>(?:06|6|sáu)\s+tháng))",
    re.I,
)
_PERIODIC_UNIT_RE = re.compile(r"định\s+kỳ\s+(?P<unit>tháng|quý|năm)(?![\w])", re.I)
# Work that recurs: reporting, reviewing, meeting.  "kinh phí hàng năm" (yearly funds) does not.
_RECURRING_WORK_RE = re.compile(
    r"báo\s+cáo|gửi|tổng\s+hợp|đánh\s+giá|sơ\s+kết|tổng\s+kết|kiểm\s+tra|giao\s+ban|họp|cập\s+nhật|rà\s+soát|thống\s+kê",
    re.I,
)
_ORDER = {"monthly": 0, "quarterly": 1, "semiannual": 2, "yearly": 3}
_UNITS = {"tháng": "monthly", "quý": "quarterly", "năm": "yearly"}
_WINDOW = 60




_RECURRENCE_WORDS = ("hàng ", "hằng ", "Hàng ", "Hằng ", "định kỳ", "Định kỳ", "lần")


def find_recurrence(text: str, start: int, end: int) -> str | None:
    """The most frequent period the task's work recurs on ("hàng tháng" → monthly), or None."""
    segment = text[start:end]
    if not any(word in segment for word in _RECURRENCE_WORDS):  # cheap test before the regex
        return None
    periods: list[str] = []
    for match in _RECURRENCE_RE.finditer(text, start, end):
        unit = match.group("unit")
        period = _UNITS[unit.lower()] if unit else "semiannual"
        near = text[max(start, match.start() - _WINDOW) : min(end, match.end() + _WINDOW)]
        if match.group("periodic") or _RECURRING_WORK_RE.search(near):
            periods.append(period)
    for match in _PERIODIC_UNIT_RE.finditer(text, start, end):
        periods.append(_UNITS[match.group("unit").lower()])
    return min(periods, key=_ORDER.__getitem__) if periods else None
