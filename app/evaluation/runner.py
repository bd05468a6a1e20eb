"""`python -m app eval`: run question sets through the engine, score, report, gate.

One process for the whole run, so the index and the embedding model load once.
Exit codes keep "the product got worse" apart from "the evaluation broke":
0 every gate passed, 1 a gate failed, 2 bad configuration, bad data or a crash.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from app.answer.markers import cited_numbers, strip_markers
from app.config import PROJECT_ROOT, Settings, get_settings
from app.evaluation import metrics as m
from app.evaluation.dataset import DatasetError, EvalQuestion, SquadSet, load_questions, load_squad, read_json
from app.evaluation.report import SQUAD_RETRIEVAL, compare_runs, console_report, write_html
from app.text.arabic import content_tokens, normalize

MODES = ("extractive", "llm")
RETRIEVALS = ("dense", "bm25", "hybrid")
RETRIEVE_K = 10
SQUAD_CHUNK_TOKENS = 512  # keeps a paragraph in one passage, so a hit is a paragraph hit
NEAR_COPY = 0.8  # share of the smaller paragraph's content words the other one holds
DEFAULT_QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"
DEFAULT_OUT = PROJECT_ROOT / "artifacts" / "eval"

Progress = Callable[[str], None]


class ConfigError(ValueError):
    """The run is asked for something it cannot do (message says what to change)."""


@dataclass(frozen=True)
class RunConfig:
    mode: str
    retrieval: str

    @property
    def label(self) -> str:
        return f"{self.mode}/{self.retrieval}"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path,
                        help=f"JSON Lines question files (default: {DEFAULT_QUESTIONS.relative_to(PROJECT_ROOT)})")
    parser.add_argument("--mode", choices=MODES, help="answer mode (default: llm when a key is set)")
    parser.add_argument("--retrieval", choices=RETRIEVALS, help="retrieval mode (default: from settings)")
    parser.add_argument("--compare", nargs="+", metavar="CONFIG",
                        help="several configurations side by side: MODE/RETRIEVAL, or just one part "
                             "(e.g. 'dense bm25 hybrid' or 'extractive llm')")
    parser.add_argument("--squad", type=Path, metavar="FILE", help="also run a SQuAD-format set (e.g. ARCD)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for eval.json and eval.html")
    parser.add_argument("--baseline", type=Path, metavar="PREV.json", help="a previous eval.json to compare with")
    parser.add_argument("--judge", action="store_true",
                        help="also score with llama-index's LLM judges (needs OPENAI_API_KEY)")
    parser.add_argument("--thresholds", type=Path, metavar="FILE", help="gates (e.g. evals/thresholds.json)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N questions of each set")
    return parser


def parse_configs(args: argparse.Namespace, settings: Settings) -> list[RunConfig]:
    """The configurations to run, from --mode/--retrieval and --compare."""
    mode = args.mode or ("llm" if settings.llm_enabled else "extractive")
    retrieval = args.retrieval or settings.retrieval
    configs: list[RunConfig] = []
    for spec in args.compare or [f"{mode}/{retrieval}"]:
        parts = [p for p in spec.replace(",", "/").split("/") if p]
        cfg_mode = next((p for p in parts if p in MODES), mode)
        cfg_retrieval = next((p for p in parts if p in RETRIEVALS), retrieval)
        unknown = [p for p in parts if p not in MODES + RETRIEVALS]
        if unknown or not parts:
            raise ConfigError(f"--compare {spec!r}: expected MODE/RETRIEVAL with MODE in {MODES} "
                              f"and RETRIEVAL in {RETRIEVALS}")
        config = RunConfig(cfg_mode, cfg_retrieval)
        if config not in configs:
            configs.append(config)
    if any(c.mode == "llm" for c in configs) and not settings.llm_enabled:
        raise ConfigError("LLM mode needs OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server)")
    return configs


def config_settings(base: Settings, config: RunConfig) -> Settings:
    update: dict[str, Any] = {"retrieval": config.retrieval}
    if config.mode == "extractive":
        update["openai_api_key"] = None  # the engine answers extractively without a key
    return base.model_copy(update=update)


# --- thresholds ------------------------------------------------------------------------------

def load_thresholds(path: Path) -> dict[str, Any]:
    """Read and shape-check the gates file: {section: {group: {metric: {"min"|"max": x}}}}."""
    data = read_json(path, ConfigError)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    for section, groups in data.items():
        if section == "note":
            continue
        if section not in (*MODES, "squad") or not isinstance(groups, dict):
            raise ConfigError(f"{path}: unknown section {section!r} (use extractive, llm, squad)")
        for group, gates in groups.items():
            for metric, bound in (gates.items() if isinstance(gates, dict) else [(None, None)]):
                if not (isinstance(bound, dict) and len(bound) == 1 and next(iter(bound)) in ("min", "max")
                        and isinstance(next(iter(bound.values())), (int, float))):
                    raise ConfigError(f"{path}: {section}.{group}.{metric}: expected {{\"min\": x}} or {{\"max\": x}}")
    return data


def check_gates(result: dict[str, Any], thresholds: dict[str, Any]) -> list[dict[str, Any]]:
    """Every gate that applies to this run, with its value and whether it held."""
    scopes: list[tuple[str, str, dict[str, Any]]] = []
    for run in result["runs"]:
        for group, gates in thresholds.get(run["mode"], {}).items():
            if group not in run["summary"]:
                raise ConfigError(f"thresholds: no group {group!r} in {run['label']} "
                                  f"(have {', '.join(run['summary'])})")
            scopes.append((f"{run['label']} {group}", run["summary"][group], gates))
    squad = result.get("squad")
    if squad:
        for group, gates in thresholds.get("squad", {}).items():
            values = squad["retrieval"].get(group) or (squad["answers"] if group == "answers" else None)
            if values is None:
                raise ConfigError(f"thresholds: squad group {group!r} is not one of {RETRIEVALS} or 'answers'")
            scopes.append((f"squad {group}", values, gates))
    results = []
    for scope, values, gates in scopes:
        for metric, bound in gates.items():
            if metric not in values:
                raise ConfigError(f"thresholds: unknown metric {metric!r} for {scope}")
            value = values[metric]
            if value is None:
                raise ConfigError(f"thresholds: {scope} {metric} was not measured in this run")
            op, limit = next(iter(bound.items()))
            passed = value >= limit if op == "min" else value <= limit
            results.append({"scope": scope, "metric": metric, "op": op, "bound": limit,
                            "value": value, "passed": passed})
    return results


# --- the seed question set -------------------------------------------------------------------

def _stem(source: str) -> str:
    return Path(source).stem


def _reference(question: EvalQuestion) -> str:
    """A reference answer for the LLM judge, built from the expected facts."""
    return "The answer must state: " + "; ".join(" or ".join(fact) for fact in question.facts)


def score_answer(question: EvalQuestion, answer: Any, ranked: list[str]) -> dict[str, Any]:
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
    correct = (not refused and all(f["in_answer"] for f in facts)) if answerable else refused
    record: dict[str, Any] = {
        "ranked_sources": ranked,
        "answer": answer.to_dict(id=question.id),
        "refused": refused,
        "correct": correct,
        "facts": facts,
        "fact_share": sum(f["in_answer"] for f in facts) / len(facts) if facts else None,
        "cited": [c.n for c in cited],
        "citation_precision": m.citation_precision([(_stem(c.source), c.text) for c in cited],
                                                   question.sources, question.facts) if answerable else None,
        "citation_recall": m.citation_recall([c.text for c in cited], question.facts) if answerable else None,
        "faithfulness": m.faithfulness(text, {c.n: c.text for c in answer.citations}) if not refused else None,
        "lang_match": m.language_matches(text, question.lang) if answer.mode == "llm" else None,
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

    def score(self, question: EvalQuestion, answer: Any) -> dict[str, Any]:
        contexts = [c.text for c in answer.citations] or [""]
        try:
            faithful = self.faithfulness.evaluate(query=question.question, response=answer.answer, contexts=contexts)
            correct = self.correctness.evaluate(query=question.question, response=answer.answer,
                                                reference=_reference(question))
        except Exception as exc:  # a judge failure is recorded, not fatal: it is an optional opinion
            return {"error": f"{type(exc).__name__}: {exc}"}
        return {"faithful": bool(faithful.passing), "correctness": correct.score,
                "reason": (correct.feedback or "")[:500]}


def evaluate_questions(engine: Any, config: RunConfig, questions: list[EvalQuestion],
                       judges: Judges | None, progress: Progress) -> list[dict[str, Any]]:
    """Ask every question (follow-ups with their conversation so far) and score the answers."""
    by_id = {q.id: q for q in questions}
    histories: dict[str, list[dict[str, str]]] = {}
    replies: dict[str, str] = {}
    records: list[dict[str, Any]] = []
    for i, question in enumerate(questions, start=1):
        history: list[dict[str, str]] = []
        query = question.question
        if question.follows:
            parent = by_id[question.follows]
            history = histories[parent.id] + [
                {"role": "user", "content": parent.question},
                {"role": "assistant", "content": replies.get(parent.id, "")},
            ]
            # Retrieval is scored as the chat retrieves a follow-up: with the question before it.
            query = f"{parent.question}\n{question.question}"
        histories[question.id] = history
        base = {"id": question.id, "question": question.question, "lang": question.lang,
                "tags": list(question.tags), "answerable": question.answerable,
                "sources": list(question.sources), "follows": question.follows, "config": config.label}
        try:
            ranked = [_stem(p.source) for p in engine.retrieve(query, mode=config.retrieval, top_k=RETRIEVE_K)]
            started = time.perf_counter()
            answer = engine.answer(question.question, history)
            replies[question.id] = answer.answer
            latency = (time.perf_counter() - started) * 1000
            record = {**base, **score_answer(question, answer, ranked), "history": history,
                      "latency_ms": round(latency, 1)}
            if judges and not record["refused"]:
                record["judge"] = judges.score(question, answer)
        except Exception as exc:  # recorded and reported as a broken evaluation (exit 2)
            record = {**base, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        records.append(record)
        if i % 10 == 0 or i == len(questions):
            progress(f"[{config.label}] {i}/{len(questions)} questions")
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
    summary = {
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
        "latency_p50_ms": m.percentile(latencies, 50),
        "latency_p95_ms": m.percentile(latencies, 95),
        "judge_faithfulness": m.mean(float(j["faithful"]) for j in judged),
        "judge_correctness": m.mean(j["correctness"] for j in judged),
    }
    return summary


def summarize_groups(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Overall, per language and per question type ("tag:…")."""
    groups = {"overall": summarize(records)}
    for lang in ("ar", "en"):
        groups[lang] = summarize([r for r in records if r["lang"] == lang])
    for tag in sorted({t for r in records for t in r["tags"]}):
        groups[f"tag:{tag}"] = summarize([r for r in records if tag in r["tags"]])
    return groups


