"""Command line: `python -m app ingest|ask|serve|slack|eval`.

`ask --json` and `ask --jsonl` print exactly `Answer.to_dict()`: scripts, the
eval suite and the other interfaces rely on that shape.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from app.answer.record import Answer, QuestionError
from app.config import SettingError
from app.filters import parse_filters
from app.index.chroma import IndexUnavailable
from app.index.lock import IndexBusy
from app.ingest.pipeline import IngestStatus

PLAIN_PROGRESS_EVERY_S = 10.0


def _engine():
    from app.engine import Engine

    return Engine()


def cmd_ingest(args: argparse.Namespace) -> int:
    engine = _engine()
    report = engine.ingest([Path(p) for p in args.paths] or None, prune=args.prune, progress=_progress_display(),
                           say=_stderr)
    print(report.summary())
    return 1 if report.errors and not report.ok_files else 0


def _progress_display() -> Callable[[IngestStatus], None]:
    """A progress bar on a terminal; a plain line every few seconds otherwise (logs, CI)."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" articles", file=sys.stderr, dynamic_ncols=True)

        def show(status: IngestStatus) -> None:
            bar.total, bar.n = status.total, status.done
            bar.set_postfix_str(f"{status.passages} passages, {status.rate:.1f} passages/s", refresh=False)
            bar.refresh()

        return show
    last: list[float] = []  # when the last line was printed; none before the first batch is committed

    def line(status: IngestStatus) -> None:
        if not status.passages:
            return
        if not last or time.monotonic() - last[0] >= PLAIN_PROGRESS_EVERY_S:
            last[:] = [time.monotonic()]
            _stderr(f"ingest: {status.line()}")

    return line


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def format_answer(answer: Answer) -> str:
    """The short answer alone on the first line (when there is one), then the quoted proof and its
    numbered sources, for a person reading a terminal."""
    label = "LLM" if answer.mode == "llm" else "extractive: quoted from the articles, no LLM"
    lines = [answer.short_answer, ""] if answer.short_answer else []
    lines += [answer.answer, "", f"({label})"]
    if answer.notice:
        lines.append(f"! {answer.notice}")
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            head = " · ".join(part for part in (c.title, c.date, c.source) if part)
            excerpt = c.text if len(c.text) <= 300 else c.text[:300] + "…"
            lines += [f"[{c.n}] {head}", f"    {excerpt}"]
    return "\n".join(lines)


def _lines(stream: BinaryIO, limit: int) -> Iterator[bytes | None]:
    """The lines of `stream`, each None when over `limit` bytes (read past, never held whole)."""
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(limit + 1)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield line


def _ask_batch(engine: Any, stdin: BinaryIO, stdout: TextIO, defaults: dict[str, Any]) -> int:
    """One JSON object per input line, in order; a bad line yields an error object.

    Lines are decoded one by one, so an undecodable or oversized line is one
    error and the batch goes on. A line's own "since", "until" and "sources"
    take the place of the command line's (`defaults`).
    """
    failures = 0
    limit = engine.settings.max_request_bytes
    for lineno, raw in enumerate(_lines(stdin, limit), start=1):
        if raw is not None and not raw.strip():
            continue
        qid: Any = None
        try:
            if raw is None:
                raise QuestionError(f"the line is over the limit of {limit:,} bytes (NEWSQA_MAX_REQUEST_BYTES)")
            try:
                line = raw.decode("utf-8-sig")  # a BOM opening the file is not part of the JSON
            except UnicodeDecodeError as exc:
                raise QuestionError(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at position {exc.start})") from None
            item = json.loads(line)
            if not isinstance(item, dict):
                raise QuestionError("each line must be a JSON object with a 'question'")
            qid = item.get("id", lineno)
            question = item.get("question")
            if not isinstance(question, str):
                raise QuestionError("'question' must be a string")
            limits = {**defaults, **{key: item[key] for key in ("since", "until", "sources") if key in item}}
            out = engine.answer(question, item.get("history") or (), parse_filters(**limits)).to_dict(id=qid)
        except json.JSONDecodeError as exc:
            failures += 1
            out = {"id": qid, "error": f"line {lineno}: invalid JSON ({exc.msg})"}
        except QuestionError as exc:
            failures += 1
            out = {"id": qid, "error": f"line {lineno}: {exc}"}
        except IndexUnavailable:
            raise  # every later line would fail the same way
        except Exception as exc:  # one line must not end the batch
            failures += 1
            out = {"id": qid, "error": f"line {lineno}: {type(exc).__name__}: {exc}"}
        stdout.write(_json_line(out))
        stdout.flush()
    return 1 if failures else 0


def _json_line(data: dict[str, Any]) -> str:
    """One JSON line, readable UTF-8; an id holding a lone surrogate stays an escape instead of failing the write."""
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data)
    return text + "\n"


def cmd_ask(args: argparse.Namespace) -> int:
    engine = _engine()
    engine.ensure_ready(progress=_stderr)
    if not engine.stats()["passages"]:
        raise IndexUnavailable(f"no articles are indexed (corpus: {engine.settings.corpus_dir}); "
                               "add .txt, .md or .html files and run `python -m app ingest`")
    limits = {"since": args.since, "until": args.until, "sources": args.source}
    if args.jsonl:
        return _ask_batch(engine, sys.stdin.buffer, sys.stdout, limits)
    question = " ".join(args.question)
    try:
        answer = engine.answer(question, filters=parse_filters(**limits))
    except QuestionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        print(format_answer(answer))
    return 0


def _delegate(module: str, argv: Sequence[str]) -> int:
    """Hand the rest of the command line to an interface module's `main(argv)`."""
    import importlib

    return int(importlib.import_module(module).main(list(argv)) or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="index articles (default: the corpus folder)")
    ingest.add_argument("paths", nargs="*", help=".txt, .md, .html files, .jsonl archives, or folders")
    ingest.add_argument("--prune", action="store_true",
                        help="drop indexed articles whose file is gone (or that left a re-read archive)")
    ingest.set_defaults(func=cmd_ingest)

    ask = sub.add_parser("ask", help="answer a question with citations")
    ask.add_argument("question", nargs="*")
    form = ask.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print one JSON object")
    form.add_argument("--jsonl", action="store_true", help='read {"id", "question"} lines on stdin')
    ask.add_argument("--since", help="only articles dated on or after (YYYY-MM-DD, YYYY-MM or YYYY)")
    ask.add_argument("--until", help="only articles dated on or before (YYYY-MM-DD, YYYY-MM or YYYY)")
    ask.add_argument("--source", action="append", help="only articles of this publisher (repeatable)")
    ask.set_defaults(func=cmd_ask)

    for name, module, text in (
        ("serve", "app.interfaces.web", "chat in the browser + HTTP API"),
        ("slack", "app.interfaces.slack", "run the Slack bot"),
        ("eval", "app.evaluation.runner", "run the Q&A evaluation"),
    ):
        delegated = sub.add_parser(name, help=text, add_help=False)
        delegated.set_defaults(module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if not getattr(args, "module", None):
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "ask" and not args.jsonl and not args.question:
            print("error: the question is empty", file=sys.stderr)
            return 2
    try:  # every command's configuration and index errors become one line here
        return _delegate(args.module, rest) if getattr(args, "module", None) else args.func(args)
    except (IndexUnavailable, IndexBusy, SettingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
