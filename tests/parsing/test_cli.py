"""``dondoc parse FILE [--json]`` through ``app.parsing.cli.run``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.parsing import cli

SAMPLE = Path(__file__).resolve().parent / "samples" / "quyet-dinh-dieu.txt"
ROOT = Path(__file__).resolve().parents[2]


def test_json_output_is_the_parse_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run([str(SAMPLE), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["notation"] == "845/QĐ-SYT"


def test_json_keeps_vietnamese_letters_unescaped(capsys: pytest.CaptureFixture[str]) -> None:
    cli.run(["--json", str(SAMPLE)])
    assert "Nghệ An" in capsys.readouterr().out


def test_summary_shows_notation_type_date_subject_and_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run([str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    for expected in ("845/QĐ-SYT", "quyet_dinh", "2024-03-05", "thành lập Tổ kiểm tra", "Phòng Nghiệp vụ Y", "2024-06-30"):
        assert expected in out


def test_leading_parse_word_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["parse", str(SAMPLE), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["doc_type"] == "quyet_dinh"


def test_stdin_is_read_for_dash(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("Số: 12/KH-SYT\n".encode())))
    assert cli.run(["-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["doc_type"] == "ke_hoach"


def test_non_utf8_input_is_refused_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "cp1258.txt"
    bad.write_bytes("Số: 12/SYT-VP".encode("utf-16"))
    assert cli.run([str(bad), "--json"]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_input_over_1_mb_is_refused_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (cli.MAX_INPUT_BYTES + 1))
    assert cli.run([str(big)]) == 2
    assert "over 1 MB" in capsys.readouterr().err


def test_missing_file_is_refused_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run([str(tmp_path / "nope.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_module_entry_point_prints_json() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "app.parsing", "--json", str(SAMPLE)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["signer"]["name"] == "Nguyễn Thị Hoa"