# --- SQuAD-format sets -----------------------------------------------------------------------

def squad_corpus(data: SquadSet, source: Path, root: Path) -> Path:
    """Write each paragraph as its own article in a cache folder keyed by the file's hash."""
    folder = root / f"squad-{hashlib.sha256(source.read_bytes()).hexdigest()[:12]}"
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

    def of(self, gold: int, answers: Sequence[str]) -> list[str]:
        forms = [normalize(a) for a in answers if a.strip()]
        words = self._words[gold]
        return [f"p{j:04d}" for j, other in enumerate(self._words)
                if j == gold or (len(words & other) >= NEAR_COPY * max(1, min(len(words), len(other)))
                                 and any(f in self._texts[j] for f in forms))]


def run_squad(path: Path, base: Settings, config: RunConfig, limit: int | None,
              progress: Progress) -> dict[str, Any]:
    """Paragraph retrieval in every mode, and answer EM/F1, on a separate collection."""
    from app.engine import Engine

    started = time.perf_counter()
    data = load_squad(path)
    folder = squad_corpus(data, path, base.index_dir)
    engine = Engine(config_settings(base, config).model_copy(update={
        "corpus_dir": folder / "corpus", "index_dir": folder / "index", "chunk_tokens": SQUAD_CHUNK_TOKENS}))
    ingest = engine.ingest(None, prune=True, say=progress)
    index_seconds = time.perf_counter() - started
    # Identical paragraphs are all gold: retrieval cannot tell them apart.
    stems: dict[str, list[str]] = {}
    for i, text in enumerate(data.paragraphs):
        stems.setdefault(text, []).append(f"p{i:04d}")
    copies = NearCopies(data.paragraphs)
    questions = data.questions[:limit] if limit else data.questions
    records: list[dict[str, Any]] = []
    for i, q in enumerate(questions, start=1):
        gold = stems[data.paragraphs[q.paragraph]]
        near = sorted(set(gold) | set(copies.of(q.paragraph, q.answers)))
        record: dict[str, Any] = {"id": q.id, "question": q.question, "gold": gold, "near_copies": near,
                                  "answers": list(q.answers)}
        try:
            for mode in RETRIEVALS:
                ranked = [_stem(p.source) for p in engine.retrieve(q.question, mode=mode, top_k=RETRIEVE_K)]
                record[mode] = {"hit@1": m.hit_at_k(ranked, gold, 1), "hit@5": m.hit_at_k(ranked, gold, 5),
                                "mrr": m.reciprocal_rank(ranked, gold),
                                "hit@1_copies": m.hit_at_k(ranked, near, 1), "hit@5_copies": m.hit_at_k(ranked, near, 5)}
            t0 = time.perf_counter()
            answer = engine.answer(q.question)
            record["latency_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            prediction = strip_markers(answer.answer) if answer.found else ""
            record.update(answer=answer.answer, found=answer.found,
                          em=m.exact_match(prediction, q.answers), f1=m.token_f1(prediction, q.answers))
        except Exception as exc:  # recorded; the run ends with exit 2
            record["error"] = f"{type(exc).__name__}: {exc}"
        records.append(record)
        if i % 50 == 0 or i == len(questions):
            progress(f"[squad] {i}/{len(questions)} questions")
    done = [r for r in records if "error" not in r]
    latencies = [r["latency_ms"] for r in done]
    return {
        "file": str(path),
        "paragraphs": len(data.paragraphs),
        "questions": len(records),
        "errors": len(records) - len(done),
        "ingest_errors": [list(e) for e in ingest.errors],
        "answer_config": config.label,
        "retrieval": {mode: {k: m.mean(r[mode][k] for r in done) for k, _ in SQUAD_RETRIEVAL}
                      for mode in RETRIEVALS},
        "answers": {"em": m.mean(r["em"] for r in done), "f1": m.mean(r["f1"] for r in done),
                    "found_rate": m.mean(float(r["found"]) for r in done),
                    "latency_p50_ms": m.percentile(latencies, 50), "latency_p95_ms": m.percentile(latencies, 95)},
        "index_seconds": round(index_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "records": records,
    }


# --- the whole run ---------------------------------------------------------------------------

def _public_settings(settings: Settings) -> dict[str, Any]:
    """What shaped the results (never secrets), so two reports can be told apart."""
    keys = ("embedder", "chunk_tokens", "chunk_overlap_tokens", "top_k", "candidates", "llm_model")
    data = {k: getattr(settings, k) for k in keys}
    data.update(corpus_dir=str(settings.corpus_dir), index_dir=str(settings.index_dir),
                llm_enabled=settings.llm_enabled)
    return data


def load_baseline(path: Path) -> dict[str, Any]:
    data = read_json(path, ConfigError)
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise ConfigError(f"--baseline {path}: not an eval.json written by this runner")
    return data


def _count_errors(result: dict[str, Any]) -> int:
    count = sum(r["summary"]["overall"]["errors"] for r in result["runs"])
    return count + (result["squad"]["errors"] if result.get("squad") else 0)


def run(args: argparse.Namespace, settings: Settings, progress: Progress = _stderr) -> int:
    from app.engine import Engine

    if args.limit is not None and args.limit < 1:
        raise ConfigError("--limit must be at least 1")
    configs = parse_configs(args, settings)
    thresholds = load_thresholds(args.thresholds) if args.thresholds else {}
    baseline = load_baseline(args.baseline) if args.baseline else None
    files = args.files or [DEFAULT_QUESTIONS]
    questions = load_questions(files)[: args.limit]
    if args.judge and not settings.llm_enabled:
        raise ConfigError("--judge needs an LLM: set OPENAI_API_KEY")
    judges = Judges(settings) if args.judge else None
    started = time.perf_counter()
    result: dict[str, Any] = {
        "version": 1,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": [str(f) for f in files],
        "limit": args.limit,
        "settings": _public_settings(settings),
        "runs": [],
    }
    for config in configs:
        engine = Engine(config_settings(settings, config))
        t0 = time.perf_counter()
        engine.ensure_ready(progress=progress)
        ready = time.perf_counter() - t0
        records = evaluate_questions(engine, config, questions, judges, progress)
        result["runs"].append({
            "label": config.label, "mode": config.mode, "retrieval": config.retrieval,
            "stats": engine.stats(), "ready_seconds": round(ready, 1),
            "seconds": round(time.perf_counter() - t0, 1),
            "summary": summarize_groups(records), "records": records,
        })
    if args.squad:
        result["squad"] = run_squad(args.squad, settings, configs[0], args.limit, progress)
    result["seconds"] = round(time.perf_counter() - started, 1)
    gate_error = None
    try:
        result["gates"] = check_gates(result, thresholds)
    except ConfigError as exc:  # still write what was measured before failing
        gate_error, result["gates"] = exc, []
    if baseline:
        result["comparison"] = compare_runs(baseline, result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    write_html(result, args.out / "eval.html")
    print(console_report(result))
    print(f"\nreports: {args.out / 'eval.json'}  {args.out / 'eval.html'}")
    if gate_error:
        raise gate_error
    if errors := _count_errors(result):
        print(f"error: {errors} question(s) could not be evaluated (see 'error' in eval.json)", file=sys.stderr)
        return 2
    return 1 if any(not g["passed"] for g in result["gates"]) else 0


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """Entry point of `python -m app eval`; returns the exit code (0 pass, 1 gate failed, 2 broken)."""
    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse: --help is 0, a bad option is 2
        return int(exc.code or 0)
    settings = settings or get_settings()  # a bad setting is the CLI's one-line error, not a crash
    try:
        return run(args, settings)
    except (ConfigError, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        print("error: the evaluation crashed (exit 2)", file=sys.stderr)
        return 2
