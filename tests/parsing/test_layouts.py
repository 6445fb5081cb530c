"""Robustness to real text: tables flattened with '|', NFD, CRLF, Markdown, curly quotes."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from app.parsing import parse_directive

SAMPLES = Path(__file__).resolve().parent / "samples"
NAMES = sorted(p.name for p in SAMPLES.glob("*.txt"))


def _read(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def _without_spans(out: dict) -> dict:
    return {k: v for k, v in out.items() if k != "spans"}


def test_flattened_table_header_and_signature_are_read_by_column() -> None:
    out = parse_directive(_read("cong-van-table.txt"))
    assert (out["issuer"], out["notation"], out["place"], out["issued_on"]) == (
        "SỞ Y TẾ", "1234/SYT-NVY", "Quảng Nam", "2023-11-10",
    )
    assert out["subject"] == "báo cáo tình hình thực hiện tiêm chủng mở rộng năm 2023"
    assert out["urgency"] == "khan"
    assert out["signer"]["title"] == "PHÓ GIÁM ĐỐC" and out["signer"]["name"] == "Trần Văn Bình"
    assert out["distribution"] == ["Như trên", "Lưu: VT, NVY"]


def test_working_days_are_resolved_against_the_issue_date() -> None:
    task = parse_directive(_read("cong-van-table.txt"))["tasks"][0]
    assert task["deadline"]["due_on"] == "2023-11-17" and task["deadline"]["working_days"] == 5
    assert task["report_to"] == "Phòng Nghiệp vụ Y"


def test_markdown_table_rows_are_read_too() -> None:
    text = "| SỞ Y TẾ | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |\n|---|---|\n| Số: 12/SYT-VP | Hà Nội, ngày 05/3/2024 |\n"
    out = parse_directive(text)
    assert (out["notation"], out["place"], out["issued_on"], out["issuer"]) == ("12/SYT-VP", "Hà Nội", "2024-03-05", "SỞ Y TẾ")


@pytest.mark.parametrize("name", NAMES)
def test_nfd_text_parses_like_nfc(name: str) -> None:
    text = _read(name)
    assert _without_spans(parse_directive(unicodedata.normalize("NFD", text))) == _without_spans(parse_directive(text))


@pytest.mark.parametrize("name", NAMES)
def test_crlf_text_parses_like_lf(name: str) -> None:
    text = _read(name)
    assert _without_spans(parse_directive(text.replace("\n", "\r\n"))) == _without_spans(parse_directive(text))


@pytest.mark.parametrize("name", NAMES)
def test_spans_index_the_original_text_whatever_its_form(name: str) -> None:
    text = unicodedata.normalize("NFD", _read(name)).replace("\n", "\r\n")
    out = parse_directive(text)
    start, end = out["spans"]["subject"]
    # the span covers the subject as printed: its "V/v"/"Về việc" and any table bars included
    highlighted = unicodedata.normalize("NFC", " ".join(text[start:end].replace("|", " ").split()))
    assert out["subject"] in highlighted
    start, end = out["spans"]["signer.name"]
    assert unicodedata.normalize("NFC", text[start:end]) == out["signer"]["name"]


def test_scraped_eth_letter_reads_as_d_with_stroke() -> None:
    out = parse_directive("Số: 845/Q\u00d0-SYT\n")
    assert (out["symbol"], out["doc_type"]) == ("QĐ-SYT", "quyet_dinh")


def test_curly_and_straight_quotes_do_not_change_the_subject_boundaries() -> None:
    straight = parse_directive('Số: 1/SYT-VP\nV/v xây dựng cơ sở y tế "Xanh - Sạch - Đẹp"\n\nKính gửi: Các đơn vị\n')
    curly = parse_directive("Số: 1/SYT-VP\nV/v xây dựng cơ sở y tế “Xanh - Sạch - Đẹp”\n\nKính gửi: Các đơn vị\n")
    assert straight["subject"].replace('"', "") == curly["subject"].replace("“", "").replace("”", "")
    assert straight["recipients"] == curly["recipients"] == ["Các đơn vị"]
