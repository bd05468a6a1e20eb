"""Concurrent `/api/ask` load against a running newsqa server, with `/healthz` polled alongside.

    .venv/bin/python bench/load.py --url http://127.0.0.1:7871                 # 20 clients x 15 questions
    .venv/bin/python bench/load.py --url http://127.0.0.1:7871 --clients 1     # the single-client baseline
    .venv/bin/python bench/load.py --url http://127.0.0.1:7871 --compare       # 1 client, then 20, and the ratios

Prints requests/s, p50/p95/max latency, the error count and the slowest `/healthz`.
The questions (Arabic and English) come from `evals/questions.jsonl`. Bounded in
count (`--requests` per client) and time (`--duration`, then each request in flight
at most `--request-timeout`);
loopback addresses only. Exit code 0, or 2 when the server cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_URL, REPO, Deadline, HealthPoller, NotLoopback, check_loopback, percentile, reachable, wait_ready

QUESTIONS_FILE = REPO / "evals" / "questions.jsonl"


def load_questions(path: Path) -> list[str]:
    """The questions of an eval file, Arabic and English interleaved so every client asks both."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    arabic = [r["question"] for r in rows if r.get("lang") == "ar"]
    english = [r["question"] for r in rows if r.get("lang") != "ar"]
    mixed = [q for pair in zip(arabic, english) for q in pair]
    longer = arabic if len(arabic) > len(english) else english
    return mixed + longer[len(mixed) // 2 :]


@dataclass
class Run:
    """The figures of one run of `clients` clients."""

    clients: int
    latencies: list[float] = field(default_factory=list)  # successful requests only
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    health_max: float = float("nan")
    health_errors: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def report(self) -> str:
        lat = self.latencies
        line = (f"{self.clients:>3} client(s): {len(lat)} ok, {len(self.errors)} errors in {self.wall:.1f} s = "
                f"{self.rate:.2f} req/s; latency p50 {percentile(lat, 0.5):.2f} s, p95 {percentile(lat, 0.95):.2f} s, "
                f"max {max(lat, default=float('nan')):.2f} s; /healthz max {self.health_max:.3f} s"
                f" ({self.health_errors} failed)")
        if self.errors:
            kinds = sorted(set(self.errors))
            line += "\n      errors: " + "; ".join(f"{self.errors.count(k)} x {k}" for k in kinds[:5])
        return line


def client_loop(url: str, questions: list[str], offset: int, count: int, deadline: Deadline, cap: float, run: Run) -> None:
    """One client: its own connection, `count` questions one after another, while the budget lasts.

    Each client starts at a different question so that the clients do not ask the same
    thing in lockstep (which would flatter any cache). Once the budget is spent no new
    question starts; the one in flight finishes (within its own `cap`), so the end of a
    run is not counted as timeouts.
    """
    with httpx.Client() as client:
        for i in range(count):
            if deadline.expired:
                return
            question = questions[(offset + i) % len(questions)]
            started = time.perf_counter()
            try:
                response = client.post(f"{url}/api/ask", json={"question": question}, timeout=cap)
            except httpx.HTTPError as exc:
                run.errors.append(type(exc).__name__)
                continue
            if response.status_code == 200:
                run.latencies.append(time.perf_counter() - started)
            else:
                run.errors.append(f"HTTP {response.status_code}")


def run_load(url: str, clients: int, requests: int, questions: list[str], duration: float, cap: float) -> Run:
    """`clients` threads asking `requests` questions each, `/healthz` polled meanwhile.

    Threads, not processes: the clients wait on the network, and the server (on the
    same 2-core machine) should get the CPU, not the load generator.
    """
    run = Run(clients)
    deadline = Deadline(duration)
    started = time.perf_counter()
    with HealthPoller(url) as health, ThreadPoolExecutor(max_workers=clients) as pool:
        step = max(1, len(questions) // clients)
        for n in range(clients):
            pool.submit(client_loop, url, questions, n * step, requests, deadline, cap, run)
    run.wall = time.perf_counter() - started
    run.health_max, run.health_errors = health.max_latency, health.errors
    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the server (loopback only; default {DEFAULT_URL})")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--requests", type=int, default=15, help="questions per client (default 15)")
    parser.add_argument("--duration", type=float, default=300, help="no new question after this many seconds (default 300)")
    parser.add_argument("--request-timeout", type=float, default=60, help="one request, in seconds (default 60)")
    parser.add_argument("--compare", action="store_true", help="run 1 client first, then --clients, and print the ratios")
    parser.add_argument("--questions", type=Path, default=QUESTIONS_FILE, help="eval file to take questions from")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        url = check_loopback(args.url)
    except NotLoopback as exc:
        print(f"load: refused: {exc}", file=sys.stderr)
        return 2
    if not 1 <= args.clients <= 200 or not 1 <= args.requests <= 1000:
        print("load: --clients must be 1..200 and --requests 1..1000", file=sys.stderr)
        return 2
    up, said = reachable(url)
    if not up or not wait_ready(url, 120):
        print(f"load: {url} is unreachable or never ready ({said})", file=sys.stderr)
        return 2
    questions = load_questions(args.questions)
    httpx.post(f"{url}/api/ask", json={"question": questions[0]}, timeout=args.request_timeout)  # warm-up, not counted
    print(f"load: {url}, {len(questions)} questions from {args.questions.name}, {args.requests} per client", flush=True)

    counts = [1, args.clients] if args.compare and args.clients != 1 else [args.clients]
    runs = []
    for clients in counts:
        runs.append(run_load(url, clients, args.requests, questions, args.duration, args.request_timeout))
        print(runs[-1].report(), flush=True)
    if len(runs) == 2:
        one, many = runs
        p50 = percentile(many.latencies, 0.5) / percentile(one.latencies, 0.5) if one.latencies else float("nan")
        rate = many.rate / one.rate if one.rate else float("nan")
        print(f"ratio {many.clients} vs 1 client(s): throughput x{rate:.2f}, p50 latency x{p50:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
