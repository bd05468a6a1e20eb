"""Questions while an archive is being ingested: ask latency and `/healthz`, before and during.

    .venv/bin/python bench/during_ingest.py [--articles 200] [--clients 4]

Starts, on loopback, a `chroma run` server and `python -m app serve` against it
(server mode, so that a separate `python -m app ingest` process may write while
`serve` answers), then measures `/api/ask` under `--clients` concurrent clients
for a while with nothing else running, and again for as long as an ingest of the
first `--articles` records of `../shared/data/news-ar` runs. Everything it starts
is stopped at the end; it is bounded by `--timeout`. The servers' and the
ingest's own output is kept in `bench/.work/during/` (`chroma.log`, `serve.log`,
`ingest.log`), to explain any failed request.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import Deadline, wait_ready  # noqa: E402
from bench.load import Run, load_questions, run_load  # noqa: E402
from tests.web_helpers import free_port  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "news-ar"
LOGS = REPO / "bench" / ".work" / "during"


def first_records(target: Path, count: int) -> Path:
    lines: list[bytes] = []
    for path in sorted(DATA.glob("*.jsonl")):
        with path.open("rb") as handle:
            lines += [line for _, line in zip(range(count - len(lines)), handle)]
    target.write_bytes(b"".join(lines))
    return target


def merged(runs: list[Run]) -> Run:
    total = Run(runs[0].clients)
    for run in runs:
        total.latencies += run.latencies
        total.errors += run.errors
        total.wall += run.wall
        total.health_errors += run.health_errors
    total.health_max = max(run.health_max for run in runs)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--baseline-seconds", type=float, default=30)
    parser.add_argument("--timeout", type=float, default=3600, help="bound on the whole run (s)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill` stops what it started, too
    deadline = Deadline(args.timeout)
    work = Path(tempfile.mkdtemp(prefix="newsqa-during-"))
    chroma_port, port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "NEWSQA_"))}
    env.update(CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(chroma_port), CHROMA_DATABASE="during",
               NEWSQA_INDEX_DIR=str(work / "index"), NEWSQA_CORPUS_DIR=str(shutil.copytree(REPO / "seeds", work / "seeds")),
               NEWSQA_FEEDBACK_FILE=str(work / "feedback.jsonl"), NEWSQA_PORT=str(port), PYTHONPATH=str(REPO))
    LOGS.mkdir(parents=True, exist_ok=True)
    logs = {name: (LOGS / f"{name}.log").open("w") for name in ("chroma", "serve", "ingest")}
    chroma = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(work / "chroma"),
                               "--host", "127.0.0.1", "--port", str(chroma_port)],
                              stdout=logs["chroma"], stderr=subprocess.STDOUT)
    server = ingest = None
    try:
        time.sleep(3)
        server = subprocess.Popen([sys.executable, "-m", "app", "serve"], env=env, cwd=work,
                                  stdout=logs["serve"], stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        if not wait_ready(url, min(600, deadline.remaining())):
            print("serve did not get ready", file=sys.stderr)
            return 2
        questions = load_questions(REPO / "evals" / "questions.jsonl")
        before = run_load(url, args.clients, 10**6, questions, args.baseline_seconds, 60)
        archive = first_records(work / "news.jsonl", args.articles)
        started = time.perf_counter()
        ingest = subprocess.Popen([sys.executable, "-m", "app", "ingest", str(archive)], env=env, cwd=work,
                                  stdout=subprocess.PIPE, stderr=logs["ingest"], text=True)
        during: list[Run] = []
        print(f"before: {before.report()}", flush=True)
        while ingest.poll() is None and not deadline.expired:
            during.append(run_load(url, args.clients, 10**6, questions, min(20, deadline.remaining()), 60))
            if len(during) % 15 == 0:  # every 5 minutes: a stopped run still has its figures so far
                print(f"during, first {time.perf_counter() - started:.0f} s: {merged(during).report()}", flush=True)
        ingest_s = time.perf_counter() - started
        summary = (ingest.communicate(timeout=60)[0] or "").splitlines()[:1]
        print(f"ingest of {args.articles} articles while {args.clients} clients ask: {ingest_s:.0f} s; {summary}")
        print(f"during: {merged(during).report()}" if during else "during: no load run")
        return 0
    finally:
        for process in (ingest, server, chroma):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        for handle in logs.values():
            handle.close()
        shutil.rmtree(work, ignore_errors=True)
        print(f"logs: {LOGS}")


if __name__ == "__main__":
    raise SystemExit(main())
