"""Who does a task: lead (chủ trì), coordinating units (phối hợp), assignees, and
the unit reported to (báo cáo về ...).

Unit mentions are free text here; resolving them to Units needs the database and
happens elsewhere.  A mention ends where the verb of the clause begins ("phối hợp
các phòng/ban Cơ quan Sở Y tế | tiếp tục theo dõi ..."), so the verbs that start
a task's action are listed below; they are matched in lower case only, which keeps
proper names such as "Phòng Tổ chức cán bộ" whole.
"""

from __future__ import annotations

import re

from app.parsing.patterns import Hit, U, squash, tidy

_VERBS = (
    "tiếp tục|tổ chức|triển khai|thực hiện|tăng cường|tham mưu|theo dõi|kiểm tra|xây dựng|hướng dẫn|đôn đốc"
    "|báo cáo|tổng hợp|rà soát|đề xuất|chỉ đạo|giám sát|nghiên cứu|hoàn thành|hoàn thiện|chuẩn bị|đảm bảo"
    "|bảo đảm|quản lý|cập nhật|ban hành|trình|lập|gửi|tuyên truyền|phổ biến|soạn thảo|thẩm định|đánh giá"
    "|khẩn trương|chịu trách nhiệm|có trách nhiệm|làm việc|thống nhất|xử lý|phối hợp|đẩy mạnh|nâng cao"
    "|giải quyết|cung cấp|điều tra|thu thập|tập trung|tập huấn|phát động|duy trì|thường xuyên|kịp thời"
    "|định kỳ|hàng|hằng|nghiêm túc|quán triệt|phân công|bố trí|thành lập|kiện toàn|sắp xếp|tiếp nhận"
    "|xác định|thông báo|công bố|mua sắm|đấu thầu|vận động|phải|cần|được|để|nhằm|theo|trước|chậm nhất"
    "|trong thời hạn|trong ngày|kể từ|đến ngày|về việc|căn cứ|chủ trì|làm đầu mối|là đơn vị|sớm|chủ động"
    "|tiến hành|hoàn tất|tham gia|thực thi|có ý kiến|đề nghị|yêu cầu|lựa chọn|liên hệ|nộp|cử"
)
_VERB_RE = re.compile(rf"\s(?:{_VERBS})(?![\w])")
# "phòng tổ chức cán bộ", "ban quản lý dự án": after these nouns a "verb" is part of the name.
_NAME_NOUN_RE = re.compile(r"(?:^|\s)(?:phòng|ban|khoa|tổ|đội|cục|vụ|trung\s+tâm|bộ\s+phận|chi\s+cục)$", re.I)
_STOP_PUNCT_RE = re.compile(r"[:;.()\n]|\s[-–]\s(?=[a-zđ])")

# A phrase that names a unit or an office holder, not an object ("báo cáo tóm tắt").
_UNIT_HEAD_RE = re.compile(
    r"^(?:các\s+|cho\s+|tới\s+|toàn\s+thể\s+|lãnh\s+đạo\s+)?(?:sở|văn\s+phòng|phòng|ban|ủy\s+ban|uỷ\s+ban|ubnd|hđnd"
    r"|bộ|cục|tổng\s+cục|vụ|trung\s+tâm|bệnh\s+viện|trạm|khoa|giám\s+đốc|phó\s+giám\s+đốc|lãnh\s+đạo|thường\s+trực"
    r"|hội\s+đồng|chủ\s+tịch|thủ\s+trưởng|trưởng|chánh|thanh\s+tra|chi\s+cục|tổ(?!\s+chức)|đoàn|công\s+đoàn|đơn\s+vị"
    r"|cơ\s+quan|cơ\s+sở|tỉnh\s+ủy|tỉnh\s+uỷ|huyện\s+ủy|huyện\s+uỷ|đảng\s+ủy|đảng\s+uỷ|chi\s+bộ|viện|trường"
    r"|hội|đội|nhóm|bộ\s+phận|người\s+đứng\s+đầu|ttyt|syt|byt|bch|bcđ|kế\s+toán|bác\s+sĩ|cán\s+bộ|phó)(?![\w])",
    re.I,
)
_SPLIT_RE = re.compile(r",\s+|;\s+|\s+và\s+")
_NEW_UNIT_RE = re.compile(rf"^(?:{U}|các\s|những\s|mọi\s)")


