"""Tasks: items, leads and coordinating units, assignees, report-to, signer and distribution."""

from __future__ import annotations

from pathlib import Path

from app.parsing import parse_directive

SAMPLES = Path(__file__).resolve().parent / "samples"


def _sample(name: str) -> dict:
    return parse_directive((SAMPLES / name).read_text(encoding="utf-8"))


def test_giao_sentence_gives_lead_and_coordinating() -> None:
    out = parse_directive("- Giao Văn phòng Sở chủ trì, phối hợp các phòng/ban Cơ quan Sở Y tế tiếp tục theo dõi, đôn đốc.")
    task = out["tasks"][0]
    assert (task["lead"], task["coordinating"]) == (["Văn phòng Sở"], ["các phòng/ban Cơ quan Sở Y tế"])


def test_unit_chu_tri_without_giao_is_a_lead() -> None:
    out = _sample("chi-thi-party.txt")
    assert out["tasks"][0]["lead"] == ["Ban Tuyên giáo Tỉnh ủy"]
    assert out["tasks"][0]["coordinating"] == ["Sở Y tế"]


def test_subject_unit_of_an_item_is_its_assignee() -> None:
    out = parse_directive("1. Khoa Khám bệnh rà soát quy trình đón tiếp, hoàn thành trước ngày 15/4/2024.")
    assert out["tasks"][0]["assignees"] == ["Khoa Khám bệnh"]


def test_intro_addressee_is_the_default_assignee() -> None:
    text = (
        "Giám đốc đề nghị các khoa, phòng, trạm y tế các xã, thị trấn khẩn trương thực hiện một số nội dung sau:\n\n"
        "1. Tổ chức họp tổng kết, hoàn thành trước ngày 20/12/2023.\n"
    )
    assert parse_directive(text)["tasks"][0]["assignees"] == ["các khoa, phòng, trạm y tế các xã, thị trấn"]


def test_report_to_prefers_the_office_it_goes_through() -> None:
    text = "1. Các đơn vị báo cáo kết quả về Sở Y tế (qua phòng tổ chức cán bộ) trước ngày 20/11/2020./."
    task = parse_directive(text)["tasks"][0]
    assert task["report_to"] == "phòng tổ chức cán bộ"


def test_report_to_is_the_first_office_holder_named() -> None:
    text = "- Tổng hợp kết quả; báo cáo Giám đốc Sở Y tế, Thường trực Hội đồng thi đua trước ngày 15/11/2018."
    assert parse_directive(text)["tasks"][0]["report_to"] == "Giám đốc Sở Y tế"


def test_heading_item_gives_its_paragraph_and_unit() -> None:
    text = (
        "III. TỔ CHỨC THỰC HIỆN\n\n5. Các đơn vị trực thuộc\n\n"
        "Căn cứ Kế hoạch này, báo cáo kết quả về Sở Y tế trước ngày 20/11/2020./.\n"
    )
    task = parse_directive(text)["tasks"][0]
    assert task["ordinal"] == "III.5"
    assert task["assignees"] == ["Các đơn vị trực thuộc"]
    assert task["deadline"]["due_on"] == "2020-11-20"


def test_purpose_sections_give_no_tasks() -> None:
    text = "I. MỤC ĐÍCH, YÊU CẦU\n\n1. Mục đích\n\n- Nâng cao nhận thức trước ngày 10/10/2020.\n"
    assert parse_directive(text)["tasks"] == []


def test_sub_bullets_stay_in_their_item() -> None:
    text = "1. Giao Văn phòng Sở Y tế chủ trì, phối hợp các đơn vị liên quan:\n - Tham mưu A;\n - Tham mưu B.\n"
    tasks = parse_directive(text)["tasks"]
    assert len(tasks) == 1 and "Tham mưu B" in tasks[0]["text"]


def test_sub_items_with_their_own_deadlines_become_tasks() -> None:
    text = "1. Phòng Nghiệp vụ Y:\n- Báo cáo sơ kết trước ngày 15/6/2024;\n- Báo cáo tổng kết trước ngày 15/12/2024.\n"
    tasks = parse_directive(text)["tasks"]
    assert [t["deadline"]["due_on"] for t in tasks] == ["2024-06-15", "2024-12-15"]
    assert tasks[0]["ordinal"] == "1.1"


def test_article_in_force_clause_is_not_a_task() -> None:
    out = _sample("quyet-dinh-dieu.txt")
    assert [t["ordinal"] for t in out["tasks"]] == ["Điều 1", "Điều 2", "Điều 4"]
    assert out["tasks"][1]["lead"] == ["Phòng Nghiệp vụ Y"]
    assert out["tasks"][1]["deadline"] == {
        "due_on": "2024-06-30", "kind": "by", "phrase": "chậm nhất ngày 30/6/2024", "working_days": None,
        "calendar_days": None, "due_time": None, "day_of_month": None,
    }


def test_decision_references_come_from_can_cu_lines() -> None:
    out = _sample("quyet-dinh-dieu.txt")
    assert [(r["notation"], r["doc_type"]) for r in out["references"]] == [
        ("12/2021/QĐ-UBND", "quyet_dinh"), ("77/KH-SYT", "ke_hoach"),
    ]


def test_kt_signer_takes_the_last_title() -> None:
    signer = _sample("quyet-dinh-dieu.txt")["signer"]
    assert signer == {"title": "PHÓ GIÁM ĐỐC", "name": "Nguyễn Thị Hoa", "authority": ["KT. GIÁM ĐỐC"]}


def test_signer_without_title_has_null_title() -> None:
    text = "Nơi nhận:\n- Như trên;\n- Lưu: VT, VP.\n\n\n\nTrịnh Hữu Hùng"
    out = parse_directive(text)
    assert out["signer"] == {"title": None, "name": "Trịnh Hữu Hùng", "authority": []}
    assert out["distribution"] == ["Như trên", "Lưu: VT, VP"]


def test_notice_reads_tl_signer_and_month_deadline() -> None:
    out = _sample("thong-bao.txt")
    assert (out["doc_type"], out["issued_on"]) == ("thong_bao", "2024-04-02")
    assert out["signer"]["title"] == "CHÁNH VĂN PHÒNG"
    assert out["tasks"][1]["deadline"]["due_on"] == "2024-04-30"
    assert out["tasks"][2]["recurrence"] == "semiannual"


def test_party_directive_reads_party_notation_and_urgency() -> None:
    out = _sample("chi-thi-party.txt")
    assert (out["notation"], out["doc_type"], out["urgency"], out["issuer"]) == ("15-CT/TU", "chi_thi", "hoa_toc", "TỈNH ỦY")
    assert out["references"][0]["notation"] == "12-KL/TW"
    assert out["tasks"][1]["report_to"] == "Văn phòng Tỉnh ủy"
    assert out["tasks"][1]["recurrence"] == "quarterly"
