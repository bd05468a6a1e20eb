"""Time in the question, end to end on a real index: periods, "latest", timelines, dated sources.

The articles are written by the test: one story (a dates festival) told on three dates with
a growing visitor count, and an undated article on another subject; the seeds (NATO, 2025-26)
beside them make the index's baseline realistic (in an index of one story every sentence is
about as close to any question, and nothing would stand out).

English questions are few here: on this small index e5-small puts English questions just under
the cross-language floor (issue 10's English gap); the parser's tests cover English expressions.

The same rules run again on real archive articles: a JSON Lines fixture the test writes from
`../shared/data/news-ar/` (never committed), questions built from the articles' own titles
and dates, so the test knows nothing of what they say.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta

import pytest

from app.engine import Engine
from app.filters import parse_filters
from tests.conftest import NEWS, SEEDS, make_settings, news_sample

STORY = {
    "festival-opens.txt": ("2015-07-10", "افتتاح مهرجان التمور في بريدة",
                           "افتتح أمير منطقة القصيم مهرجان التمور في مدينة بريدة مساء الخميس بحضور عدد من المزارعين. "
                           "وبلغ عدد زوار مهرجان التمور في يومه الأول عشرين ألف زائر من داخل المملكة وخارجها. "
                           "ويعرض المزارعون في المهرجان أكثر من ثلاثين صنفا من التمور."),
    "festival-grows.txt": ("2015-08-05", "إقبال متزايد على مهرجان التمور في بريدة",
                           "شهد مهرجان التمور في بريدة إقبالا متزايدا خلال أسبوعه الخامس. "
                           "وارتفع عدد زوار مهرجان التمور إلى خمسين ألف زائر بحسب اللجنة المنظمة. "
                           "وأضافت اللجنة أن المبيعات تجاوزت التوقعات هذا العام."),
    "festival-closes.txt": ("2015-08-28", "اختتام مهرجان التمور في بريدة",
                            "اختتم مهرجان التمور في بريدة فعالياته بعد سبعة أسابيع من العرض والبيع. "
                            "وبلغ إجمالي عدد زوار مهرجان التمور مئة وعشرين ألف زائر وفق الأرقام النهائية للجنة. "
                            "وأعلنت اللجنة المنظمة موعد الدورة المقبلة من المهرجان."),
}
OTHER = ("هطول أمطار غزيرة على جدة",
         "هطلت أمطار غزيرة على محافظة جدة صباح اليوم وأدت إلى تجمع المياه في عدد من الشوارع الرئيسية. "
         "ودعا الدفاع المدني السكان إلى الابتعاد عن مجاري السيول وتوخي الحذر أثناء القيادة.")
DATE_OF = {name: day for name, (day, _, _) in STORY.items()}


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> Engine:
    folder = tmp_path_factory.mktemp("story")
    corpus = folder / "corpus"
    corpus.mkdir()
    for name, (day, title, body) in STORY.items():
        (corpus / name).write_text(f"date {day} {title}\n\n{body}\n", encoding="utf-8")
    (corpus / "rain.txt").write_text(f"{OTHER[0]}\n\n{OTHER[1]}\n", encoding="utf-8")
    for seed in SEEDS.iterdir():
        shutil.copy(seed, corpus)
    engine = Engine(make_settings(corpus_dir=corpus, index_dir=folder / "index", today="2015-09-10", top_k=4))
    engine.ensure_ready()
    assert {r.id: r.date for r in engine.snapshot.articles.values() if r.id in DATE_OF or r.id == "rain.txt"} == {
        **DATE_OF, "rain.txt": ""}
    return engine


def cited_dates(engine: Engine, question: str) -> list[str]:
    answer = engine.answer(question)
    assert answer.found, answer.answer
    return [c.date for c in answer.citations]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "month"), [
    ("ماذا حدث في مهرجان التمور في أغسطس 2015؟", "2015-08"),
    ("ماذا حدث في مهرجان التمور في يوليو 2015؟", "2015-07"),
    ("ماذا حدث في مهرجان التمور الشهر الماضي؟", "2015-08"),  # NEWSQA_TODAY is 2015-09-10
    ("ماذا أعلنت لجنة مهرجان التمور في 5 أغسطس؟", "2015-08"),
])
def test_a_period_in_the_question_limits_the_cited_articles_to_it(story: Engine, question: str, month: str):
    assert {day[:7] for day in cited_dates(story, question)} == {month}


@pytest.mark.slow
def test_a_period_with_nothing_in_it_answers_from_the_archive_and_says_so(story: Engine):
    answer = story.answer("كم بلغ عدد زوار مهرجان التمور عام 2014؟")
    assert answer.found and answer.citations
    assert answer.notice and "2014" in answer.notice
    assert story.answer("كم بلغ عدد زوار مهرجان التمور؟").notice is None  # no period: no notice
    # The person's own filters win over the question's period.
    pinned = story.answer("ماذا حدث في مهرجان التمور في أغسطس 2015؟", filters=parse_filters("2015-07", "2015-07"))
    assert {c.date[:7] for c in pinned.citations} == {"2015-07"}


@pytest.mark.slow
@pytest.mark.parametrize("question", ["ما آخر أخبار مهرجان التمور في بريدة؟",
                                      "What is the latest on the Buraidah date festival?"])
def test_latest_questions_cite_the_newest_relevant_article_first(story: Engine, question: str):
    assert cited_dates(story, question)[0] == DATE_OF["festival-closes.txt"]


@pytest.mark.slow
@pytest.mark.parametrize("question", ["كيف تطور مهرجان التمور في بريدة؟", "كيف تطور عدد زوار مهرجان التمور؟"])
def test_how_did_it_develop_is_a_dated_list_oldest_first(story: Engine, question: str):
    answer = story.answer(question)
    lines = answer.answer.splitlines()
    days = [c.date for c in answer.citations]
    assert len(lines) == len(days) >= 2 and days == sorted(days) and len(set(days)) == len(days)
    assert all(line.startswith("- ") and f"[{n}]" in line for n, line in enumerate(lines, 1))


@pytest.mark.slow
def test_sources_of_different_dates_are_dated_in_the_answer(story: Engine):
    answer = story.answer("كم بلغ عدد زوار مهرجان التمور؟")
    days = sorted({c.date for c in answer.citations if c.date}, reverse=True)
    if len(days) < 2:
        pytest.fail(f"expected figures from two dates: {answer.answer}")
    note = answer.answer.splitlines()[-1]
    assert note.startswith("تواريخ المصادر")
    assert note.index(f"{int(days[0][8:])} ") < note.index(f"{int(days[1][8:])} ")  # newest first


# -- on news-ar articles -----------------------------------------------------------------

MONTHS = {"2015-07": ("يوليو", "July"), "2015-08": ("أغسطس", "August")}


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Engine, list[dict], dict]:
    """The sample (July and August 2015), plus a brief of its longest article two days before it:
    one story told twice, as archives hold it. Today is 2015-09-10."""
    if not NEWS.is_dir():
        pytest.skip("../shared/data/news-ar is not beside the repository")
    records = news_sample()
    story = max(records, key=lambda r: len(r["text"]))
    paragraphs = story["text"].split("\n")
    brief = {**story, "id": f"{story['id']}-brief", "text": "\n".join(paragraphs[: max(1, len(paragraphs) // 2)]),
             "date": (date.fromisoformat(story["date"]) - timedelta(days=2)).isoformat()}
    folder = tmp_path_factory.mktemp("news-time")
    archive = folder / "sample.jsonl"
    archive.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [*records, brief]) + "\n", encoding="utf-8")
    engine = Engine(make_settings(corpus_dir=folder, index_dir=folder / "index", today="2015-09-10", top_k=4))
    engine.ensure_ready()
    return engine, [r for r in records if r is not story], story


@pytest.mark.slow
@pytest.mark.parametrize("month", sorted(MONTHS))
@pytest.mark.parametrize("template", ["{title} في {ar} 2015", "What was reported in {en} 2015 on {title}?"])
def test_a_named_month_keeps_news_answers_in_it(archive, month: str, template: str):
    engine, others, _ = archive
    article = next(r for r in others if r["date"].startswith(month))
    ar, en = MONTHS[month]
    answer = engine.answer(template.format(title=article["title"], ar=ar, en=en))
    assert answer.found and answer.notice is None
    assert {c.date[:7] for c in answer.citations} == {month}


@pytest.mark.slow
@pytest.mark.parametrize("template", ["ما أخبار {title} الشهر الماضي؟", "{title}: what happened last month?"])
def test_last_month_is_read_against_today_on_news(archive, template: str):
    engine, others, _ = archive
    article = next(r for r in others if r["date"].startswith("2015-08"))  # today is 2015-09-10
    answer = engine.answer(template.format(title=article["title"]))
    assert answer.found and {c.date[:7] for c in answer.citations} == {"2015-08"}


@pytest.mark.slow
@pytest.mark.parametrize("template", ["ما آخر أخبار {title}؟", "What is the latest on {title}?"])
def test_the_latest_news_cites_the_later_version_first(archive, template: str):
    engine, _, story = archive
    answer = engine.answer(template.format(title=story["title"]))
    assert answer.found and answer.citations[0].source == story["id"]


@pytest.mark.slow
def test_a_story_told_twice_develops_as_a_dated_list(archive):
    engine, _, story = archive
    answer = engine.answer(f"كيف تطور {story['title']}؟")
    days = [c.date for c in answer.citations]
    sources = [c.source for c in answer.citations]
    assert days == sorted(days) and sources.index(f"{story['id']}-brief") < sources.index(story["id"])
    assert all(line.startswith("- ") for line in answer.answer.splitlines())
