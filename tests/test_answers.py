"""Retrieval and extractive answers on the seed articles, in Arabic and English.

The questions are written for these tests (not copied from the articles); each
names the article that answers it by file-name prefix.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from app.answer import extractive
from app.answer.record import QuestionError
from app.index.records import StoredPassage
from app.retrieve import Hit
from app.text.arabic import normalize

RETRIEVAL = [
    ("في أي مدينة رومانية عقد منتدى صناعة الناتو الذي تحدث فيه روته؟", "000"),
    ("من الذي استضاف منتدى الصناعات الدفاعية في لاهاي؟", "001"),
    ("ما اسم المبادرة التي أطلقها الحلف لحماية القطب الشمالي؟", "002"),
    ("كم بلغت التزامات الدول الأعضاء لتمويل البرنامج الأميركي لدعم أوكرانيا؟", "003"),
    ("ما الدول الشريكة للناتو في منطقة المحيطين الهندي والهادئ؟", "004"),
    ("Which Romanian city hosted the NATO industry forum where Rutte spoke?", "000"),
    ("Who is the Dutch defence minister who hosted the forum?", "001"),
    ("How much money have allies committed to the US-run programme for Ukraine?", "003"),
    ("Which country changed its rules to allow international arms sales?", "004"),
]


@pytest.mark.parametrize("mode", ["hybrid", "dense"])
@pytest.mark.parametrize("question, prefix", RETRIEVAL)
def test_retrieval_finds_the_right_article(engine, question, prefix, mode):
    top = [p.source[:3] for p in engine.retrieve(question, mode=mode, top_k=3)]
    assert prefix in top, top


def test_bm25_matches_across_spelling_variants(engine):
    # Diacritics, alef and ya variants in the question must not stop a lexical match.
    hits = engine.retrieve("مُنتدى صناعةِ الدفاع فى لاهاى", mode="bm25", top_k=1)
    assert hits and hits[0].source.startswith("001")


FACTS = [
    ("ما النسبة من الناتج المحلي التي اتفق قادة الحلف على إنفاقها على الدفاع؟", r"5\s*%"),
    ("كم شخصية رفيعة تشارك في منتدى لاهاي للصناعات الدفاعية؟", r"400"),
    ("What percentage of GDP will Bucharest raise defence spending to by 2030?", r"3\.5\s*%"),
    ("متى عقد اجتماع وزراء الدفاع الذي تحدث فيه روته عن القطب الشمالي؟", r"الخميس"),
]


@pytest.mark.parametrize("question, fact", FACTS)
def test_extractive_answer_holds_the_key_fact(engine, question, fact):
    answer = engine.answer(question)
    assert answer.found and answer.mode == "extractive"
    assert re.search(fact, normalize(answer.answer)), answer.answer
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
    assert markers and sorted(set(markers)) == [c.n for c in answer.citations]
    assert markers[0] == 1  # numbered in order of first use
    for citation in answer.citations:
        assert citation.quotes and all(q in citation.text for q in citation.quotes)


@pytest.mark.parametrize(
    "question",
    [
        "ما هي نتائج مباراة كرة القدم بين الأهلي والزمالك؟",
        "How many earthquakes hit the Kamchatka peninsula?",  # only in the page chrome
        "What is the recipe for a chocolate cake?",
        "كم عدد النواب الديمقراطيين الذين كتبوا إلى روبيو؟",  # only in the page chrome
        "hello",  # greetings and gibberish sit close to every sentence alike
        "asdf qwer zxcv",
        "ما هي عاصمة فرنسا؟",  # one shared word ("العاصمة") is not an answer
        "وما سببها؟",  # a follow-up without its conversation
        "كم عدد الجنود الذين سيرسلهم الناتو إلى القطب الشمالي؟",  # the initiative is there, no figure
    ],
)
def test_questions_the_articles_do_not_cover(engine, question):
    answer = engine.answer(question)
    assert answer.found is False
    assert answer.citations == []
    assert "[" not in answer.answer


def test_follow_up_uses_the_previous_question(engine):
    first = "ما هي مبادرة بيرل التابعة للحلف؟"
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": engine.answer(first).answer}]
    follow = engine.answer("ومن يمولها؟", history)
    assert follow.found and follow.citations[0].source.startswith("002")


@pytest.mark.parametrize("question, match", [("", "empty"), ("   ", "empty"), ("س" * 5000, "limit"), (None, "text")])
def test_unusable_questions_are_refused_clearly(engine, question, match):
    with pytest.raises(QuestionError, match=match):
        engine.answer(question)


def test_answer_record_shape(engine):
    data = engine.answer("من هو الأمين العام لحلف الناتو؟").to_dict(id="q1")
    assert list(data)[:9] == ["id", "question", "answer", "short_answer", "found", "mode", "citations", "passages",
                              "timings_ms"]
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}
    for citation in data["citations"]:
        assert set(citation) == {"n", "source", "title", "date", "text", "score", "url", "publisher"}
    for passage in data["passages"]:
        assert set(passage) == {"id", "source", "title", "date", "text", "score", "cited"}


def test_an_answer_lists_every_retrieved_passage_and_which_it_cites(engine):
    """The contract's `passages`: what the answerer was given, best first, cited ones numbered as cited."""
    answer = engine.answer("ما هي مبادرة حارس القطب الشمالي؟")
    passages = answer.to_dict()["passages"]
    assert answer.found and len(passages) == engine.settings.top_k
    assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)
    assert [p["id"] for p in passages] == [p.id for p in engine.retrieve(answer.question)]
    cited = {p["cited"]: p for p in passages if p["cited"] is not None}
    assert sorted(cited) == [c.n for c in answer.citations]
    for citation in answer.citations:
        assert (cited[citation.n]["source"], cited[citation.n]["text"]) == (citation.source, citation.text)
    assert any(p["cited"] is None for p in passages)


