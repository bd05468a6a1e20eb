"""`python -m app eval`: run question sets through the engine, score, report, gate.

One process for the whole run, so the index and the embedding model load once.
Exit codes keep "the product got worse" apart from "the evaluation broke":
0 every gate passed, 1 a gate failed, 2 bad configuration, bad data or a crash.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import PROJECT_ROOT, Settings, get_settings
from app.evaluation.baseline import load_baseline
from app.evaluation.configs import MODES, RETRIEVALS, ConfigError, RunConfig, config_settings, parse_configs
from app.evaluation.dataset import DatasetError, EvalQuestion, load_questions, load_squad, load_translations
from app.evaluation.gates import Thresholds, check_gates, load_thresholds
from app.evaluation.news import NewsCorpus, prepare_news
from app.evaluation.report import compare_runs, console_report, write_html
from app.evaluation.scoring import Judges, evaluate_questions, summarize_groups
from app.evaluation.squad import run_squad

if TYPE_CHECKING:
    from app.engine import Progress

DEFAULT_QUESTIONS = [PROJECT_ROOT / "evals" / "questions.jsonl", PROJECT_ROOT / "evals" / "time_questions.jsonl"]
DEFAULT_OUT = PROJECT_ROOT / "artifacts" / "eval"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path,
                        help="JSON Lines question files (default: "
                             f"{' '.join(str(f.relative_to(PROJECT_ROOT)) for f in DEFAULT_QUESTIONS)})")
    parser.add_argument("--mode", choices=MODES, help="answer mode (default: llm when a key is set)")
    parser.add_argument("--retrieval", choices=RETRIEVALS, help="retrieval mode (default: from settings)")
    parser.add_argument("--compare", nargs="+", metavar="CONFIG",
                        help="several configurations side by side: MODE/RETRIEVAL, or just one part "
                             "(e.g. 'dense bm25 hybrid' or 'extractive llm')")
    parser.add_argument("--squad", type=Path, metavar="FILE", help="also run a SQuAD-format set (e.g. ARCD)")
    parser.add_argument("--squad-translations", type=Path, metavar="FILE",
                        help="with --squad: also ask its questions as translated in this JSON Lines file "
                             '({"id", "question"} a line, e.g. evals/arcd_en.jsonl)')
    parser.add_argument("--news", type=Path, metavar="PATH",
                        help="the news-ar archives (folder or .jsonl): index the subset in evals/news_subset.json "
                             "and ask the questions written on it (corpus: news)")
    parser.add_argument("--news-index", type=Path, metavar="DIR",
                        help="with --news: ask the news questions on this index of the whole archive (e.g. "
                             "bench/scale.py's NEWSQA_INDEX_DIR) instead of indexing the subset alone")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for eval.json and eval.html")
    parser.add_argument("--baseline", type=Path, metavar="PREV.json", help="a previous eval.json to compare with")
    parser.add_argument("--judge", action="store_true",
                        help="also score with llama-index's LLM judges (needs OPENAI_API_KEY)")
    parser.add_argument("--thresholds", type=Path, metavar="FILE", help="gates (e.g. evals/thresholds.json)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N questions of each set")
    return parser


def _public_settings(settings: Settings) -> dict[str, Any]:
    """What shaped the results (never secrets), so two reports can be told apart."""
    keys = ("embedder", "chunk_tokens", "chunk_overlap_tokens", "top_k", "candidates", "llm_model")
    data = {k: getattr(settings, k) for k in keys}
    data.update(corpus_dir=str(settings.corpus_dir), index_dir=str(settings.index_dir),
                llm_enabled=settings.llm_enabled, today=settings.today.isoformat() if settings.today else None)
    return data


def _ask_news(config: RunConfig, settings: Settings, news: NewsCorpus, questions: list[EvalQuestion],
              judges: Judges | None, progress: Progress) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The news questions on an engine over the subset (indexed by the first configuration, found
    unchanged by the others), and what that engine was."""
    from app.engine import Engine

    engine = Engine(news.settings(config_settings(settings, config)))
    started = time.perf_counter()
    if news.archive_index:  # asked as it is: never built or written here
        if not engine.snapshot.articles:
            raise ConfigError(f"--news-index {news.archive_index} holds no article")
        errors: list[list[str]] = []
    else:
        errors = [list(e) for e in engine.ingest(None, prune=True, say=progress).errors]
    ready = time.perf_counter() - started
    records = evaluate_questions(engine, config, questions, judges, progress)
    return records, {"stats": engine.stats(), "ready_seconds": round(ready, 1), "ingest_errors": errors,
                     "seconds": round(time.perf_counter() - started, 1)}


