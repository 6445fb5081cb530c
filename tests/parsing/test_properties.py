"""Property-based: the parser never raises and always returns schema-valid output."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.parsing import ParseResult, parse_directive

# Fragments of real directives, so generated text reaches the deeper rules.
FRAGMENTS = [
    "Số: 2206/SYT-VP", "Số: /SYT-KHTC", "Số 477-KL/TU", "V/v ", "Kính gửi:", "Nơi nhận:", "- Như trên;",
    "Thanh Hóa, ngày 28 tháng 8 năm 2018", "ngày tháng 01 năm 2024", "KẾ HOẠCH", "QUYẾT ĐỊNH", "Điều 1.",
    "I. ", "1. ", "2.1. ", "a) ", "- ", "+ ", "Giao Văn phòng Sở chủ trì, phối hợp các phòng ", "trước ngày 10/11/2018",
    "chậm nhất vào ngày 31/2/2024", "trong thời hạn 05 ngày làm việc kể từ ngày ký", "hàng tháng", "định kỳ 6 tháng",
    "báo cáo về Sở Y tế (qua Văn phòng Sở)", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trịnh Hữu Hùng", "KHẨN", "HỎA TỐC",
    " | ", "|", "**", "*", "\n", "\n\n", "\r\n", "Căn cứ Công văn số 422 /SYT-VP ngày 01/3/2018", "QĐ-QLKTTWngày",
    "trong tháng 13 năm 2024", "trước ngày 25 hàng tháng", "trong quý IV/2023", "(", ")", "“", "”", "e\u0302\u0323",
]

text_strategy = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=60).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_strategy)
def test_parse_never_raises_and_is_schema_valid(text: str) -> None:
    out = parse_directive(text)
    assert ParseResult.model_validate(out).model_dump(mode="json") == out


@settings(max_examples=200, deadline=None)
@given(text_strategy)
def test_spans_lie_inside_the_input(text: str) -> None:
    out = parse_directive(text)
    for start, end in out["spans"].values():
        assert 0 <= start <= end <= len(text)


def test_hostile_input_is_parsed_in_linear_time() -> None:
    # Long runs that could make a backtracking regex explode.
    samples = [
        "Giao " + "các phòng " * 20_000,
        "Số: " + "1" * 50_000,
        "A" * 100_000,
        ("- " + "x" * 50 + "\n") * 5_000,
        "trước ngày " * 10_000,
        " |" * 50_000,
        "V/v " + "a, " * 30_000,
    ]
    for text in samples:
        started = time.perf_counter()
        parse_directive(text)
        assert time.perf_counter() - started < 2.0, text[:40]