@pytest.mark.parametrize(("question", "several"), [
    ("Two articles cover the forums. In which cities were they held?", True),
    ("Which countries are named both in the speech and in the report?", True),
    ("The ministers met twice. On which dates?", True),
    ("ما الفكرة التي كررها الوزير في منتدى لاهاي وفي منتدى بوخارست؟", True),
    ("من حضر الاجتماعين كليهما؟ ومن حضر كلا الاجتماعين؟", True),
    ("التقى الوزيران مرتين، فمتى كان ذلك؟", True),
    ("Who hosted the forum?", False),
    ("في أي مدينة عقد المنتدى؟", False),
    ("Who is the deputy in charge?", False),  # "in" without a second "and in"
    ("في " * 5000 + "؟", False),  # hostile: thousands of first halves, no second
    ("in x " * 5000 + "and in y?", True),
])
def test_questions_about_several_events_are_recognised(question: str, several: bool):
    assert extractive.asks_several_sources(question) is several


def test_a_question_about_several_events_quotes_each_close_article():
    def hit(source: str, text: str) -> Hit:
        return Hit(StoredPassage(f"{source}#0:x", source, source, "", "ar", 0, text, [(0, len(text))]), 1.0)

    texts = {"a": "عقد المنتدى الأول في مدينة بوخارست بحضور الوزراء.", "b": "وعقد المنتدى الثاني في مدينة لاهاي بحضور الخبراء.",
             "c": "وتحدث المشاركون عن التعاون الصناعي في مجالات كثيرة."}
    hits = [hit(source, text) for source, text in texts.items()]
    query = np.array([1.0, 0.0], np.float32)

    def at(cosine: float) -> np.ndarray:
        return np.array([[cosine, np.sqrt(1 - cosine**2)]], np.float32)

    vectors = [at(0.95), at(0.93), at(0.80)]  # b is 0.02 below a; c far below
    one = extractive.choose_quotes("في أي مدينة عقد المنتدى؟", "في أي مدينة عقد المنتدى؟", query, hits, vectors,
                                   (0.0, 0.0, 0))
    both = extractive.choose_quotes("في أي مدينتين عقد المنتدى في المرة الأولى وفي الثانية؟",
                                    "في أي مدينتين عقد المنتدى في المرة الأولى وفي الثانية؟", query, hits, vectors,
                                    (0.0, 0.0, 0))
    assert one == [(0, texts["a"])]
    assert both == [(0, texts["a"]), (1, texts["b"])]