def _run_config(config: RunConfig, settings: Settings, questions: list[EvalQuestion], judges: Judges | None,
                news: NewsCorpus | None, progress: Progress) -> dict[str, Any]:
    """One configuration's part of eval.json: the index it ran on, its summaries and records."""
    from app.engine import Engine

    engine = Engine(config_settings(settings, config))
    started = time.perf_counter()
    engine.ensure_ready(progress=progress)
    ready = time.perf_counter() - started
    records = evaluate_questions(engine, config, [q for q in questions if q.corpus == "seeds"], judges, progress)
    run: dict[str, Any] = {"label": config.label, "mode": config.mode, "retrieval": config.retrieval,
                           "stats": engine.stats(), "ready_seconds": round(ready, 1)}
    on_news = [q for q in questions if q.corpus == "news"]
    if news and on_news:
        news_records, run["news"] = _ask_news(config, settings, news, on_news, judges, progress)
        records += news_records
    return {**run, "seconds": round(time.perf_counter() - started, 1),
            "summary": summarize_groups(records), "records": records}


def _write_reports(result: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    write_html(result, out / "eval.html")
    print(console_report(result))
    print(f"\nreports: {out / 'eval.json'}  {out / 'eval.html'}")


def _count_errors(result: dict[str, Any]) -> int:
    count = sum("error" in r for run in result["runs"] for r in run["records"])
    squad = result.get("squad") or {}
    return count + squad.get("errors", 0) + squad.get("translated", {}).get("errors", 0)


def run(args: argparse.Namespace, settings: Settings, progress: Progress = _stderr) -> int:
    """The whole run; every input is checked before the engine starts, so a bad one costs nothing."""
    if args.limit is not None and args.limit < 1:
        raise ConfigError("--limit must be at least 1")
    configs = parse_configs(args.mode, args.retrieval, args.compare, settings)
    thresholds = load_thresholds(args.thresholds) if args.thresholds else Thresholds()
    baseline = load_baseline(args.baseline) if args.baseline else None
    files = args.files or DEFAULT_QUESTIONS
    questions = load_questions(files)[: args.limit]
    if args.judge and not settings.llm_enabled:
        raise ConfigError("--judge needs an LLM: set OPENAI_API_KEY")
    if args.squad_translations and not args.squad:
        raise ConfigError("--squad-translations needs --squad FILE (the set they translate)")
    squad = load_squad(args.squad) if args.squad else None
    translations = load_translations(args.squad_translations, squad) if squad and args.squad_translations else None
    if args.news_index and not args.news:
        raise ConfigError("--news-index needs --news PATH (the archive the subset's questions come from)")
    news = prepare_news(args.news, settings, archive_index=args.news_index) if args.news else None
    unasked = 0 if news else sum(q.corpus == "news" for q in questions)
    if unasked:
        progress(f"{unasked} question(s) on the news-ar subset skipped: they need --news PATH")
    judges = Judges(settings) if args.judge else None
    started = time.perf_counter()
    result: dict[str, Any] = {
        "version": 1, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": [str(f) for f in files], "limit": args.limit, "settings": _public_settings(settings),
        "runs": [_run_config(config, settings, questions, judges, news, progress) for config in configs],
    }
    if news:
        result["news"] = news.describe()
    elif unasked:
        result["news_skipped"] = unasked
    if squad:
        result["squad"] = run_squad(args.squad, squad, settings, configs[0], args.limit, progress, translations)
    result["seconds"] = round(time.perf_counter() - started, 1)
    gate_error = None
    try:
        result["gates"] = check_gates(result, thresholds)
    except ConfigError as exc:  # still write what was measured before failing
        gate_error, result["gates"] = exc, []
    if baseline:
        result["comparison"] = compare_runs(baseline, result)
    _write_reports(result, args.out)
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
