"""Time in the answer: newest first for "latest", a dated list for "how did X develop", the sources' dates."""

from __future__ import annotations

from datetime import date

import numpy as np

from app.answer import dated, extractive
from app.answer.record import Citation
from app.config import MAX_TOP_K
from app.evaluation.metrics import faithfulness
from app.filters import Filters
from app.index.records import StoredPassage
from app.retrieve import Hit


def hit(source: str, day: str, score: float, text: str = "جملة تجيب عن السؤال.") -> Hit:
    passage = StoredPassage(f"{source}#0:abc", source, f"title {source}", day, "ar", 0, text, [(0, len(text))])
    return Hit(passage, score)


HITS = [hit("a", "2025-06-10", 1.0), hit("b", "2025-06-24", 0.8), hit("c", "2025-07-02", 0.3), hit("d", "", 0.9),
        hit("b", "2025-06-24", 0.7)]


def test_relevant_dated_articles_are_grouped_in_date_order():
    # c is too weak to count (below half the best score); d has no date; b's two passages go together.
    assert dated.articles_by_date(HITS, newest_first=True) == [[1, 4], [0]]
    assert dated.articles_by_date(HITS, newest_first=False) == [[0], [1, 4]]
    assert [h.passage.source for h in dated.in_date_order(HITS, newest_first=True)] == ["b", "b", "a", "c", "d"]


def test_latest_quotes_come_from_the_newest_article_that_answers():
    asked: list[list[int]] = []

    def choose(indices: list[int]):
        asked.append(indices)
        return None if HITS[indices[0]].passage.source == "b" else [(indices[0], "quote")]

    assert dated.latest_quotes(HITS, choose) == [(0, "quote")]  # b is newer but does not answer
    assert asked == [[1, 4], [0]]
    assert dated.latest_quotes(HITS, lambda indices: None) is None


def test_a_timeline_is_one_dated_line_per_article_oldest_first():
    def choose(indices: list[int]):
        return [(i, f"{HITS[i].passage.source} sentence") for i in indices]

    lines = dated.timeline_quotes(HITS, choose)
    assert lines == [(0, "a sentence"), (1, "b sentence")]
    text, citations = dated.dated_list(lines, HITS, "en")
    assert text.splitlines() == ["- 10 June 2025: a sentence [1]", "- 24 June 2025: b sentence [2]"]
    assert [c.source for c in citations] == ["a", "b"]
    assert dated.dated_list(lines, HITS, "ar")[0].splitlines()[0] == "- 10 يونيو 2025: a sentence [1]"


def citation(n: int, day: str) -> Citation:
    return Citation(n=n, source=f"s{n}", title="t", date=day, text="x", score=1.0)


def test_sources_of_different_dates_are_dated_newest_first():
    note = dated.dates_note([citation(1, "2025-06-10"), citation(2, "2025-07-02"), citation(3, "")], "en")
    assert note == "Dates of the sources, newest first: [2] 2 July 2025; [1] 10 June 2025"
    assert dated.dates_note([citation(1, "2025-06-10"), citation(2, "2025-06-10")], "en") is None  # one date
    assert dated.dates_note([citation(1, "2025-06-10"), citation(2, "")], "ar") is None
    assert "[2] 2 يوليو 2025، [1] 10 يونيو 2025" in dated.dates_note([citation(1, "2025-06-10"), citation(2, "2025-07-02")], "ar")


def test_a_date_label_keeps_what_it_cannot_read():
    assert dated.date_label("2025-02-30", "en") == "2025-02-30"
    assert dated.date_label("", "ar") == ""


def test_a_question_period_narrows_the_filters_unless_they_do_not_meet():
    june = Filters(date(2025, 6, 1), date(2025, 6, 30), ("okaz",))
    assert june.within(date(2025, 6, 20), date(2025, 7, 31)) == Filters(date(2025, 6, 20), date(2025, 6, 30), ("okaz",))
    assert june.within(date(2025, 8, 1), date(2025, 8, 31)) is None
    assert Filters().within(date(2025, 8, 1), None) == Filters(date(2025, 8, 1), None)


def test_dated_questions_read_deeper_within_the_top_k_ceiling():
    assert dated.depth(5) == 15 and dated.depth(1) == 3
    assert dated.depth(40) == MAX_TOP_K  # never more than any question may read


def test_a_figure_another_dated_article_also_gives_is_quoted_beside_it():
    older = "وقال الوزير إن عدد الحجاج بلغ 1.8 مليون حاج هذا العام."
    newer = "وأعلنت الهيئة أن عدد الحجاج بلغ مليوني حاج وفق الأرقام النهائية."
    unrelated = "وتحدث المسؤولون عن خطط النقل والخدمات في المشاعر المقدسة."
    hits = [hit("a", "2015-09-20", 1.0, older), hit("b", "2015-09-28", 0.9, newer), hit("c", "2015-09-28", 0.8, unrelated)]
    query = np.array([1.0, 0.0], np.float32)

    def at(cosine: float) -> np.ndarray:
        return np.array([[cosine, np.sqrt(1 - cosine**2)]], np.float32)

    # The second figure scores 0.025 below the first: inside the figure margin, outside the second-sentence one.
    vectors = [at(0.95), at(0.935), at(0.95)]
    quotes = extractive.choose_quotes("كم بلغ عدد الحجاج؟", "كم بلغ عدد الحجاج؟", query, hits, vectors, (0.0, 0.0, 0))
    assert quotes == [(0, older), (1, newer)]
    same_day = [hits[0], hit("b", "2015-09-20", 0.9, newer), hits[2]]
    assert extractive.choose_quotes("كم بلغ عدد الحجاج؟", "كم بلغ عدد الحجاج؟", query, same_day, vectors,
                                    (0.0, 0.0, 0)) == [(0, older)]  # one date: the usual single figure


def test_hits_narrowed_to_the_questions_period_need_a_little_less_meaning_to_answer():
    # An English question over an Arabic sentence just under the cross-language floor.
    sentence = "وأعلنت الهيئة أن عدد الحجاج بلغ مليوني حاج وفق الأرقام النهائية."
    hits = [hit("a", "2015-09-28", 1.0, sentence)]
    cosine = extractive.MIN_DENSE_CROSS_LANGUAGE - extractive.PERIOD_RELIEF / 2
    vectors = [np.array([[cosine, np.sqrt(1 - cosine**2)]], np.float32)]
    query = np.array([1.0, 0.0], np.float32)
    question = "How many pilgrims were there in September 2015?"
    assert extractive.choose_quotes(question, question, query, hits, vectors, (0.0, 0.0, 0)) is None
    assert extractive.choose_quotes(question, question, query, hits, vectors, (0.0, 0.0, 0),
                                    relief=extractive.PERIOD_RELIEF) == [(0, sentence)]


def test_the_dates_line_is_left_out_of_what_the_passages_must_support():
    note = dated.dates_note([citation(1, "2025-06-10"), citation(2, "2025-07-02")], "en")
    assert dated.without_dates_note(f"The figure [1]. A later one [2].\n\n{note}") == "The figure [1]. A later one [2]."
    alone = "Dates of the sources, newest first: the answer's only line"
    assert dated.without_dates_note(alone) == alone
    passages = {1: "The figure rose to five.", 2: "A later figure of six."}
    assert faithfulness(f"The figure rose to five [1]. A later figure of six [2].\n\n{note}", passages) == 1.0