@pytest.mark.parametrize(("question", "parts"), [
    ("Who will represent Australia at the summit, and what other post does he hold?",
     ["Who will represent Australia at the summit", "what other post does he hold"]),
    ("من وزير الدفاع الذي استضاف المنتدى في لاهاي، ومن نظيره الذي تحدث في بروكسل؟",
     ["من وزير الدفاع الذي استضاف المنتدى في لاهاي", "ومن نظيره الذي تحدث في بروكسل"]),
    # A first piece that asks nothing is every part's context.
    ("At the Brussels meetings, which threat was on the agenda, and which region did he name?",
     ["At the Brussels meetings which threat was on the agenda", "At the Brussels meetings which region did he name"]),
    ("اتفق القادة على رفع الإنفاق إلى 5%: بحلول أي عام يجب بلوغ الهدف، وكيف تتوزع النسبة؟",
     ["اتفق القادة على رفع الإنفاق إلى 5% بحلول أي عام يجب بلوغ الهدف", "اتفق القادة على رفع الإنفاق إلى 5% وكيف تتوزع النسبة"]),
    ("Name the initiative that arms Ukraine, and say how much the allies have committed to it by October.",
     ["Name the initiative that arms Ukraine", "how much the allies have committed to it by October"]),
    # One question: a short piece has no subject of its own; a context with one question; none at all.
    ("إلى أي نسبة تريد رومانيا رفع إنفاقها الدفاعي، وبحلول أي عام؟", None),
    ("Under the deal reached at the summit, how much goes to defence-related areas?", None),
    ("What did the minister say about the forum in Bucharest?", None),
    ("في أي مدينة، من مدن أوروبا، عقد المنتدى؟", None),
])
def test_a_compound_question_is_split_into_the_questions_it_asks(question: str, parts: list[str] | None):
    assert extractive.question_parts(question) == (parts or [question])


def test_a_hostile_compound_question_has_at_most_three_parts():
    question = "What happened in the city, and what did the minister say" * 2000 + "?"
    assert len(extractive.question_parts(question)) == extractive.MOST_PARTS


def test_each_part_of_a_compound_question_adds_its_own_best_sentence():
    def hit(source: str, text: str) -> Hit:
        return Hit(StoredPassage(f"{source}#0:x", source, source, "", "ar", 0, text, [(0, len(text))]), 1.0)

    texts = {"a": "استضاف وزير الدفاع الهولندي المنتدى في مدينة لاهاي هذا العام.",
             "b": "وأدلى وزير الحرب الأميركي بتصريحات مشتركة مع الأمين العام في بروكسل.",
             "c": "وتحدث المشاركون عن التعاون الصناعي في مجالات كثيرة."}
    hits = [hit(source, text) for source, text in texts.items()]

    def unit(*values: float) -> np.ndarray:
        vector = np.array(values, np.float32)
        return vector / np.linalg.norm(vector)

    # The whole question is closest to a; its second part is closest to b, which the whole ranks low.
    question, whole = "من استضاف المنتدى في لاهاي، ومن أدلى بتصريحات في بروكسل؟", unit(1, 0, 0)
    vectors = [unit(0.95, 0.1, 0)[None], unit(0.5, 0.86, 0)[None], unit(0.3, 0, 0.95)[None]]
    first, second = unit(1, 0.05, 0), unit(0.45, 0.9, 0)
    alone = extractive.choose_quotes(question, question, whole, hits, vectors, (0.0, 0.0, 0))
    parts = list(zip(extractive.question_parts(question), (first, second)))
    assert alone == [(0, texts["a"])]
    assert extractive.choose_quotes(question, question, whole, hits, vectors, (0.0, 0.0, 0), parts=parts) == \
        [(0, texts["a"]), (1, texts["b"])]


