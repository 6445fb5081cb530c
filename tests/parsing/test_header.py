"""Header block: number and symbol, type, place and date, issuer, urgency, subject, recipients."""

from __future__ import annotations

import pytest

from app.parsing import parse_directive

HEADER = """UBND TỈNH THANH HÓA
SỞ Y TẾ

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập – Tự do – Hạnh phúc

Số: {number}

{date_line}

V/v kiểm tra công tác y tế

Kính gửi: Các đơn vị trực thuộc
"""


def _header(number: str = "2206/SYT-VP", date_line: str = "Thanh Hóa, ngày 28 tháng 8 năm 2018") -> dict:
    return parse_directive(HEADER.format(number=number, date_line=date_line))


@pytest.mark.parametrize(
    ("printed", "number", "symbol", "doc_type"),
    [
        ("2206/SYT-VP", "2206", "SYT-VP", "cong_van"),
        ("**1576**/SYT-VP", "1576", "SYT-VP", "cong_van"),
        ("**20** /KH-SYT", "20", "KH-SYT", "ke_hoach"),
        ("845/QĐ-SYT", "845", "QĐ-SYT", "quyet_dinh"),
        ("12/CT-UBND", "12", "CT-UBND", "chi_thi"),
        ("56/TB-BV", "56", "TB-BV", "thong_bao"),
        ("7/HD-SYT", "7", "HD-SYT", "huong_dan"),
        ("3/CTr-SYT", "3", "CTr-SYT", "chuong_trinh"),
        ("90/BC-SYT", "90", "BC-SYT", "bao_cao"),
        ("5/TTr-SYT", "5", "TTr-SYT", "to_trinh"),
        ("12/NQ-HĐND", "12", "NQ-HĐND", "nghi_quyet"),
        ("12/2024/QĐ-UBND", "12", "QĐ-UBND", "quyet_dinh"),
        ("477-KL/TU", "477", "KL/TU", "ket_luan"),
        ("   /SYT-KHTC", None, "SYT-KHTC", "cong_van"),
        ("....../CV-TTYT", None, "CV-TTYT", "cong_van"),
    ],
)
def test_number_symbol_and_type_come_from_the_notation(printed: str, number: str | None, symbol: str, doc_type: str) -> None:
    out = _header(number=printed)
    assert (out["number"], out["symbol"], out["doc_type"]) == (number, symbol, doc_type)


def test_blank_number_leaves_the_notation_null() -> None:
    assert _header(number="/SYT-KHTC")["notation"] is None


def test_party_notation_keeps_its_hyphen() -> None:
    assert _header(number="477-KL/TU")["notation"] == "477-KL/TU"


def test_scraped_symbol_stops_before_a_glued_word() -> None:
    out = parse_directive("Số: 12/QĐ-QLKTTWngày 10/11/2018\n")
    assert out["symbol"] == "QĐ-QLKTTW"


@pytest.mark.parametrize(
    ("line", "issued_on"),
    [
        ("Thanh Hóa, ngày 28 tháng 8 năm 2018", "2018-08-28"),
        ("Thanh Hóa, ngày 28/8/2018", "2018-08-28"),
        ("Thanh Hóa, ngày 28-08-2018", "2018-08-28"),
        ("Thanh Hóa, ngày 05 tháng 03 năm 2018", "2018-03-05"),
        ("Thanh Hóa, ngày **07** tháng 02 năm 2020", "2020-02-07"),
        ("Thanh Hóa, ngày   tháng 01 năm 2024", None),
        ("Thanh Hóa, ngày 31 tháng 02 năm 2024", None),
    ],
)
def test_issue_date_is_read_in_every_written_form(line: str, issued_on: str | None) -> None:
    out = _header(date_line=line)
    assert out["issued_on"] == issued_on
    assert out["place"] == "Thanh Hóa"


def test_lower_case_place_is_capitalised() -> None:
    assert _header(date_line="Lai châu, ngày 07 tháng 02 năm 2020")["place"] == "Lai Châu"


def test_issuer_is_the_last_line_above_the_motto() -> None:
    out = _header()
    assert out["issuer"] == "SỞ Y TẾ"
    assert out["issuer_lines"] == ["UBND TỈNH THANH HÓA", "SỞ Y TẾ"]


@pytest.mark.parametrize(
    ("mark", "urgency"),
    [("KHẨN", "khan"), ("THƯỢNG KHẨN", "thuong_khan"), ("HỎA TỐC", "hoa_toc"), ("HOẢ TỐC", "hoa_toc"), ("", None)],
)
def test_urgency_mark_is_read(mark: str, urgency: str | None) -> None:
    text = f"SỞ Y TẾ\nSố: 12/SYT-VP\n{mark}\nV/v khẩn trương báo cáo\n\nĐề nghị các đơn vị khẩn trương thực hiện.\n"
    assert parse_directive(text)["urgency"] == urgency


def test_subject_wrapped_over_lines_is_joined() -> None:
    text = "Số: /CV-TTYT  \nV/v báo cáo công tác y tế năm  \n2023, xây dựng kế hoạch\n\nThiệu Hóa, ngày tháng 12 năm 2023\n"
    assert parse_directive(text)["subject"] == "báo cáo công tác y tế năm 2023, xây dựng kế hoạch"


def test_plan_subject_is_the_title_under_the_heading() -> None:
    text = "Số: 20/KH-SYT\nLai Châu, ngày 07 tháng 02 năm 2020\n\nKẾ HOẠCH\n\nTriển khai công tác y tế năm 2020\n\nThực hiện Kế hoạch số 1/KH-BYT.\n"
    out = parse_directive(text)
    assert out["subject"] == "Triển khai công tác y tế năm 2020"
    assert out["doc_type"] == "ke_hoach"


def test_decision_title_drops_ve_viec() -> None:
    text = "Số: 845/QĐ-SYT\n\nQUYẾT ĐỊNH\nVề việc thành lập Tổ kiểm tra\n\nGIÁM ĐỐC SỞ Y TẾ\n\nCăn cứ Luật Khám bệnh, chữa bệnh;\n"
    assert parse_directive(text)["subject"] == "thành lập Tổ kiểm tra"


def test_recipients_listed_as_bullets_are_split() -> None:
    text = "Số: /SYT-KHTC\nV/v triển khai\n\nKính gửi:\n\n- Văn phòng, các phòng chuyên môn;\n- Các đơn vị trực thuộc.\n\nCăn cứ ...\n"
    assert parse_directive(text)["recipients"] == ["Văn phòng, các phòng chuyên môn", "Các đơn vị trực thuộc"]


def test_single_line_recipient_is_not_split_on_commas() -> None:
    assert _header()["recipients"] == ["Các đơn vị trực thuộc"]


def test_empty_text_gives_an_empty_result() -> None:
    out = parse_directive("")
    assert out["number"] is None and out["tasks"] == [] and out["signer"] is None