def is_unit(text: str) -> bool:
    """Whether a phrase starts like a unit or an office holder's name."""
    return bool(_UNIT_HEAD_RE.match(text.strip()))


def unit_phrase(text: str, start: int, end: int) -> Hit[str] | None:
    """The unit mention starting at ``start``: up to the clause's verb or punctuation."""
    limit = end
    stop = _STOP_PUNCT_RE.search(text, start, limit)
    if stop:
        limit = stop.start()
    for verb in _VERB_RE.finditer(text, start, limit):
        if not _NAME_NOUN_RE.search(text, start, verb.start()):
            limit = verb.start()
            break
    value = tidy(text[start:limit])
    if not value or len(value.split()) > 20:
        return None
    return Hit(value, start, start + len(text[start:limit].rstrip(" ,;")))


def split_units(phrase: str) -> list[str]:
    """"Văn phòng Sở, các phòng chuyên môn và Thanh tra Sở" → three mentions.

    A comma only separates when the next word starts a new name (capitalised, or
    "các"/"những"): "các khoa, phòng, trạm y tế" stays one mention.
    """
    parts: list[str] = []
    pos = 0
    for sep in _SPLIT_RE.finditer(phrase):
        nxt = phrase[sep.end() :]
        if _NEW_UNIT_RE.match(nxt) and phrase[pos : sep.start()].strip():
            parts.append(phrase[pos : sep.start()])
            pos = sep.end()
    parts.append(phrase[pos:])
    return [p for p in (tidy(squash(x)) for x in parts) if p]


# --- lead and coordinating ----------------------------------------------------------

_ROLE = r"(?P<role>chủ\s+trì|làm\s+đầu\s+mối|là\s+đầu\s+mối)(?![\w])"
_GIAO_LEAD_RE = re.compile(
    r"(?:^|(?<=[\s(]))[Gg]iao\s+(?:cho\s+)?(?P<lead>[^.;:\n]{2,160}?)\s*,?\s*(?:là\s+(?:đơn\s+vị\s+)?)?" + _ROLE
)
_SUBJECT_LEAD_RE = re.compile(
    r"(?:^|(?<=[.;:]\s))(?P<lead>[^.;:\n]{2,160}?)\s*,?\s*(?:là\s+(?:đơn\s+vị\s+)?)?" + _ROLE
)
_COORDINATING_RE = re.compile(
    r"(?:chủ\s+trì|đầu\s+mối)\s*,?\s*(?:và\s+)?(?:có\s+trách\s+nhiệm\s+)?phối\s+hợp\s+(?:với\s+)?", re.I
)
_GIAO_RE = re.compile(r"^[Gg]iao\s+(?:cho\s+)?")


def find_lead(text: str, start: int, end: int) -> tuple[Hit[str] | None, Hit[str] | None]:
    """(lead, coordinating) from "Giao X chủ trì, phối hợp (với) Y ..." or "X chủ trì, ..."."""
    seg = text[start:end]
    if "chủ trì" not in seg and "đầu mối" not in seg:  # cheap test before the regexes
        return None, None
    match = _GIAO_LEAD_RE.search(seg) or _SUBJECT_LEAD_RE.search(seg)
    if not match:
        return None, None
    lead_text = tidy(match.group("lead"))
    if not is_unit(lead_text) or len(lead_text.split()) > 20:
        return None, None
    lead = Hit(lead_text, start + match.start("lead"), start + match.start("lead") + len(lead_text))
    coordinating = None
    after = _COORDINATING_RE.match(seg, match.start("role"))
    if after:
        coordinating = unit_phrase(text, start + after.end(), end)
    return lead, coordinating