QUERY = np.array([1.0, 0.0], np.float32)


def passage_of(*sentences: str) -> Hit:
    """One Arabic passage of these sentences, as a hit."""
    text, spans = "", []
    for sentence in sentences:
        spans.append((len(text), len(text) + len(sentence)))
        text += sentence + " "
    return Hit(StoredPassage("a#0:x", "a", "a", "", "ar", 0, text.strip(), spans), 1.0)


def at_cosines(*cosines: float) -> np.ndarray:
    """Sentence vectors with these cosines to `QUERY`."""
    return np.array([[c, np.sqrt(1 - c**2)] for c in cosines], np.float32)


def test_a_figure_in_the_sentence_after_the_best_one_is_found():
    first = "أصدرت الوزارة اليوم بيانا عن حصيلة زوار المعرض الدولي للكتاب هذا العام."
    second = "وأوضح البيان أن الحصيلة بلغت 120 ألفا من داخل المملكة وخارجها."
    third = "وتستعد الوزارة لتنظيم الدورة المقبلة من المعرض في الربيع."
    question = "كم عدد زوار معرض الكتاب هذا العام؟"
    vectors = [at_cosines(0.95, 0.85, 0.84)]  # the figure scores low
    assert extractive.choose_quotes(question, question, QUERY, [passage_of(first, second, third)], vectors,
                                    (0.0, 0.0, 0)) == [(0, second), (0, first)]
    assert extractive.choose_quotes(question, question, QUERY, [passage_of(first, third)], [at_cosines(0.95, 0.84)],
                                    (0.0, 0.0, 0)) is None


def test_a_sentence_standing_out_strongly_from_the_index_may_sit_just_under_the_floor():
    cosine = extractive.MIN_DENSE_CROSS_LANGUAGE - extractive.STRONG_RELIEF / 2
    best = extractive.Choice(0, "جملة عربية تجيب عن السؤال المطروح.", cosine, cosine, 0.0, 0)
    mean, sentences = cosine - 0.05, 1000
    strong = (mean, 0.05 / (extractive.STRONG_Z + 0.5), sentences)  # z = STRONG_Z + 0.5
    plain = (mean, 0.05 / (extractive.STRONG_Z - 0.5), sentences)  # above MIN_Z, below STRONG_Z
    assert extractive.is_answerable(best, "en", "ar", strong)
    assert not extractive.is_answerable(best, "en", "ar", plain)


