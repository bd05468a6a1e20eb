"""LLM mode against a local OpenAI-compatible server: streaming, citations, language, failures."""

from __future__ import annotations

import re

import pytest

from app.answer.dated import dates_note
from app.answer.prompts import message
from app.answer.record import Answer
from app.engine import Engine
from app.text.arabic import detect_language
from tests.conftest import make_settings
from tests.fake_openai import FakeOpenAI


@pytest.fixture(scope="module")
def fake():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture()
def llm_engine(engine, fake):
    """The session's index, answered through the fake LLM (retries kept short)."""
    fake.behaviour = "ok"
    fake.chunk_chars = 0
    fake.requests.clear()
    settings = make_settings(
        corpus_dir=engine.settings.corpus_dir, index_dir=engine.settings.index_dir,
        openai_api_key="sk-test", openai_base_url=fake.base_url, llm_timeout=1.0, llm_retries=1,
    )
    return Engine(settings)


AR = "ما هي نسبة الإنفاق الدفاعي التي اتفق عليها قادة الحلف؟"
EN = "What share of GDP did NATO leaders agree to spend on defence?"


@pytest.mark.parametrize("question", [AR, EN])
def test_llm_answer_is_cited_checked_and_in_the_question_language(llm_engine, fake, question):
    answer = llm_engine.answer(question)
    assert answer.mode == "llm" and answer.found and answer.notice is None
    assert detect_language(answer.answer) == detect_language(question)
    assert "[99]" not in answer.answer  # a marker naming no passage is dropped
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
    assert sorted(set(markers)) == [c.n for c in answer.citations] and markers[0] == 1
    prompt = fake.requests[-1]["messages"][-1]["content"]
    assert citations_text_in_prompt(answer, prompt)
    assert fake.requests[-1]["model"] == "gpt-4o-mini"


def citations_text_in_prompt(answer: Answer, prompt: str) -> bool:
    return all(c.text in prompt for c in answer.citations)


def test_streaming_yields_deltas_then_the_final_answer(llm_engine):
    items = list(llm_engine.stream(EN))
    deltas, final = items[:-1], items[-1]
    assert len(deltas) > 3 and all(isinstance(d, str) for d in deltas)
    assert isinstance(final, Answer) and final.mode == "llm"


@pytest.mark.parametrize("question", [AR, EN])
@pytest.mark.parametrize("behaviour", ["refuse", "refuse_explained"])
def test_refusal_means_not_found(llm_engine, fake, behaviour, question):
    fake.behaviour = behaviour  # the token alone, or the token and words but no citation
    answer = llm_engine.answer(question)
    assert answer.found is False and answer.citations == [] and answer.mode == "llm"
    assert answer.answer == message("not_found", detect_language(question))


@pytest.mark.parametrize("behaviour", ["error500", "slow", "wrong_language", "no_citation"])
def test_llm_failures_fall_back_to_a_labelled_extractive_answer(llm_engine, fake, behaviour):
    fake.behaviour = behaviour
    fake.delay_s = 3.0
    answer = llm_engine.answer(AR)
    assert answer.mode == "extractive"
    assert answer.notice == message("llm_fallback", "ar")  # visible, in the question's language
    assert answer.found and answer.citations
    if behaviour == "error500":
        assert len(fake.requests) == 2  # retried once (llm_retries=1), then fell back


@pytest.mark.parametrize("behaviour", ["ok", "think"])
def test_follow_up_is_condensed_by_the_llm(llm_engine, fake, behaviour):
    fake.behaviour = behaviour
    history = [{"role": "user", "content": "ما هي مبادرة بيرل؟"}, {"role": "assistant", "content": "..."}]
    llm_engine.answer("ومن يمولها؟", history)
    condense = fake.requests[0]["messages"][-1]["content"]
    assert "Standalone question:" in condense and "مبادرة بيرل" in condense
    answer_prompt = fake.requests[-1]["messages"][-1]["content"]
    assert "مبادرة بيرل" in answer_prompt  # the rewritten question was asked
    assert "unrelated" not in answer_prompt  # and not the thinking before it


def test_an_english_question_answered_in_arabic_falls_back_with_the_english_notice(llm_engine, fake):
    fake.behaviour = "wrong_language"
    answer = llm_engine.answer(EN)
    assert answer.mode == "extractive" and answer.found and answer.citations
    assert answer.notice == message("llm_fallback", "en")
    assert "another language" in answer.notice  # the notice names this reason too


def passages_in(prompt: str) -> dict[int, str]:
    """The answer prompt's passages by number, each from its "[n] heading" line to the next."""
    context = prompt.split("---------------------")[1]
    parts = re.split(r"^\[(\d+)\][^\n]*\n", context, flags=re.MULTILINE)
    return {int(n): text for n, text in zip(parts[1::2], parts[2::2])}


def cited_passages(answer: Answer, prompt: str) -> list[int]:
    """The numbers the prompt gave the passages `answer` cites, in citation order."""
    passages = passages_in(prompt)
    return [next(n for n, text in passages.items() if c.text in text) for c in answer.citations]


