"""Question-set loading: clear errors with line numbers, and the shipped set's promises."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.evaluation.dataset import DatasetError, load_questions, load_squad, load_translations
from app.evaluation.metrics import fact_in
from tests.conftest import SHARED_DATA

QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"
SEEDS = PROJECT_ROOT / "seeds"

GOOD = {"id": "q1", "question": "Where?", "lang": "en", "answerable": True,
        "sources": ["000"], "facts": [["Bucharest", "بوخارست"]]}


def write_lines(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def line(**changes) -> str:
    item = {**GOOD, **changes}
    return json.dumps({k: v for k, v in item.items() if v is not ...}, ensure_ascii=False)


def error_of(path: Path) -> str:
    with pytest.raises(DatasetError) as info:
        load_questions([path])
    return str(info.value)


def test_loads_questions_with_follow_ups(tmp_path):
    path = write_lines(tmp_path, line(), "", line(id="q2", question="And when?", follows="q1", tags=["follow-up"]))
    first, second = load_questions([path])
    assert first.facts == (("Bucharest", "بوخارست"),)
    assert second.follows == "q1" and second.tags == ("follow-up",) and second.line == 3


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ('{"id": "q2", "question": ', "invalid JSON"),
        (line(id="q2", lang="fr"), "'lang' must be one of ar, en"),
        (line(id="q2", facts=...), "missing field(s): facts"),
        (line(id="q2", answerabel=True), "unknown field(s): answerabel"),
        (line(id="q2", facts=["Bucharest"]), "'facts[0]' must be a list"),
        (line(id="q2", answerable=False), "unanswerable question cannot list 'facts'"),
        (line(id="q2", sources=[]), "needs 'sources' and 'facts'"),
        (line(id="q2", follows="q9"), "'follows' must name an earlier question"),
        (line(), "duplicate id 'q1'"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
def test_a_malformed_line_is_named_by_its_number(tmp_path, bad, expected):
    path = write_lines(tmp_path, line(), bad)
    message = error_of(path)
    assert f"{path}:2:" in message
    assert expected in message


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (line(id="q2", answered=True, why="x"), "unknown field(s): answered, why"),
        (line(id="q2", answerable="yes"), "'answerable' must be true or false"),
        (line(id="q2", sources=["000", " "]), "'sources[1]' must be a non-empty string"),
        (line(id="q2", facts=[[]]), "'facts[0]' must be a non-empty list"),
        (line(id="q2", tags="number"), "'tags' must be a list"),
        (line(id=7), "'id' must be a string"),
        (line(id="q2", question=None, note=3), "'question' must be a string; 'note' must be a string"),
    ],
)
def test_an_unknown_field_or_a_wrong_type_is_named(tmp_path, bad, expected):
    path = write_lines(tmp_path, line(), bad)
    message = error_of(path)
    assert message.startswith(f"{path}:2: ") and expected in message
    assert "\n" not in message  # one line, whatever pydantic found


def test_duplicate_id_points_at_the_first_one(tmp_path):
    path = write_lines(tmp_path, line(), line(question="again"))
    assert f"first at {path}:1" in error_of(path)


def test_empty_or_unreadable_files(tmp_path):
    assert "no questions" in error_of(write_lines(tmp_path, "", ""))
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes("é".encode("latin-1"))
    assert "cannot read" in error_of(bad)
    assert "cannot read" in error_of(tmp_path / "missing.jsonl")


def test_squad_loader(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [
        {"context": "ولد في المدينة المنورة عام 1958.", "qas": [
            {"id": "1", "question": "أين ولد؟", "answers": [{"text": "المدينة المنورة", "answer_start": 6}]}]}]}]},
        ensure_ascii=False), encoding="utf-8")
    data = load_squad(path)
    assert data.paragraphs == ["ولد في المدينة المنورة عام 1958."]
    assert data.questions[0].answers == ("المدينة المنورة",) and data.questions[0].paragraph == 0
    path.write_text('{"version": 1}', encoding="utf-8")
    with pytest.raises(DatasetError, match="no top-level 'data'"):
        load_squad(path)
    path.write_text('{"data": [\n{"paragraphs": [}\n]}', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"s\.json:2: invalid JSON"):
        load_squad(path)


@pytest.mark.parametrize(("lines", "message"), [
    (['{"id": "2", "question": "Where?"}'], r"t\.jsonl:1: no question '2' in the SQuAD set"),
    (['{"id": "1", "question": "Where?"}', "", '{"id": "1", "question": "Where?"}'],
     r"t\.jsonl:3: question '1' translated twice"),
    (['{"id": "1", "question": "  "}'], r"t\.jsonl:1: .*question"),
    (['{"id": "1", "q": "Where?"}'], r"t\.jsonl:1: missing field\(s\): question; unknown field\(s\): q"),
    (["{not json"], r"t\.jsonl:1: invalid JSON"),
    ([""], r"t\.jsonl: no translations"),
])
def test_translations_are_checked_line_by_line(tmp_path, lines, message):
    squad = tmp_path / "s.json"
    squad.write_text(json.dumps({"data": [{"paragraphs": [{"context": "ولد في المدينة.", "qas": [
        {"id": "1", "question": "أين ولد؟", "answers": [{"text": "المدينة"}]}]}]}]}), encoding="utf-8")
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        load_translations(path, load_squad(squad))


def test_an_unreadable_translations_file_is_named(tmp_path):
    squad = tmp_path / "s.json"
    squad.write_text(json.dumps({"data": [{"paragraphs": [{"context": "ولد في المدينة.", "qas": [
        {"id": "1", "question": "أين ولد؟", "answers": [{"text": "المدينة"}]}]}]}]}), encoding="utf-8")
    latin1 = tmp_path / "t.jsonl"
    latin1.write_bytes('{"id": "1", "question": "Où est-il né ?"}'.encode("latin-1"))
    for path in (latin1, tmp_path / "missing.jsonl", tmp_path):
        with pytest.raises(DatasetError, match=rf"{re.escape(str(path))}: cannot read"):
            load_translations(path, load_squad(squad))


def test_shipped_arcd_translations_cover_every_question():
    """evals/arcd_en.jsonl: every ARCD question once, in English (no Arabic letters left)."""
    arcd = SHARED_DATA / "arcd" / "arcd-train.json"
    if not arcd.exists():
        pytest.skip("../shared/data/arcd is not beside the repo")
    data = load_squad(arcd)
    translated = load_translations(PROJECT_ROOT / "evals" / "arcd_en.jsonl", data).questions
    assert set(translated) == {q.id for q in data.questions}
    assert not [q for q in translated.values() if re.search(r"[\u0600-\u06ff]", q)]


# --- the shipped question set -------------------------------------------------------------------

@pytest.fixture(scope="module")
def questions():
    return load_questions([QUESTIONS])


def test_question_set_size_languages_and_coverage(questions):
    assert len(questions) >= 60
    langs = Counter(q.lang for q in questions)
    assert langs["en"] / len(questions) >= 0.4
    assert sum(not q.answerable for q in questions) >= 10
    covered = {s for q in questions for s in q.sources}
    assert covered == {p.stem for p in SEEDS.glob("*.txt")}
    tags = Counter(t for q in questions for t in q.tags)
    for kind in ("number", "date", "name", "place", "quotation", "list", "multi", "follow-up", "chrome"):
        assert tags[kind] >= 2, kind
    assert all(len(q.sources) >= 2 for q in questions if "multi" in q.tags)
    assert all(q.follows for q in questions if "follow-up" in q.tags)


def test_every_expected_fact_is_in_a_gold_article(questions):
    """A typo in a fact would silently mark right answers wrong."""
    texts = {p.stem: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    for q in questions:
        for fact in q.facts:
            assert any(fact_in(texts[s], fact) for s in q.sources), (q.id, fact)

