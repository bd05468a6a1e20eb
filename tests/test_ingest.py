"""Ingestion: page chrome removal, metadata, passages, idempotence and change detection."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from app.engine import Engine
from app.index.snapshot import save_view
from app.ingest.articles import ArticleError, load_article
from app.ingest.passages import count_tokens, make_passages
from app.ingest.pipeline import IngestStatus
from tests.conftest import SEEDS, make_settings

LIMIT = 2_000_000


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*"))


def test_trailing_ticker_is_removed_and_body_kept():
    raw = seed("001").read_text(encoding="utf-8")
    article = load_article(seed("001"), LIMIT)
    raw_lines = [line.strip() for line in raw.splitlines() if line.strip()]
    # The ticker: timestamps and "-" separators with unrelated headlines after the article.
    ticker_start = raw_lines.index("-") - 1
    for line in raw_lines[ticker_start:]:
        assert line not in article.body
    for line in raw_lines[: ticker_start]:
        assert line in article.body  # every article paragraph survives whole
    assert "24/7" not in article.body


def test_leading_chrome_is_removed_with_title_and_date_found():
    article = load_article(seed("003"), LIMIT)
    raw_lines = [line.strip() for line in seed("003").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert not article.body.startswith(raw_lines[0])
    for chrome in ("Main Logo", "Article Image"):
        assert chrome in raw_lines and chrome not in article.body
    assert article.title and article.title in raw_lines[:6]
    assert article.date == "2025-10-15"
    assert raw_lines[-2] in article.body  # the last paragraph before the share bar


def test_date_field_prefix_becomes_metadata():
    article = load_article(seed("002"), LIMIT)
    assert article.date == "2026-02-12"
    assert not article.body.lower().startswith("date")


def test_every_seed_has_language_and_passages_within_budget():
    for path in sorted(SEEDS.iterdir()):
        article = load_article(path, LIMIT)
        assert article.language == "ar"
        passages = make_passages(article.body, "o200k_base", 200, 40)
        assert len(passages) >= 2
        for p in passages:
            assert count_tokens(p.text, "o200k_base") <= 200 + 10  # joined by original white space
            assert p.text in article.body


def test_passages_overlap_on_whole_sentences():
    body = " ".join(f"هذه الجملة رقم {i} في النص." for i in range(60))
    passages = make_passages(body, "o200k_base", 40, 15)
    assert len(passages) > 3
    for first, second in zip(passages, passages[1:]):
        assert first.start < second.start < first.start + len(first.text)  # overlap, always forward
        assert body[second.start - 1] == " " and body[second.start - 2] == "."  # starts on a sentence


def test_passages_cover_the_body():
    article = load_article(seed("000"), LIMIT)
    passages = make_passages(article.body, "o200k_base", 120, 40)
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.start + len(p.text)))
    letters = {i for i, ch in enumerate(article.body) if not ch.isspace()}
    assert letters <= covered


def test_html_and_markdown_readers(tmp_path):
    html = tmp_path / "a.html"
    html.write_text(
        "<html><head><title>Site | X</title><meta property='article:published_time' content='2024-03-05T10:00:00Z'>"
        "<script>var x = 'ignore me';</script></head><body><nav>الرئيسية | أخبار</nav>"
        "<h1>عنوان المقال التجريبي الطويل</h1><p>هذه فقرة أولى من المقال تتحدث عن موضوع مهم.</p>"
        "<p>وهذه فقرة ثانية تكمل الحديث.</p><footer>حقوق النشر</footer></body></html>",
        encoding="utf-8",
    )
    article = load_article(html, LIMIT)
    assert article.title == "عنوان المقال التجريبي الطويل"
    assert article.date == "2024-03-05"
    assert "ignore me" not in article.body and "حقوق" not in article.body and "الرئيسية" not in article.body
    assert "فقرة ثانية" in article.body

    md = tmp_path / "b.md"
    md.write_text("---\ntitle: مقال ماركداون\ndate: 2023-01-02\n---\n# عنوان\n\n"
                  "نص **المقال** مع [رابط](http://x).\n", encoding="utf-8")
    article = load_article(md, LIMIT)
    assert (article.title, article.date) == ("مقال ماركداون", "2023-01-02")
    assert article.body == "نص المقال مع رابط."


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.txt", b"   \n", "empty"),
        ("binary.txt", b"\x00\x01\x02abc", "binary"),
        ("latin1.txt", "café crème".encode("latin-1"), "UTF-8"),
        ("image.png", b"\x89PNG", "unsupported"),
    ],
)
def test_broken_files_get_clear_errors(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ArticleError, match=reason):
        load_article(path, LIMIT)


def test_too_large_file_is_refused(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("كلمة " * 1000, encoding="utf-8")
    with pytest.raises(ArticleError, match="limit"):
        load_article(path, 100)


def rows_agree(engine: Engine) -> None:
    """Chroma holds exactly the rows of the current articles, and the local cache derives from them."""
    chroma, snapshot = engine._services.chroma, engine.snapshot
    records = chroma.article_records()
    passage_ids = set(chroma.passages.get(include=[])["ids"])
    assert passage_ids == {pid for pid in passage_ids if snapshot.owns(pid)}  # no stale or orphan rows
    assert len(passage_ids) == sum(r.passages for r in records.values()) == snapshot.passages
    assert set(snapshot.lexical.ids) == passage_ids
    sentences = chroma.sentences.get(include=["metadatas"])
    assert {m["passage"] for m in sentences["metadatas"]} == passage_ids
    stored = chroma.fetch_passages(sorted(passage_ids))
    assert len(sentences["ids"]) == sum(len(p.sentences) for p in stored.values())


@pytest.mark.slow
def test_ingest_is_idempotent_incremental_and_prunes(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for prefix in ("000", "002"):
        shutil.copy(seed(prefix), corpus)
    engine = Engine(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))

    first = engine.ingest()
    assert sorted(first.added) == sorted(p.name for p in corpus.iterdir())
    passages = engine.stats()["passages"]
    assert passages > 0
    rows_agree(engine)

    again = engine.ingest()
    assert again.added == again.updated == [] and len(again.unchanged) == 2
    assert again.passages == 0
    assert engine.stats()["passages"] == passages

    changed = corpus / seed("002").name
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nفقرة جديدة أضيفت إلى المقال بعد نشره.", encoding="utf-8")
    third = engine.ingest()
    assert third.updated == [changed.name]
    rows_agree(engine)  # the old version's rows are gone, no duplicates

    # A reopened engine sees the same index (persistence), and prune drops deleted files.
    (corpus / seed("000").name).unlink()
    reopened = Engine(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    report = reopened.ingest(prune=True)
    assert report.removed == [seed("000").name]
    assert reopened.stats()["articles"] == 1
    rows_agree(reopened)


@pytest.mark.slow
def test_a_broken_file_does_not_lose_the_index(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(seed("004"), corpus)
    engine = Engine(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    engine.ingest()
    before = engine.stats()["passages"]
    (corpus / "broken.txt").write_bytes(b"\xff\xfe\x00garbage")
    report = engine.ingest(prune=True)
    assert [name for name, _ in report.errors] == ["broken.txt"]
    assert report.unchanged == [seed("004").name] and report.removed == []
    assert engine.stats()["passages"] == before


def _one_article_index(tmp_path: Path) -> tuple[Path, Engine]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(seed("004"), corpus)
    engine = Engine(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    engine.ensure_ready()
    return corpus, engine


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["delete the cache", "truncate counts", "garbage state", "stale generation",
                                    "delete the view", "truncate the view", "stale view"])
def test_the_local_cache_is_derived_from_chroma_and_rebuilt(tmp_path, damage):
    corpus, engine = _one_article_index(tmp_path)
    question = "ما هي مبادرة حارس القطب الشمالي؟"
    expected = engine.answer(question).answer
    cache, view = engine._services.refresher.folder, engine._services.refresher.view
    if damage == "delete the cache":
        shutil.rmtree(cache)
    elif damage == "delete the view":
        view.unlink()
    elif damage == "truncate the view":
        view.write_bytes(view.read_bytes()[:200])
    elif damage == "stale view":  # the counts are current, the records beside them are of another generation
        save_view(view, dataclasses.replace(engine.snapshot, generation="old", articles={}))
    elif damage == "truncate counts":
        (cache / "counts.indices.npy").write_bytes((cache / "counts.indices.npy").read_bytes()[:100])
    elif damage == "garbage state":
        (cache / "state.json").write_text("garbage")
    else:
        state = json.loads((cache / "state.json").read_text())
        (cache / "state.json").write_text(json.dumps({**state, "generation": "old"}))
    corpus_files = sorted(p.name for p in corpus.iterdir())
    reopened = Engine(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    assert reopened.answer(question).answer == expected  # same answer, nothing re-embedded
    assert reopened.stats()["passages"] == engine.stats()["passages"]
    rows_agree(reopened)
    assert sorted(p.name for p in corpus.iterdir()) == corpus_files
    assert json.loads((cache / "state.json").read_text())["generation"] == reopened.snapshot.generation  # saved again
    assert _saved_view_generation(view) == reopened.snapshot.generation


def _saved_view_generation(view: Path) -> str:
    with np.load(view) as saved:
        return json.loads(saved["records"].tobytes())["generation"]


@pytest.mark.slow
def test_a_start_on_an_unchanged_index_reads_only_the_generation_from_chroma(tmp_path, monkeypatch):
    corpus, engine = _one_article_index(tmp_path)
    expected = engine.answer("ما هي مبادرة حارس القطب الشمالي؟")
    reopened = Engine(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    chroma = reopened._services.chroma
    with monkeypatch.context() as patched:
        for reader in ("article_records", "fetch_passages", "iter_passages", "sample_sentence_vectors"):
            patched.setattr(chroma, reader, lambda *a, **k: pytest.fail("read Chroma at start"))
        reopened.ensure_ready()  # loads the snapshot
    again = reopened.answer("ما هي مبادرة حارس القطب الشمالي؟")
    assert (again.answer, again.citations) == (expected.answer, expected.citations)
    assert reopened.snapshot.articles == engine.snapshot.articles
    assert np.array_equal(reopened.snapshot.sample, engine.snapshot.sample)


@pytest.mark.slow
def test_a_read_that_fails_while_another_process_writes_is_tried_again(tmp_path, monkeypatch):
    """Reading pages of an embedded Chroma beside a writer can fail once (chromadb: "Error finding
    id"); a refresh is tried again, and an index that stays unreadable is still an error."""
    from app.index.chroma import IndexUnavailable
    from app.index.snapshot import READ_ATTEMPTS

    corpus, engine = _one_article_index(tmp_path)
    calls: list[int] = []

    def reopened_reading(fails: int) -> Engine:
        reopened = Engine(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
        refresher = reopened._services.refresher
        shutil.rmtree(refresher.folder)  # no cache: the refresh reads the records and the sample
        refresher.view.unlink(missing_ok=True)
        real = reopened._services.chroma.sample_sentence_vectors

        def sample(size: int):
            calls.append(size)
            if len(calls) <= fails:
                raise IndexUnavailable("cannot read the Chroma index: Error finding id")
            return real(size)

        monkeypatch.setattr(reopened._services.chroma, "sample_sentence_vectors", sample)
        return reopened

    assert reopened_reading(fails=1).snapshot.articles == engine.snapshot.articles and len(calls) == 2
    calls.clear()
    with pytest.raises(IndexUnavailable, match="Error finding id"):
        reopened_reading(fails=READ_ATTEMPTS).refresh()
    assert len(calls) == READ_ATTEMPTS


@pytest.mark.slow
def test_same_file_name_in_two_folders_is_refused_and_a_moved_file_is_kept(tmp_path):
    corpus, engine = _one_article_index(tmp_path)
    name = seed("004").name
    other = tmp_path / "other"
    other.mkdir()
    (other / name).write_text("مقال آخر تماما يحمل الاسم نفسه ويتحدث عن مهرجان التمور في المدينة.\n", encoding="utf-8")
    report = engine.ingest([other])
    assert report.added == [] and "already indexed" in report.errors[0][1]
    assert "مهرجان" not in engine.answer("ما هي مبادرة حارس القطب الشمالي؟").answer

    moved = tmp_path / "moved"
    moved.mkdir()
    (corpus / name).rename(moved / name)
    report = engine.ingest([moved], prune=True)
    assert report.unchanged == [name] and report.removed == []
    assert engine.stats()["articles"] == 1


@pytest.mark.slow
def test_a_file_without_sentences_is_refused(tmp_path):
    corpus, engine = _one_article_index(tmp_path)
    (corpus / "marks.txt").write_text("!!! ؟؟؟ ...\n", encoding="utf-8")
    report = engine.ingest()
    assert [name for name, _ in report.errors] == ["marks.txt"] and report.added == []


def test_html_meta_tags_and_json_ld_give_date_publisher_and_a_safe_url(tmp_path):
    page = tmp_path / "story.html"
    body = "<p>" + "اتفق قادة الحلف على رفع الإنفاق الدفاعي في قمة لاهاي. " * 3 + "</p>"
    page.write_text(
        '<html><head><meta property="og:site_name" content="  صحيفة   المثال ">'
        '<meta property="og:url" content="https://example.com/news/1?a=1&amp;b=2">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "عنوان من JSON-LD",'
        ' "datePublished": "2025-06-25T10:00:00+03:00", "publisher": {"name": "أخرى"}}</script>'
        f"</head><body>{body}</body></html>", encoding="utf-8")
    article = load_article(page, 10**6)
    assert (article.publisher, article.url, article.date) == ("صحيفة المثال", "https://example.com/news/1?a=1&b=2",
                                                              "2025-06-25")
    assert article.title == "عنوان من JSON-LD" and "JSON-LD" not in article.body and "NewsArticle" not in article.body
    hostile = tmp_path / "hostile.html"
    hostile.write_text('<html><head><link rel="canonical" href="javascript:alert(1)">'
                       '<meta property="og:url" content="https://x.example/a b"></head>'
                       f"<body>{body}</body></html>", encoding="utf-8")
    assert load_article(hostile, 10**6).url == ""  # neither a script nor an address with a space
    for ld in ('{"@type": "NewsArticle", "url": ', '[1, "x", {"@type": ["NewsArticle"]}]',
               '{"@type": "NewsArticle", "publisher": [1, 2], "url": {"a": 1}, "datePublished": 7}'):
        broken = tmp_path / "broken-ld.html"
        broken.write_text(f'<html><head><script type="application/ld+json">{ld}</script></head>'
                          f"<body>{body}</body></html>", encoding="utf-8")
        article = load_article(broken, 10**6)  # malformed or odd JSON-LD is ignored, never a crash
        assert (article.url, article.date) == ("", "") and "NewsArticle" not in article.body


def test_the_eta_of_a_resumed_ingest_counts_only_the_articles_it_embedded():
    # 5,000 unchanged articles went by in seconds; the 10 embedded took 100 s: 10,000 to go is ~28 h.
    status = IngestStatus(done=5010, skipped=5000, total=15010, passages=40, started=time.perf_counter() - 100)
    assert re.search(r"ETA 27h4\dm$", status.line())  # 27h46m, give or take the test's own time
    assert IngestStatus(done=3, skipped=3, total=9).line().endswith("ETA 0m00s")  # nothing timed yet