@pytest.mark.parametrize("question, sentence, answers", [
    ("كم تبلغ ميزانية الدفاع بالدولار هذا العام؟", "ورفعت الحكومة الإنفاق الدفاعي إلى 2.5% من الناتج المحلي.", False),
    ("كم تبلغ ميزانية الدفاع بالدولار هذا العام؟", "وبلغت ميزانية الدفاع 9 مليارات دولار هذا العام.", True),
    ("What was the value of the country's arms exports?", "واحتلت البلاد المركز العاشر بين المصدرين في 2019-2023.", False),
    ("What was the value of the country's arms exports?", "وبلغت قيمة صادرات الأسلحة 3.2 مليار يورو العام الماضي.", True),
    ("ما نسبة الناتج المحلي التي تنفقها الدولة على الدفاع؟", "وأنفقت الدولة 40 مليار دولار على الدفاع.", False),
    ("ما نسبة الناتج المحلي التي تنفقها الدولة على الدفاع؟", "وأنفقت الدولة 2 في المئة من ناتجها المحلي على الدفاع.", True),
    ("At what time of day was the report published?", "نشر التقرير في العاشر من أكتوبر 2025 في بروكسل.", False),
    ("At what time of day was the report published?", "نشر التقرير الساعة 15:59 بتوقيت بروكسل.", True),
    ("How many people attended the forum?", "وشارك في المنتدى أكثر من 400 شخصية رفيعة.", True),
    ("How many people attended the forum?", "وشارك في المنتدى وزراء وخبراء من دول كثيرة.", False),
    # A number word is a whole word: not the start of "بالفعل", "ستكون" or "الأربعاء".
    ("كم عدد الدول المشاركة؟", "وقال إن الدول ستكون بالفعل حاضرة يوم الأربعاء.", False),
    ("كم عدد الدول المشاركة؟", "وتشارك في الاجتماع ستة دول وآلاف الخبراء.", True),
    # "How many" wants a count: not a share, not a year, not a date.
    ("كم عدد المدنيين الذين قتلوا في الهجمات؟", "ورفعت الدول إنفاقها إلى 5% من ناتجها المحلي.", False),
    ("كم عدد المدنيين الذين قتلوا في الهجمات؟", "وارتفع الإنفاق 3.5 في المئة في عام 2025.", False),
    ("How many people live in the country?", "The census of 12/2/2026 was published.", False),
    ("بكم يقدر عدد سكان العراق؟", "يقدر عدد سكان العراق بحوالي 37,547,686 نسمة.", True),
    ("How many people attended the forum?", "Some 1,200 people attended.", True),
    # A share in words is a share ("بالمئة" as well as "في المئة").
    ("ما نسبة الناتج المحلي التي تنفقها الدولة على الدفاع؟", "وتنفق الدولة 2 بالمئة من ناتجها المحلي.", True),
    # "When" wants a time: a date, a weekday, a year, an era; not a time of day alone.
    ("When did the meeting open?", "وافتتح الاجتماع صباح اليوم الخميس في بروكسل.", True),
    ("When did the meeting open?", "وافتتح الاجتماع في بروكسل بحضور وزراء الدفاع.", False),
    ("متى بني المسجد؟", "بني المسجد في القرن الثاني الهجري على يد الأمويين.", True),
    ("متى بني المسجد؟", "بني المسجد على يد الأمويين وهو من أكبر مساجد المدينة.", False),
    ("Since when has he led the alliance?", "ويقود الحلف منذ أكتوبر 2024.", True),
    ("متى عقد الاجتماع؟", "وقال الأمين العام إن الاجتماع عقد في بروكسل بحضور الوزراء.", False),  # no "عام" alone
    ("متى عقد الاجتماع؟", "وعقد الاجتماع في بروكسل العام الماضي.", True),
])
def test_a_question_asking_for_a_figure_is_answered_only_by_that_kind_of_figure(question: str, sentence: str,
                                                                               answers: bool):
    figure = extractive.wanted_figure(question)
    assert figure is not None
    assert bool(figure.search(normalize(sentence))) is answers


def test_questions_asking_for_no_figure_want_none():
    assert extractive.wanted_figure("من استضاف المنتدى في لاهاي؟") is None
    assert extractive.wanted_figure("What did Rutte tell the companies to do when expanding production?") is None
    # A date, not a time of day: a date does not answer "at what time".
    assert not extractive.wanted_figure("When did the meeting open?").search(normalize("الساعه"))


@pytest.mark.parametrize(("question", "kind"), [
    ("When was he born?", "date"),
    ("Who said it, and when?", "date"),  # a second question after "and" still asks
    ("By when must it spend 5%?", "date"),
    ("What did Rutte tell defence companies not to fear when expanding their production lines?", "thing"),
    ("What happened when the war ended?", "thing"),
    ("Where is the summit held?", "place"),
    ("Who said it, and where?", "place"),
    ("What did he say where the ministers met?", "thing"),
    ("He resigned. When did he resign?", "date"),
    ("From where did the army march?", "place"),
])
def test_english_when_and_where_ask_only_at_the_start_of_a_question(question: str, kind: str):
    assert extractive.expected_type(question) == kind


def test_a_compound_question_asking_for_two_kinds_of_figure_takes_any_number():
    question = "How many figures took part in the forum, and what share of GDP did the leaders agree to invest?"
    figure = extractive.wanted_figure(question)
    assert figure is not None and figure.search("وشارك 400 شخصية")