def find_assigned(text: str, start: int, end: int) -> Hit[str] | None:
    """The unit a task is addressed to when it opens the sentence ("Các đơn vị ... báo cáo ...")."""
    giao = _GIAO_RE.match(text[start:end])
    if giao:
        start += giao.end()
    if not is_unit(text[start : min(end, start + 40)]):
        return None
    return unit_phrase(text, start, end)


# --- addressee of the introduction ------------------------------------------------------

_ADDRESSEE_RE = re.compile(r"(?:đề\s+nghị|yêu\s+cầu|giao)\s+(?:cho\s+)?", re.I)


def find_addressee(text: str, start: int, end: int) -> Hit[str] | None:
    """Who the intro sentence asks to act ("đề nghị Thủ trưởng các đơn vị ... thực hiện ... sau:")."""
    for match in _ADDRESSEE_RE.finditer(text, start, end):
        if is_unit(text[match.end() : min(end, match.end() + 40)]):
            return unit_phrase(text, match.end(), end)
    return None


# --- report to ------------------------------------------------------------------------

_REPORT_VERB_RE = re.compile(r"(?=[BbGgNnCc])(?:[Bb]áo\s+cáo|[Gg]ửi|[Nn]ộp|[Cc]huyển)(?![\w])")
_TOWARDS_RE = re.compile(r"(?:^|\s)(?:về|cho|tới|đến|lên)\s+", re.I)
_VIA_RE = re.compile(r"\(\s*qua\s+(?P<via>[^()]{2,80})\)", re.I)
_CLAUSE_RE = re.compile(r"[.;!?]\s|\n[ ]*(?=[-+•])")


_REPORT_WORDS = ("báo cáo", "Báo cáo", "gửi", "Gửi", "nộp", "Nộp", "chuyển", "Chuyển")


def find_report_to(text: str, start: int, end: int, anchor: int | None = None) -> Hit[str] | None:
    """The unit reports go to, looked for in the clause before ``anchor`` (a deadline).

    "báo cáo ... về Sở Y tế (qua phòng Tổ chức cán bộ)" → the office it goes through;
    "báo cáo Giám đốc Sở Y tế, Thường trực ..." → the first one named.  Without a
    deadline, the first report the task asks for.
    """
    stop = anchor if anchor is not None else end
    segment = text[start:stop]
    if not any(word in segment for word in _REPORT_WORDS):  # cheap test before any regex scan
        return None
    if anchor is None:
        verbs = list(_REPORT_VERB_RE.finditer(text, start, stop))
    else:
        clause_start = start
        for sep in _CLAUSE_RE.finditer(text, start, stop):
            clause_start = sep.end()
        # the report nearest the deadline is the one it governs
        verbs = list(reversed(list(_REPORT_VERB_RE.finditer(text, clause_start, stop))))
    for verb in verbs:
        hit = _recipient_after(text, verb.end(), stop)
        if hit:
            return hit
    return None


def _recipient_after(text: str, start: int, stop: int) -> Hit[str] | None:
    direct = start + len(text[start:stop]) - len(text[start:stop].lstrip())
    candidates = [direct]
    candidates += [m.end() for m in _TOWARDS_RE.finditer(text, start, stop)]
    for pos in candidates:
        if not is_unit(text[pos : min(stop, pos + 40)]):
            continue
        phrase = unit_phrase(text, pos, stop)
        if phrase is None:
            continue
        via = _VIA_RE.match(text, phrase.end + (len(text[phrase.end :]) - len(text[phrase.end :].lstrip())))
        if via and is_unit(via.group("via")):
            first = split_units(tidy(via.group("via")))[0]
            return Hit(first, via.start("via"), via.start("via") + len(first))
        first = split_units(phrase.value)[0]
        return Hit(first, phrase.start, phrase.start + len(first))
    return None
