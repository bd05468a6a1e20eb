"""The seed question set: ask the engine, score each answer, summarize the scores per group.

Every per-question record keeps what came back and which checks it passed, so a
summary figure can always be traced to the questions behind it.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.answer.markers import cited_numbers
from app.answer.question import Turn
from app.config import Settings
from app.evaluation import metrics as m
from app.evaluation.configs import RunConfig
from app.evaluation.dataset import LANGS, EvalQuestion

if TYPE_CHECKING:
    from app.answer.record import Answer, Citation
    from app.engine import Engine, Progress

RETRIEVE_K = 10  # passages ranked per question: enough for nDCG@10


def stem(source: str) -> str:
    """The article a passage came from, as the question files name it (file stem)."""
    return Path(source).stem


def cited_articles(cited: list[Citation]) -> list[tuple[str, str]]:
    """The articles an answer cites, `(source stem, date)`, in the order it first cites each."""
    return list(dict.fromkeys((stem(c.source), c.date) for c in cited))


def time_scores(question: EvalQuestion, cited: list[Citation]) -> dict[str, float | None]:
    """The time checks a question asks for: the cited articles lie in the asked period, the newest
    relevant one comes first, the development is told oldest first."""
    articles = cited_articles(cited)
    scores: dict[str, float | None] = {}
    if question.period and question.answerable:  # an empty period has no article to stay inside
        scores["in_period"] = m.in_period([day for _, day in articles], question.period)
    if question.latest:
        scores["latest_first"] = m.latest_first([source for source, _ in articles], question.latest)
    if question.timeline:
        scores["timeline"] = m.timeline_order(articles, question.sources)
    return scores


def _right_about_nothing(question: EvalQuestion, answer: Answer, cited: list[Citation]) -> bool:
    """An unanswerable question is answered right by a refusal; one about an empty period also by an
    answer from outside that period that says so (a notice) and cites nothing inside it."""
    if not answer.found:
        return True
    period = question.period
    return bool(period and answer.notice and not any(m.dated_in(c.date, period) for c in cited))


def score_answer(question: EvalQuestion, answer: Answer, ranked: list[str]) -> dict[str, Any]:
    """One per-question record: what came back and which checks it passed."""
    text = answer.answer
    by_number = {c.n: c for c in answer.citations}
    cited = [by_number[n] for n in cited_numbers(text) if n in by_number]
    # The date on a cited source card is shown with the answer, so a date question may be answered by it.
    shown = "\n".join([text] + [c.date for c in cited if c.date])
    answerable = question.answerable
    facts = [
        {"forms": list(fact), "in_answer": m.fact_in(shown, fact),
         "in_citation": any(m.fact_in(c.text, fact) for c in cited)}
        for fact in question.facts
    ]
    refused = not answer.found
    correct = (not refused and all(f["in_answer"] for f in facts)) if answerable else \
        _right_about_nothing(question, answer, cited)
    record: dict[str, Any] = {
        "ranked_sources": ranked,
        "answer": answer.to_dict(id=question.id),
        "refused": refused,
        "correct": correct,
        "facts": facts,
        "fact_share": sum(bool(f["in_answer"]) for f in facts) / len(facts) if facts else None,
        "cited": [c.n for c in cited],
        "citation_precision": m.citation_precision([(stem(c.source), c.text) for c in cited],
                                                   question.sources, question.facts) if answerable else None,
        "citation_recall": m.citation_recall([c.text for c in cited], question.facts) if answerable else None,
        "faithfulness": m.faithfulness(text, {c.n: c.text for c in answer.citations}) if not refused else None,
        "lang_match": m.language_matches(text, question.lang) if answer.mode == "llm" else None,
        **time_scores(question, cited),
    }
    if answerable:
        record.update({
            "hit@1": m.hit_at_k(ranked, question.sources, 1),
            "hit@5": m.hit_at_k(ranked, question.sources, 5),
            "mrr": m.reciprocal_rank(ranked, question.sources),
            "ndcg@10": m.ndcg_at_k(ranked, question.sources, 10),
        })
    return record


class Judges:
    """llama-index's LLM judges, for `--judge` (an extra opinion, never the gate's basis)."""

    def __init__(self, settings: Settings) -> None:
        from llama_index.core.evaluation import CorrectnessEvaluator, FaithfulnessEvaluator

        from app.answer.llm import LLMAnswerer

        llm = LLMAnswerer(settings).llm
        self.faithfulness = FaithfulnessEvaluator(llm=llm)
        self.correctness = CorrectnessEvaluator(llm=llm)

    def score(self, question: EvalQuestion, answer: Answer) -> dict[str, Any]:
        contexts = [c.text for c in answer.citations] or [""]
        # The judge's reference answer is built from the expected facts.
        reference = "The answer must state: " + "; ".join(" or ".join(fact) for fact in question.facts)
        try:
            faithful = self.faithfulness.evaluate(query=question.question, response=answer.answer, contexts=contexts)
            correct = self.correctness.evaluate(query=question.question, response=answer.answer, reference=reference)
        except Exception as exc:  # a judge failure is recorded, not fatal: it is an optional opinion
            return {"error": f"{type(exc).__name__}: {exc}"}
        return {"faithful": bool(faithful.passing), "correctness": correct.score,
                "reason": (correct.feedback or "")[:500]}


class Conversation:
    """Follow-ups are asked as a chat would ask them: after the question they follow and its answer."""

    def __init__(self, questions: list[EvalQuestion]) -> None:
        self._by_id = {q.id: q for q in questions}
        self._histories: dict[str, list[Turn]] = {}
        self._replies: dict[str, str] = {}

    def start(self, question: EvalQuestion) -> tuple[list[Turn], str]:
        """The history to answer `question` with, and the query to retrieve for it."""
        history: list[Turn] = []
        query = question.question
        if question.follows:
            parent = self._by_id[question.follows]
            history = self._histories[parent.id] + [
                Turn(role="user", content=parent.question),
                Turn(role="assistant", content=self._replies.get(parent.id, "")),
            ]
            # Retrieval is scored as the chat retrieves a follow-up: with the question before it.
            query = f"{parent.question}\n{question.question}"
        self._histories[question.id] = history
        return history, query

    def reply(self, question: EvalQuestion, answer: str) -> None:
        self._replies[question.id] = answer


def _ask(engine: Engine, config: RunConfig, question: EvalQuestion, conversation: Conversation,
         judges: Judges | None) -> dict[str, Any]:
    """Retrieve, answer and score one question (the record fields that depend on the engine)."""
    history, query = conversation.start(question)
    ranked = [stem(p.source) for p in engine.retrieve(query, mode=config.retrieval, top_k=RETRIEVE_K)]
    started = time.perf_counter()
    answer = engine.answer(question.question, history)
    conversation.reply(question, answer.answer)
    latency = (time.perf_counter() - started) * 1000
    record = {**score_answer(question, answer, ranked), "history": [turn.model_dump() for turn in history],
              "latency_ms": round(latency, 1)}
    if judges and not record["refused"]:
        record["judge"] = judges.score(question, answer)
    return record


def evaluate_questions(engine: Engine, config: RunConfig, questions: list[EvalQuestion],
                       judges: Judges | None, progress: Progress) -> list[dict[str, Any]]:
    """Ask every question (follow-ups with their conversation so far) and score the answers."""
    conversation = Conversation(questions)
    records: list[dict[str, Any]] = []
    for i, question in enumerate(questions, start=1):
        base = {"id": question.id, "question": question.question, "lang": question.lang,
                "tags": list(question.tags), "answerable": question.answerable,
                "sources": list(question.sources), "follows": question.follows, "config": config.label,
                "corpus": question.corpus, "time_bound": question.time_bound}
        if question.time_bound:
            base.update(since=question.since, until=question.until, latest=question.latest)
        try:
            records.append({**base, **_ask(engine, config, question, conversation, judges)})
        except Exception as exc:  # recorded and reported as a broken evaluation (exit 2)
            records.append({**base, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
        if i % 10 == 0 or i == len(questions):
            progress(f"[{config.label} {questions[0].corpus}] {i}/{len(questions)} questions")
    return records


def _share(records: list[dict[str, Any]], key: str) -> float | None:
    return m.mean(float(r[key]) for r in records if r.get(key) is not None)


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The metrics of a group of per-question records (None where nothing was measurable)."""
    done = [r for r in records if "error" not in r]
    answerable = [r for r in done if r["answerable"]]
    unanswerable = [r for r in done if not r["answerable"]]
    latencies = [r["latency_ms"] for r in done]
    judged = [r["judge"] for r in done if "judge" in r and "error" not in r["judge"]]
    return {
        "questions": len(records),
        "errors": len(records) - len(done),
        "hit@1": _share(answerable, "hit@1"),
        "hit@5": _share(answerable, "hit@5"),
        "mrr": _share(answerable, "mrr"),
        "ndcg@10": _share(answerable, "ndcg@10"),
        "fact_accuracy": _share(answerable, "correct"),
        "fact_recall": _share(answerable, "fact_share"),
        "refusal_accuracy": _share(unanswerable, "correct"),
        "false_refusal_rate": _share(answerable, "refused"),
        "citation_precision": _share(answerable, "citation_precision"),
        "citation_recall": _share(answerable, "citation_recall"),
        "faithfulness": _share(done, "faithfulness"),
        "lang_match": _share(done, "lang_match"),
        "in_period": _share(answerable, "in_period"),
        "latest_first": _share(answerable, "latest_first"),
        "timeline": _share(answerable, "timeline"),
        "latency_p50_ms": m.percentile(latencies, 50),
        "latency_p95_ms": m.percentile(latencies, 95),
        "judge_faithfulness": m.mean(float(j["faithful"]) for j in judged),
        "judge_correctness": m.mean(j["correctness"] for j in judged),
    }


def _groups(records: list[dict[str, Any]], prefix: str, first: str) -> dict[str, dict[str, Any]]:
    groups = {first: summarize(records)}
    for lang in LANGS:
        groups[f"{prefix}{lang}"] = summarize([r for r in records if r["lang"] == lang])
    for tag in sorted({t for r in records for t in r["tags"]}):
        groups[f"{prefix}tag:{tag}"] = summarize([r for r in records if tag in r["tags"]])
    return groups


def is_time_group(group: str) -> bool:
    """`time`, `time:ar`, `time:tag:latest` …: the groups of the time-bound questions."""
    return group == "time" or group.startswith("time:")


def summarize_groups(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Overall, per language and per question type ("tag:…"); then the same over the time-bound
    questions ("time", "time:ar", "time:tag:latest" …), kept apart so the general figures keep
    their meaning while the engine learns about time."""
    return {**_groups([r for r in records if not r["time_bound"]], "", "overall"),
            **_groups([r for r in records if r["time_bound"]], "time:", "time")}
