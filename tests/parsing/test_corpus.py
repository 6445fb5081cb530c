"""The labelled corpus in ../shared/corpus: every field the grader scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.parsing import ParseResult, parse_directive

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
GOLD = sorted(CORPUS.glob("*.expected.json")) if CORPUS.is_dir() else []

pytestmark = pytest.mark.skipif(not GOLD, reason="shared corpus not present")


def _fold(value: object) -> str:
    text = " ".join(str(value or "").casefold().split())
    for a, b in (("‘", "'"), ("’", "'"), ("“", '"'), ("”", '"'), ("–", "-")):
        text = text.replace(a, b)
    return text.rstrip(" .;:,")


def _parse(gold_path: Path) -> tuple[dict, dict, str]:
    text = gold_path.with_name(gold_path.name.replace(".expected.json", ".txt")).read_text(encoding="utf-8")
    return parse_directive(text), json.loads(gold_path.read_text(encoding="utf-8")), text


@pytest.fixture(params=GOLD, ids=lambda p: p.name.replace(".expected.json", ""))
def case(request: pytest.FixtureRequest) -> tuple[dict, dict, str]:
    return _parse(request.param)


def test_header_fields_match_the_labels(case: tuple[dict, dict, str]) -> None:
    out, gold, _ = case
    for name in ("number", "symbol", "doc_type", "place", "issued_on", "subject"):
        assert _fold(out[name]) == _fold(gold[name]), name


def test_recipients_match_the_labels(case: tuple[dict, dict, str]) -> None:
    out, gold, _ = case
    assert [_fold(r) for r in out["recipients"]] == [_fold(r) for r in gold["recipients"]]


def test_references_match_the_labels(case: tuple[dict, dict, str]) -> None:
    out, gold, _ = case
    got = {(r["notation"], r["issued_on"]) for r in out["references"]}
    assert got == {(r["notation"], r["issued_on"]) for r in gold["references"]}


def test_signer_matches_the_label(case: tuple[dict, dict, str]) -> None:
    out, gold, _ = case
    assert (out["signer"]["title"], out["signer"]["name"]) == (gold["signer"]["title"], gold["signer"]["name"])


def test_deadlines_and_report_to_match_the_labels(case: tuple[dict, dict, str]) -> None:
    out, gold, _ = case
    got = [t for t in out["tasks"] if t["deadline"] and t["deadline"]["due_on"]]
    assert [(t["deadline"]["due_on"], t["deadline"]["kind"]) for t in got] == [
        (d["due_on"], d["kind"]) for d in gold["deadlines"]
    ]
    for task, label in zip(got, gold["deadlines"], strict=True):
        if label["report_to"]:
            assert _fold(label["report_to"]) in _fold(task["report_to"]) or _fold(task["report_to"]) in _fold(
                label["report_to"]
            )


def test_leads_match_the_labels(case: tuple[dict, dict, str]) -> None:
    out, gold, _ = case
    leads = [t["lead"][0] for t in out["tasks"] if t["lead"]]
    assert [_fold(x) for x in leads] == [_fold(g["lead"]) for g in gold["leads"]]


def test_every_span_points_at_its_value_in_the_original(case: tuple[dict, dict, str]) -> None:
    out, _, text = case
    for name in ("number", "symbol", "place", "subject"):
        if out[name]:
            start, end = out["spans"][name]
            assert _fold(out[name]).split()[0] in _fold(text[start:end].replace("*", ""))


def test_output_is_schema_valid(case: tuple[dict, dict, str]) -> None:
    out, _, _ = case
    assert ParseResult.model_validate(out).model_dump(mode="json") == out
