"""JSON Lines archives: one article a record, incremental per record, bad lines reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config import SettingError, read_settings
from app.engine import Engine
from app.ingest.archive import read_archive
from app.ingest.articles import ArticleError, load_article
from tests.conftest import SEEDS, make_settings
from tests.test_ingest import rows_agree

pytestmark = pytest.mark.slow  # starts servers or builds its own index


def seed_records() -> list[dict]:
    records = []
    for number, path in enumerate(sorted(SEEDS.iterdir())):
        article = load_article(path, 2_000_000)
        records.append({"id": f"news-{number}", "title": article.title, "date": article.date, "text": article.body,
                        "url": f"https://example.org/{number}", "source": "example", "author": None})
    return records


def write_archive(path: Path, records: list, extra_lines: list[bytes] = ()) -> None:
    lines = [json.dumps(r, ensure_ascii=False).encode() if isinstance(r, dict) else r for r in records]
    path.write_bytes(b"\n".join([*lines, *extra_lines]) + b"\n")


def test_bad_lines_are_reported_with_their_number_and_the_rest_is_read(tmp_path):
    good = seed_records()[:2]
    archive = tmp_path / "news.jsonl"
    write_archive(archive, [good[0], b"{not json", b"\xff\xfe bad bytes", b'{"id": "x"}', b"[1, 2]",
                            b'{"id": {"a": 1}, "text": "t"}', b'{"id": "s", "text": "\\ud800"}', good[1]])
    items = list(read_archive(archive, 2_000_000))
    errors = [str(item) for item in items if isinstance(item, ArticleError)]
    assert [item.source for item in items if not isinstance(item, ArticleError)] == ["news-0", "news-1"]
    assert [e.split(":")[0] for e in errors] == [f"news.jsonl, line {n}" for n in (2, 3, 4, 5, 6, 7)]
    assert "not JSON" in errors[0] and "not UTF-8" in errors[1] and "no article text" in errors[2]


def test_an_archive_is_indexed_per_record_incrementally_and_pruned(tmp_path):
    records = seed_records()
    archive = tmp_path / "corpus" / "news.jsonl"
    archive.parent.mkdir()
    write_archive(archive, records, [b"{broken"])
    engine = Engine(make_settings(corpus_dir=archive.parent, index_dir=tmp_path / "index", ingest_batch=8))

    first = engine.ingest()
    assert sorted(first.added) == [r["id"] for r in records]
    assert [message.split(":")[0] for _, message in first.errors] == ["news.jsonl, line 6"]
    rows_agree(engine)
    answer = engine.answer(records[2]["text"].split(".")[0][:300])
    assert answer.found and answer.citations[0].source == "news-2"  # the record id is the citation

    records[1]["text"] += "\n\nفقرة جديدة أضيفت إلى الخبر بعد نشره."
    del records[3]
    write_archive(archive, records)
    again = engine.ingest(prune=True)
    assert again.updated == ["news-1"] and again.removed == ["news-3"] and again.added == []
    assert sorted(again.unchanged) == ["news-0", "news-2", "news-4"]
    rows_agree(engine)
    metadata = engine._services.chroma.records(["news-0"])["news-0"]
    assert (metadata.url, metadata.publisher) == ("https://example.org/0", "example")


def test_a_duplicate_id_with_other_text_in_one_run_is_refused(tmp_path):
    first, second = seed_records()[:2]
    archive = tmp_path / "news.jsonl"
    write_archive(archive, [first, {**second, "id": first["id"]}])
    engine = Engine(make_settings(corpus_dir=tmp_path, index_dir=tmp_path / "index"))
    report = engine.ingest([archive])
    assert report.added == [first["id"]] and "second article with the id" in report.errors[0][1]


@pytest.mark.parametrize("variable, value", [
    ("CHROMA_DATABASE", "../other"), ("CHROMA_DATABASE", "x" * 65), ("NEWSQA_INGEST_BATCH", "0"),
    ("NEWSQA_INGEST_BATCH", "10**9"), ("NEWSQA_REFRESH_SECONDS", "-1"),
])
def test_hostile_index_settings_are_refused_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingError, match=variable):
        read_settings(_env_file=None)
