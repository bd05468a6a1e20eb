"""LLM mode against a local OpenAI-compatible server: streaming, citations, language, failures."""

from __future__ import annotations

import re

import pytest

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


def test_refusal_means_not_found(llm_engine, fake):
    fake.behaviour = "refuse"
    answer = llm_engine.answer(EN)
    assert answer.found is False and answer.citations == [] and answer.mode == "llm"


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


def test_follow_up_is_condensed_by_the_llm(llm_engine, fake):
    history = [{"role": "user", "content": "ما هي مبادرة بيرل؟"}, {"role": "assistant", "content": "..."}]
    llm_engine.answer("ومن يمولها؟", history)
    condense = fake.requests[0]["messages"][-1]["content"]
    assert "Standalone question:" in condense and "مبادرة بيرل" in condense
    answer_prompt = fake.requests[-1]["messages"][-1]["content"]
    assert "مبادرة بيرل" in answer_prompt  # the rewritten question was asked
