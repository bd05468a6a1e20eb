"""The feedback file: one vote per answer per visitor, a changed vote replaces the earlier
one, the file stays within its size (rotation), and nothing written names a server path."""

from __future__ import annotations

import json
from pathlib import Path

from app.feedback import read_feedback, record_feedback
from tests.conftest import make_settings

ANSWER = {
    "answer": "حارس القطب الشمالي مبادرة للناتو [1]",
    "mode": "extractive",
    "found": True,
    "citations": [
        {"n": 1, "source": "/srv/newsqa/corpus/arctic.txt", "title": "t", "date": "", "text": "نص", "score": 0.9},
    ],
}


def _vote(settings, voter: str, answer_id: str, rating: str, question: str = "ما هي المبادرة؟") -> bool:
    return record_feedback(
        settings, voter=voter, answer_id=answer_id, question=question, answer=ANSWER, rating=rating, channel="web"
    )


def test_a_repeated_vote_is_written_once_and_a_change_replaces_it(tmp_path: Path) -> None:
    settings = make_settings(feedback_file=tmp_path / "feedback.jsonl")
    written = [_vote(settings, "visitor-1", "answer-1", "up") for _ in range(300)]
    assert written == [True] + [False] * 299
    assert _vote(settings, "visitor-1", "answer-1", "down") is True  # changed their mind
    assert _vote(settings, "visitor-2", "answer-1", "up") is True  # someone else
    assert _vote(settings, "visitor-1", "answer-2", "up") is True  # another answer

    lines = settings.feedback_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4
    votes = read_feedback(settings.feedback_file)
    assert [v["rating"] for v in votes] == ["down", "up", "up"]  # visitor-1's first vote was replaced
    assert len({v["vote"] for v in votes}) == 3


def test_a_new_process_still_knows_the_votes_in_the_file(tmp_path: Path) -> None:
    first = make_settings(feedback_file=tmp_path / "a" / "feedback.jsonl")
    assert _vote(first, "v", "a1", "up")
    again = make_settings(feedback_file=tmp_path / "a" / ".." / "a" / "feedback.jsonl")  # same file, other spelling
    assert not _vote(again, "v", "a1", "up")
    assert len(first.feedback_file.read_text(encoding="utf-8").splitlines()) == 1


def test_the_file_is_rotated_and_stays_within_its_size(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    settings = make_settings(feedback_file=path, feedback_max_bytes=10_000, feedback_backups=2)
    for n in range(200):  # 200 different answers, each line about 400 bytes
        assert _vote(settings, "v", f"answer-{n}", "up", question=f"question {n}")

    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == ["feedback.jsonl", "feedback.jsonl.1", "feedback.jsonl.2"]
    assert all(f.stat().st_size <= 10_000 for f in files)
    votes = read_feedback(path)
    assert votes[-1]["question"] == "question 199"  # the newest kept, oldest first
    numbers = [int(v["question"].split()[1]) for v in votes]
    assert numbers == sorted(numbers) and numbers[0] > 0  # the oldest rotated away


def test_lines_hold_no_server_path_nor_visitor_id_and_a_damaged_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    path.write_text('{"rating": "up", "question": "older line without a key"}\n{"cut sho', encoding="utf-8")
    settings = make_settings(feedback_file=path)
    assert _vote(settings, "session-abc123", "a1", "up")

    text = path.read_text(encoding="utf-8")
    assert "/srv/" not in text and "session-abc123" not in text
    votes = read_feedback(path)
    assert [v.get("question") for v in votes] == ["older line without a key", "ما هي المبادرة؟"]
    assert votes[-1]["citations"][0]["source"] == "arctic.txt"
    assert json.loads(text.splitlines()[-1])["channel"] == "web"
