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

from app.config import PROJECT_ROOT, Settings, get_settings
from app.evaluation import metrics as m
from app.evaluation.dataset import DatasetError, EvalQuestion, SquadSet, load_questions, load_squad
from app.evaluation.report import compare_runs, console_report, write_html

MODES = ("extractive", "llm")
RETRIEVALS = ("dense", "bm25", "hybrid")
RETRIEVE_K = 10
SQUAD_CHUNK_TOKENS = 512  # keeps a paragraph in one passage, so a hit is a paragraph hit
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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from exc
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