def test_a_sum_of_money_is_not_answered_by_a_share_however_close():
    share = "ورفعت رومانيا إنفاقها الدفاعي إلى 2.5% من الناتج المحلي الإجمالي هذا العام."
    other = "وتستعد الحكومة لتنظيم معرض للصناعات الدفاعية في الربيع المقبل."
    money = "وخصصت الحكومة لذلك ميزانية قدرها 9 مليارات دولار."
    question = "كم تبلغ ميزانية الدفاع الرومانية بالدولار هذا العام؟"
    vectors = [at_cosines(0.95, 0.85)]
    assert extractive.choose_quotes(question, question, QUERY, [passage_of(share, other)], vectors,
                                    (0.0, 0.0, 0)) is None
    assert extractive.choose_quotes(question, question, QUERY, [passage_of(share, money)], vectors,
                                    (0.0, 0.0, 0)) == [(0, money), (0, share)]


def test_the_sentence_that_finishes_the_best_one_is_quoted_after_it():
    lead = "في الاجتماعين السابقين، لم يذكر التعاون الصناعي بين الحلف وشركائه في منطقة المحيطين الهندي والهادئ."
    rest = "وقد تركزت المحادثات السابقة على الدفاع السيبراني والأمن البحري وتغير المناخ."
    other = "ويستعد الحلف لعقد قمته المقبلة في الصيف بحضور قادة الدول الأعضاء."
    hit, vectors = passage_of(lead, rest, other), [at_cosines(0.95, 0.80, 0.70)]  # rest scores low
    question = "على ماذا تركزت المحادثات السابقة بين الحلف وشركائه في المحيطين الهندي والهادئ؟"
    assert extractive.choose_quotes(question, question, QUERY, [hit], vectors, (0.0, 0.0, 0)) == [(0, lead), (0, rest)]
    # A neighbour adding fewer than two of the question's words stays out.
    unrelated = "على ماذا اتفق الحلف وشركاؤه في المحيطين الهندي والهادئ؟"
    assert extractive.choose_quotes(unrelated, unrelated, QUERY, [hit], vectors, (0.0, 0.0, 0)) == [(0, lead)]


def test_a_who_question_prefers_the_sentence_that_names_someone():
    general = "ويعقد المنتدى بمبادرة من وزارة الدفاع الهولندية وبالتعاون مع الحلف."
    named = "واستضاف المنتدى وزير الدفاع الهولندي روبن بريكلمانز بحضور الشركاء."
    hits = [Hit(StoredPassage(f"{s}#0:x", s, s, "", "ar", 0, text, [(0, len(text))]), 1.0)
            for s, text in (("a", general), ("b", named))]
    close = extractive.TYPE_BONUS / 2  # the general sentence is this much closer in meaning
    vectors = [at_cosines(0.90 + close), at_cosines(0.90)]
    who = "Who is the Dutch defence minister hosting the industry forum?"
    assert extractive.choose_quotes(who, who, QUERY, hits, vectors, (0.0, 0.0, 0))[0] == (1, named)
    what = "What is the industry forum about?"
    assert extractive.choose_quotes(what, what, QUERY, hits, vectors, (0.0, 0.0, 0))[0] == (0, general)


@pytest.mark.parametrize(("question", "kind"), [
    ("لماذا ارتفعت الأسعار؟", "reason"),
    ("ما سبب ارتفاع الأسعار؟", "reason"),
    ("Why did prices rise?", "reason"),
    ("كيف ينتقل المرض؟", "manner"),
    ("How did the army cross the river?", "manner"),
    ("How many soldiers crossed the river?", "number"),
    ("ما النسبة التي اتفقوا عليها؟", "number"),  # "النسبة" asks for a share, as "نسبة" does
])
def test_why_asks_for_an_explanation_and_how_for_a_means(question: str, kind: str):
    assert extractive.expected_type(question) == kind