# behaviour (a reply in `tests.fake_openai.REPLIES`) -> the English and Arabic answers shown, and the
# passages cited: positions in the prompt's numbering (0 the first, 2 the third, -1 the last).
AS_WRITTEN = {
    "marker_list": ("The leaders agreed on the target [1][2].", "اتفق القادة على الهدف [1][2].", [0, -1]),
    "marker_range": ("The leaders agreed on the target [1][2][3].", "اتفق القادة على الهدف [1][2][3].", [0, 1, 2]),
    "fullwidth": ("The leaders agreed on the target [1], and on its timing [2].",
                  "اتفق القادة على الهدف [1]، وعلى موعده [2].", [0, -1]),
    "footnotes": ("The leaders agreed on the target [1], and on its timing [2].",
                  "اتفق القادة على الهدف [1]، وعلى موعده [2].", [0, -1]),
    "labelled": ("The leaders agreed on the target [1], and on its timing [2].",
                 "اتفق القادة على الهدف [1]، وعلى موعده [2].", [0, -1]),
    "parenthesised": ("The summit met in June (2025). The leaders agreed on the target [1].\n"
                      "(1) a first step, (2) a second step [2].",
                      "انعقدت القمة في يونيو (2025). اتفق القادة على الهدف [1].\n(1) خطوة أولى، (2) خطوة ثانية [2].",
                      [0, -1]),
    "sources_list": ("The leaders agreed on the target [1].", "اتفق القادة على الهدف [1].", [0]),
    "sources_only": ("The leaders agreed on the target. [1][2]", "اتفق القادة على الهدف. [1][2]", [0, -1]),
    "markdown_list": ("The leaders agreed on:\n- the target [1]\n- its timing [2]\n  - in detail [1]\n\n"
                      "1. first the pledge [2]\n2. then the review\n* and a summit",
                      "اتفق القادة على:\n- الهدف [1]\n- موعده [2]\n  - بالتفصيل [1]\n\n"
                      "1. أولاً التعهد [2]\n2. ثم المراجعة\n* وقمة", [0, -1]),
    "think": ("The leaders agreed on the target [1].", "اتفق القادة على الهدف [1].", [0]),
    "think_lone": ("The leaders agreed on the target [1].", "اتفق القادة على الهدف [1].", [0]),
    "partial_refusal": ("The passages don't say when it starts, but [1] says the target was agreed.",
                        "لا تذكر المقاطع موعد البدء، لكن [1] يذكر أن الهدف اتُّفق عليه.", [-1]),
    "partial_refusal_token": ("The passages don't say when it starts, but [1] says the target was agreed.",
                              "لا تذكر المقاطع موعد البدء، لكن [1] يذكر أن الهدف اتُّفق عليه.", [-1]),
}


@pytest.mark.parametrize("question", [EN, AR])
@pytest.mark.parametrize("behaviour", list(AS_WRITTEN))
def test_answers_as_models_write_them_are_read_not_fallen_back_from(llm_engine, fake, behaviour, question):
    fake.behaviour = behaviour
    answer = llm_engine.answer(question)
    english, arabic, cited = AS_WRITTEN[behaviour]
    assert answer.mode == "llm" and answer.found and answer.notice is None
    expected = english if question == EN else arabic
    note = dates_note(answer.citations, "en" if question == EN else "ar")  # sources of different dates
    assert answer.answer == (f"{expected}\n\n{note}" if note else expected)
    prompt = fake.requests[-1]["messages"][-1]["content"]
    numbers = sorted(passages_in(prompt))
    assert len(numbers) >= 3 and cited_passages(answer, prompt) == [numbers[i] for i in cited]
    assert [c.n for c in answer.citations] == list(range(1, len(cited) + 1))


@pytest.mark.parametrize("chunk_chars", [0, 3])  # word by word, or tags split across deltas
def test_thinking_is_never_streamed_nor_cited(llm_engine, fake, chunk_chars):
    fake.behaviour, fake.chunk_chars = "think", chunk_chars
    items = list(llm_engine.stream(EN))
    deltas, final = items[:-1], items[-1]
    assert deltas and not any(x in d for d in deltas for x in ("<", ">", "unrelated", "think"))
    assert "".join(deltas).strip() == "The leaders agreed on the target [1]."
    assert isinstance(final, Answer) and final.mode == "llm" and len(final.citations) == 1


@pytest.mark.parametrize("chunk_chars", [0, 2, 5])
@pytest.mark.parametrize("behaviour", ["sources_list", "sources_only", "partial_refusal_token", "refuse_explained",
                                       "think_lone"])
def test_the_stream_never_shows_the_refusal_token_a_sources_list_or_a_closing_tag(llm_engine, fake, behaviour,
                                                                                   chunk_chars):
    fake.behaviour, fake.chunk_chars = behaviour, chunk_chars
    for question in (EN, AR):
        shown = "".join(item for item in llm_engine.stream(question) if isinstance(item, str))
        assert shown.strip() and not any(x in shown for x in ("NOT_FOUND", "Sources", "References", "المصادر",
                                                                "</think>", "<", "]]"))


def test_a_stream_that_ends_while_thinking_shows_nothing_of_it_and_falls_back(llm_engine, fake):
    fake.behaviour, fake.chunk_chars = "think_unterminated", 4
    items = list(llm_engine.stream(AR))
    deltas, final = items[:-1], items[-1]
    assert deltas == []
    assert isinstance(final, Answer) and final.mode == "extractive"
    assert final.notice == message("llm_fallback", "ar")
