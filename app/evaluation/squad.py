"""SQuAD-format sets (e.g. ARCD): paragraph retrieval in every mode, and the answers' EM/F1.

The paragraphs are indexed as their own collection, one article per paragraph,
so the seed index is never touched and a retrieval hit is a paragraph hit.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.answer import short_answer
from app.answer.markers import strip_markers
from app.config import Settings
from app.evaluation import metrics as m
from app.evaluation.configs import RETRIEVALS, RunConfig, config_settings
from app.evaluation.dataset import SquadQuestion, SquadSet, Translations
from app.evaluation.report import SQUAD_RETRIEVAL
from app.evaluation.scoring import RETRIEVE_K, stem
from app.filters import Filters
from app.text.arabic import content_tokens, normalize

if TYPE_CHECKING:
    from app.engine import Engine, Progress

SQUAD_CHUNK_TOKENS = 512  # keeps a paragraph in one passage, so a hit is a paragraph hit
NEAR_COPY = 0.8  # share of the smaller paragraph's content words the other one holds


def squad_corpus(data: SquadSet, digest: str, root: Path) -> Path:
    """Write each paragraph as its own article in a cache folder keyed by `digest`, the file's sha256."""
    folder = root / f"squad-{digest[:12]}"
    corpus, complete = folder / "corpus", folder / "corpus.complete"
    if not complete.exists():  # a run interrupted while writing starts over
        corpus.mkdir(parents=True, exist_ok=True)
        for i, text in enumerate(data.paragraphs):
            (corpus / f"p{i:04d}.txt").write_text(text + "\n", encoding="utf-8")
        complete.write_text(f"{len(data.paragraphs)}\n", encoding="utf-8")
    return folder


class NearCopies:
    """Paragraphs that repeat the gold one: ARCD holds the same Wikipedia lead cut at
    different lengths, and retrieval cannot know which copy an annotator wrote from.

    A paragraph counts as a copy when it holds `NEAR_COPY` of the smaller one's content
    words and contains the answer itself.
    """

    def __init__(self, paragraphs: list[str]) -> None:
        self._texts = [normalize(p) for p in paragraphs]
        self._words = [set(content_tokens(p)) for p in paragraphs]

    def holding(self, answers: Sequence[str]) -> list[str]:
        """Every paragraph that holds one of the answers (normalised), near-copy or not."""
        forms = _forms(answers)
        return [f"p{j:04d}" for j, text in enumerate(self._texts) if any(f in text for f in forms)]

    def of(self, gold: int, answers: Sequence[str]) -> list[str]:
        forms = _forms(answers)
        words = self._words[gold]
        return [f"p{j:04d}" for j, other in enumerate(self._words)
                if j == gold or (len(words & other) >= NEAR_COPY * max(1, min(len(words), len(other)))
                                 and any(f in self._texts[j] for f in forms))]


def _forms(answers: Sequence[str]) -> list[str]:
    """The answers as matched in normalised paragraph text."""
    return [normalize(a) for a in answers if a.strip()]


def _identical(paragraphs: list[str]) -> dict[str, list[str]]:
    """Each paragraph text and the files that hold it: identical paragraphs are all gold,
    since retrieval cannot tell them apart."""
    stems: dict[str, list[str]] = {}
    for i, text in enumerate(paragraphs):
        stems.setdefault(text, []).append(f"p{i:04d}")
    return stems


