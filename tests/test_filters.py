"""Limiting a question to a period and to publishers: parsed once, applied inside retrieval."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from app.answer.record import QuestionError
from app.engine import Engine
from app.filters import Filters, parse_filters
from app.interfaces.slack_blocks import answer_blocks, words_for
from app.interfaces.slack_blocks import escape as slack_escape
from app.interfaces.web import create_app
from app.interfaces.web_ui import esc, render_card
from tests.conftest import NEWS, make_settings, news_sample
from tests.web_helpers import ThreadServer

ARCTIC = "ما هي مبادرة حارس القطب الشمالي؟"


# -- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(("since", "until", "low", "high"), [
    ("2025-06-01", "2025-06-30", date(2025, 6, 1), date(2025, 6, 30)),
    ("2025-06", "2025-07", date(2025, 6, 1), date(2025, 7, 31)),  # a month: its first day, its last
    ("2024", "2024", date(2024, 1, 1), date(2024, 12, 31)),
    ("2024-02", None, date(2024, 2, 1), None),
    (None, "2024-02", None, date(2024, 2, 29)),  # a leap year's February
])
def test_periods_are_days_months_or_years(since, until, low, high):
    assert (parse_filters(since, until).since, parse_filters(since, until).until) == (low, high)


@pytest.mark.parametrize(("since", "until", "sources", "named"), [
    ("2025-13-01", None, None, "since"),
    (None, "yesterday", None, "until"),
    ("2025-02-30", None, None, "since"),
    (20250601, None, None, "since"),
    ("2025-07-01", "2025-06-30", None, "the period is empty"),
    (None, None, [1, 2], "sources"),
    (None, None, ["x" * 500], "sources"),
    (None, None, [f"p{i}" for i in range(500)], "sources"),
])
def test_a_malformed_filter_is_an_error_naming_it(since, until, sources, named):
    with pytest.raises(QuestionError, match=named):
        parse_filters(since, until, sources)


def test_filters_become_one_chroma_where():
    assert Filters().chroma_where() is None
    assert parse_filters(sources="okaz").chroma_where() == {"publisher": {"$in": ["okaz"]}}
    june = [20250600 + day for day in range(1, 31)]
    assert parse_filters("2025-06", "2025-06", ["a", "b", "a"]).chroma_where() == {"$and": [
        {"day": {"$in": june}}, {"publisher": {"$in": ["a", "b"]}}]}
    leap = parse_filters("2024-02-28", "2024-03-01").chroma_where()
    assert leap == {"day": {"$in": [20240228, 20240229, 20240301]}}
    assert len(parse_filters("2024", "2024").chroma_where()["day"]["$in"]) == 366  # a leap year, listed
    assert parse_filters("2023-12-31", "2024-12-31").chroma_where() == {"$and": [{"day": {"$gte": 20231231}},
                                                                              {"day": {"$lte": 20241231}}]}
    assert parse_filters("2024", "2025").chroma_where() == {"$and": [{"day": {"$gte": 20240101}},
                                                                      {"day": {"$lte": 20251231}}]}
    # The widest period a request may send costs a range, not a list of its days.
    assert parse_filters("0001-01-01", "9999-12-31").chroma_where() == {"$and": [{"day": {"$gte": 10101}},
                                                                              {"day": {"$lte": 99991231}}]}
    # Ends the wrong way round (parse_filters refuses them; the dataclass may be built so) match nothing.
    assert Filters(date(2024, 3, 2), date(2024, 3, 1)).chroma_where() == {"$and": [{"day": {"$gte": 20240302}},
                                                                                 {"day": {"$lte": 20240301}}]}
    assert parse_filters(since="2025-06-03").chroma_where() == {"$and": [{"day": {"$gte": 20250603}},
                                                                          {"day": {"$lte": 99_991_231}}]}


# -- on the seeds: two dated articles, three undated ------------------------------------


def test_a_period_keeps_only_the_articles_dated_in_it(engine: Engine):
    dated = {a.date for a in engine.snapshot.articles.values() if a.date}
    assert {"2025-10-15", "2026-02-12"} <= dated  # what this test relies on
    for since, until, expected in (("2026", "2026", "2026-02-12"), ("2025-10", "2025-10", "2025-10-15")):
        passages = engine.retrieve(ARCTIC, filters=parse_filters(since, until))
        assert passages and {p.date for p in passages} == {expected}
    answer = engine.answer(ARCTIC, filters=parse_filters("2019", "2019"))
    assert not answer.found and answer.passages == [] and answer.citations == []


def test_an_article_left_out_is_never_retrieved_nor_cited(engine: Engine):
    answer = engine.answer(ARCTIC)
    source = answer.citations[0].source
    for mode in ("dense", "bm25", "hybrid"):
        passages = engine.retrieve(ARCTIC, mode=mode)
        assert source in {p.source for p in passages}, mode  # what the next assertion relies on
        left = engine.retrieve(ARCTIC, mode=mode, filters=Filters(excluded=(source,)))
        assert left and source not in {p.source for p in left}, mode
    without = engine.answer(ARCTIC, filters=Filters(excluded=(source,)))
    assert source not in {c.source for c in without.citations} | {p.source for p in without.passages}
    assert Filters(excluded=("a.txt",)).chroma_where() == {"source": {"$nin": ["a.txt"]}}


# -- on news archives: publishers, and a narrow period still fills its top-k ------------


@pytest.fixture(scope="module")
def news_engine(tmp_path_factory) -> Engine:
    if not NEWS.is_dir():
        pytest.skip("../shared/data/news-ar is not beside the repository")
    folder = tmp_path_factory.mktemp("news")
    archive = folder / "sample.jsonl"  # written by the test from the shared data, never committed
    archive.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in news_sample()) + "\n", encoding="utf-8")
    engine = Engine(make_settings(corpus_dir=folder, index_dir=folder / "index", top_k=3))
    engine.ensure_ready()
    return engine


@pytest.mark.slow
def test_publishers_and_a_narrow_period_select_inside_retrieval(news_engine: Engine):
    records = {r.id: r for r in news_engine.snapshot.articles.values()}
    assert {r.publisher for r in records.values()} == {"okaz", "alriyadh", "aawsat"}
    question = "ما هي أخبار المملكة العربية السعودية؟"
    for mode in ("dense", "bm25", "hybrid"):
        only = news_engine.retrieve(question, mode=mode, filters=parse_filters(sources=["okaz"]))
        assert only and {records[p.source].publisher for p in only} == {"okaz"}, mode
    # One article's own day: the period holds only its passages, and they still fill the top-k.
    article = max(records.values(), key=lambda r: r.passages)
    assert article.passages >= 3 and sum(r.date == article.date for r in records.values()) == 1
    passages = news_engine.retrieve(question, mode="dense", filters=parse_filters(article.date, article.date))
    assert len(passages) == 3 and {p.source for p in passages} == {article.id}


@pytest.mark.slow
@pytest.mark.parametrize("first", ["start", "ingest"])
def test_an_index_from_before_filters_is_upgraded_by_the_first_newer_process(
        news_engine: Engine, tmp_path: Path, first: str):
    settings = make_settings(corpus_dir=news_engine.settings.corpus_dir, index_dir=tmp_path / "index")
    engine = Engine(settings)
    engine.ingest()
    chroma = engine._services.chroma
    rows = chroma.passages.get(include=[])["ids"]  # make it look as an older newsqa left it
    chroma.passages.update(ids=rows, metadatas=[{"day": None, "publisher": None, "url": None}] * len(rows))
    chroma.articles.modify(metadata={"generation": "old"})
    okaz = parse_filters(sources=["okaz"])
    assert chroma.passages.get(where=okaz.chroma_where(), include=[])["ids"] == []  # old rows cannot match

    reopened = Engine(settings)
    messages: list[str] = []
    if first == "start":
        reopened.ensure_ready(progress=messages.append)
    else:  # a write marks the index as new: the old rows must have been upgraded before it
        extra = tmp_path / "extra.txt"
        extra.write_text("خبر إضافي\n\nنص قصير عن موضوع لا علاقة له بالأرشيف.", encoding="utf-8")
        reopened.ingest([extra], say=messages.append)
    assert any(f"{len(rows)} passages" in m for m in messages)
    assert {p.source for p in reopened.retrieve("أخبار", mode="dense", filters=okaz)} <= {
        r.id for r in reopened.snapshot.articles.values() if r.publisher == "okaz"}
    assert reopened.retrieve("أخبار", mode="dense", filters=okaz)
    assert not reopened._services.chroma.layout_is_old()


# -- in the interfaces -------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(engine: Engine) -> Iterator[str]:
    with ThreadServer(create_app(engine.settings, engine)) as server:
        server.wait_ready(120)
        yield server.url


def test_the_api_takes_a_period_and_names_a_bad_field(api: str):
    body = {"question": ARCTIC, "since": "2026-01", "until": "2026-12"}
    answer = httpx.post(f"{api}/api/ask", json=body, timeout=60).json()
    assert answer["passages"] and {p["date"] for p in answer["passages"]} == {"2026-02-12"}
    for bad, named in (({"since": "2026-13"}, "since"), ({"until": "soon"}, "until"),
                       ({"since": "2026-02", "until": "2026-01"}, "empty"),
                       ({"sources": [f"p{i}" for i in range(5000)]}, "sources"),
                       ({"sources": ["x" * 100_000]}, "sources")):
        response = httpx.post(f"{api}/api/ask", json={"question": ARCTIC, **bad}, timeout=60)
        assert response.status_code == 400 and named in response.json()["detail"]


def test_no_client_can_leave_articles_out(api: str, engine: Engine):
    """`Filters.excluded` is the evaluation's alone: a request that names it changes nothing."""
    cited = engine.answer(ARCTIC).citations[0].source
    hostile = {"question": ARCTIC, "excluded": [cited], "filters": {"excluded": [cited]}}
    answer = httpx.post(f"{api}/api/ask", json=hostile, timeout=60).json()
    assert cited in {c["source"] for c in answer["citations"]}


@pytest.mark.slow
def test_citations_carry_the_articles_address_and_publisher_as_links(news_engine: Engine):
    record = next(iter(news_engine.snapshot.articles.values()))
    answer = news_engine.answer(record.title)
    assert answer.found and answer.citations
    for citation in answer.citations:
        article = news_engine.snapshot.articles[citation.source]
        assert (citation.url, citation.publisher) == (article.url, article.publisher) and citation.url.startswith("http")
        card = render_card(citation, "card")
        assert f'href="{esc(citation.url)}" target="_blank" rel="noopener noreferrer nofollow"' in card
    blocks = json.dumps(answer_blocks(answer, words_for(record.title)), ensure_ascii=False)
    assert f"<{slack_escape(answer.citations[0].url)}|" in blocks and answer.citations[0].publisher in blocks