def _ask(engine: Engine, question: SquadQuestion, gold: list[str], near: list[str],
         holding: list[str]) -> dict[str, Any]:
    """Retrieval in every mode against the gold and its near-copies, then the answer's EM/F1; then
    the question asked again with every paragraph `holding` its answer left out: the archive's
    topic without the answer, where "not found" is right (ARCD has no unanswerable questions;
    this is the near-topic kind, "which country hosts the next summit?")."""
    record: dict[str, Any] = {}
    for mode in RETRIEVALS:
        ranked = [stem(p.source) for p in engine.retrieve(question.question, mode=mode, top_k=RETRIEVE_K)]
        record[mode] = {"hit@1": m.hit_at_k(ranked, gold, 1), "hit@5": m.hit_at_k(ranked, gold, 5),
                        "mrr": m.reciprocal_rank(ranked, gold),
                        "hit@1_copies": m.hit_at_k(ranked, near, 1), "hit@5_copies": m.hit_at_k(ranked, near, 5)}
    started = time.perf_counter()
    answer = engine.answer(question.question)
    record["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    prediction = strip_markers(answer.answer) if answer.found else ""
    short = answer.short_answer or ""  # no short answer scores as an empty prediction
    record.update(answer=answer.answer, short_answer=answer.short_answer, found=answer.found,
                  em=m.exact_match(prediction, question.answers), f1=m.token_f1(prediction, question.answers),
                  short_em=m.exact_match(short, question.answers), short_f1=m.token_f1(short, question.answers))
    # squad_corpus writes each paragraph as "<stem>.txt", its article id.
    absent = engine.answer(question.question, filters=Filters(excluded=tuple(f"{p}.txt" for p in holding)))
    record["absent_refused"] = not absent.found
    return record


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The set's figures over the questions that could be evaluated."""
    done = [r for r in records if "error" not in r]
    latencies = [r["latency_ms"] for r in done]
    return {
        "questions": len(records),
        "errors": len(records) - len(done),
        "retrieval": {mode: {k: m.mean(r[mode][k] for r in done) for k, _ in SQUAD_RETRIEVAL}
                      for mode in RETRIEVALS},
        "answers": {**{k: m.mean(r[k] for r in done) for k in ("em", "f1", "short_em", "short_f1")},
                    "absent_refused": m.mean(float(r["absent_refused"]) for r in done),
                    "found_rate": m.mean(float(r["found"]) for r in done),
                    "latency_p50_ms": m.percentile(latencies, 50), "latency_p95_ms": m.percentile(latencies, 95)},
    }


def _ask_each(engine: Engine, data: SquadSet, questions: Sequence[SquadQuestion], label: str,
              progress: Progress) -> list[dict[str, Any]]:
    """`_ask` for every question, with its gold paragraphs; an error is recorded, not raised."""
    identical, copies = _identical(data.paragraphs), NearCopies(data.paragraphs)
    records: list[dict[str, Any]] = []
    for i, q in enumerate(questions, start=1):
        gold = identical[data.paragraphs[q.paragraph]]
        near = sorted(set(gold) | set(copies.of(q.paragraph, q.answers)))
        record: dict[str, Any] = {"id": q.id, "question": q.question, "gold": gold, "near_copies": near,
                                  "answers": list(q.answers)}
        try:
            record.update(_ask(engine, q, gold, near, sorted(set(gold) | set(copies.holding(q.answers)))))
        except Exception as exc:  # recorded; the run ends with exit 2
            record["error"] = f"{type(exc).__name__}: {exc}"
        records.append(record)
        if i % 50 == 0 or i == len(questions):
            progress(f"[{label}] {i}/{len(questions)} questions")
    return records


def run_squad(path: Path, data: SquadSet, base: Settings, config: RunConfig, limit: int | None,
              progress: Progress, translations: Translations | None = None) -> dict[str, Any]:
    """Paragraph retrieval in every mode, and answer EM/F1, on a separate collection.

    `data` is `path` read (`load_squad`). With `translations`, the translated questions are asked
    too, on the same paragraphs, and summed up beside the same questions in the set's own language."""
    from app.engine import Engine

    started = time.perf_counter()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    folder = squad_corpus(data, digest, base.index_dir)
    engine = Engine(config_settings(base, config).model_copy(update={
        "corpus_dir": folder / "corpus", "index_dir": folder / "index", "chunk_tokens": SQUAD_CHUNK_TOKENS}))
    ingest = engine.ingest(None, prune=True, say=progress)
    index_seconds = time.perf_counter() - started
    questions = data.questions[:limit] if limit else data.questions
    records = _ask_each(engine, data, questions, "squad", progress)
    result = {"file": str(path), "paragraphs": len(data.paragraphs), **_summary(records),
              "short_answer_in_sample": short_answer.model().trained_on == digest,
              "ingest_errors": [list(e) for e in ingest.errors], "answer_config": config.label,
              "index_seconds": round(index_seconds, 1)}
    if translations:
        translated = translations.questions
        asked = [replace(q, question=translated[q.id]) for q in questions if q.id in translated]
        again = _ask_each(engine, data, asked, "squad translated", progress)
        result["translated"] = {"file": translations.file, **_summary(again),
                                "original": _summary([r for r in records if r["id"] in translated]),
                                "records": again}
    return {**result, "seconds": round(time.perf_counter() - started, 1), "records": records}
