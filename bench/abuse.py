"""Replay the abuse cases of issue 13 against a running newsqa server and print what held.

    .venv/bin/python bench/abuse.py --url http://127.0.0.1:7871 --pid PID --feedback-file FILE

One line per case: what was sent, what came back, HELD / FAILED (or SKIPPED / ERROR
when the case could not be measured). It measures, it does not judge CI: the exit
code is 0 whatever held, 2 only when the server cannot be reached.

Run it only against a throwaway server (see bench/README.md): several cases succeed
on purpose when the server is vulnerable, and then leave their marks in its corpus,
upload folder and feedback file. Everything is bounded: a fixed number of requests,
each with a timeout, inside a global `--timeout`; loopback addresses only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import re
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_URL, Deadline, HealthPoller, NotLoopback, check_loopback, reachable, rss_kib, wait_ready

NORMAL_QUESTION = "Who hosted the NATO industry forum?"
# Absolute paths under the usual roots; URL paths such as /api/ask or /gradio_api/... do not match.
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])/(?:tmp|home|srv|work|usr|var|root|opt|mnt|data|etc|proc|private|Users)/[^\s\"'<>),;&]*")
MB = 1_000_000


@dataclass
class Result:
    """One line of the report. `held` is None when the case could not be judged."""

    name: str
    sent: str
    got: str
    held: bool | None
    seconds: float = 0.0
    status: str = ""

    def verdict(self) -> str:
        if self.status:
            return self.status
        return {True: "HELD", False: "FAILED", None: "N/A"}[self.held]

    def line(self) -> str:
        return f"{self.verdict():7} {self.name}: sent {self.sent} -> got {self.got} ({self.seconds:.1f} s)"


@dataclass
class Context:
    """What every case needs: the server, the budget, and what the operator told us about it."""

    url: str
    deadline: Deadline
    request_timeout: float
    pid: int | None
    feedback_file: Path | None
    client: httpx.Client
    error_texts: list[str] = field(default_factory=list)  # refusals and errors seen, scanned for paths
    sent_paths: list[str] = field(default_factory=list)  # paths the bench itself sent: an echo of one is no leak
    indexed_name: str | None = None  # a file name indexed from outside the upload folder (--indexed-name)

    def timeout(self, cap: float | None = None) -> float:
        return self.deadline.timeout(cap or self.request_timeout)

    def ask(
        self, question: str, history: list[dict[str, str]] | None = None, cap: float | None = None
    ) -> tuple[httpx.Response, float]:
        """POST /api/ask; the response and its latency."""
        started = time.perf_counter()
        response = self.post("/api/ask", json={"question": question, "history": history or []}, timeout=self.timeout(cap))
        return response, time.perf_counter() - started

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST, retried once when a kept-alive connection turns out closed.

        A server that crashes a request with a 500 may close the connection after it;
        the next case must not be reported as an error for the previous case's sake.
        """
        kwargs.setdefault("timeout", self.timeout())
        try:
            return self.client.post(f"{self.url}{path}", **kwargs)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            return self.client.post(f"{self.url}{path}", **kwargs)

    def post_raw(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        """A body sent byte for byte: lone surrogates and NULs as raw JSON escapes, which `json=` would refuse."""
        response = self.post(path, content=body, headers={"content-type": "application/json", **(headers or {})})
        if response.status_code >= 400:
            self.error_texts.append(response.text)
        return response


def short(text: str, limit: int = 160) -> str:
    """One line of at most `limit` characters, for the report."""
    text = re.sub(r"<[^>]+>", " ", text)  # the page's HTML results, as a person would read them
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(response: httpx.Response) -> str:
    return f"{response.status_code} {short(response.text, 120)}"


def sse_events(response: httpx.Response) -> Iterator[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream; `event` is "" for bare `data:` lines."""
    event = ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            yield event, line[5:].strip()
            event = ""


def gradio_call(ctx: Context, api_name: str, data: list[Any]) -> tuple[str, Any]:
    """Gradio's named API (`/gradio_api/call/NAME`, then its event stream): ("complete"|"error"|..., data)."""
    joined = ctx.post(f"/gradio_api/call/{api_name}", json={"data": data})
    if joined.status_code != 200:
        ctx.error_texts.append(joined.text)
        return f"HTTP {joined.status_code}", joined.text
    event_id = joined.json()["event_id"]
    with ctx.client.stream("GET", f"{ctx.url}/gradio_api/call/{api_name}/{event_id}", timeout=ctx.timeout()) as stream:
        for event, payload in sse_events(stream):
            if event in ("complete", "error"):
                value = json.loads(payload) if payload else None
                if event == "error":
                    ctx.error_texts.append(str(value))
                return event, value
    return "no result", None


def quoted(response: httpx.Response, needle: str) -> bool:
    """Whether the answer or any cited passage of an `/api/ask` response contains `needle`."""
    return needle.lower() in response.text.lower()


# --- the cases -------------------------------------------------------------------------------


def forged_path_upload(ctx: Context) -> Result:
    """The upload event handed a server path the browser never uploaded, then asked about it."""
    token = uuid.uuid4().hex[:10]
    secret = f"tangerine-{uuid.uuid4().hex[:8]}"
    folder = Path(tempfile.mkdtemp(prefix="newsqa-abuse-"))  # outside Gradio's upload cache
    target = folder / f"bench-probe-{token}.txt"
    ctx.sent_paths.append(str(folder))
    target.write_text(f"Bench probe {token}\n\nThe vault code of the bench probe {token} is {secret}. "
                      f"Only the server's owner should ever read this sentence.\n", encoding="utf-8")
    started = time.perf_counter()
    try:
        event, value = gradio_call(ctx, "upload", [[{"path": str(target), "meta": {"_type": "gradio.FileData"}}], "en"])
        upload_said = short(str(value[0]) if isinstance(value, list) and value else str(value), 90)
        response, _ = ctx.ask(f"What is the vault code of the bench probe {token}?")
    finally:
        target.unlink(missing_ok=True)
        folder.rmdir()
    leaked = quoted(response, secret)
    return Result(
        "forged-path upload",
        f"POST /gradio_api/call/upload path={target}, then /api/ask about it",
        f"upload {event}: {upload_said!r}; /api/ask {response.status_code}, secret {'QUOTED' if leaked else 'not quoted'}",
        held=not leaked,
        seconds=time.perf_counter() - started,
    )


def history_text(chars: int) -> str:
    """A long but ordinary-looking previous question (Arabic and English words)."""
    words = "the defence ministers met in Brussels وزراء الدفاع اجتمعوا في بروكسل لمناقشة الإنفاق ".split()
    out, size, i = [], 0, 0
    while size < chars:
        word = words[i % len(words)]
        out.append(word)
        size += len(word) + 1
        i += 1
    return " ".join(out)[:chars]


def huge_history(ctx: Context, chars: int, baseline: float) -> Result:
    """One client sends a huge `history`; meanwhile another asks a normal question and /healthz is polled.

    What matters is how long the *other* client waited: today the huge embedding
    holds a lock every question needs.
    """
    history = [{"role": "user", "content": history_text(chars)}, {"role": "assistant", "content": "…"}]
    outcome: dict[str, Any] = {}

    def send_huge() -> None:
        started = time.perf_counter()
        try:
            with httpx.Client() as own:  # its own connection, like a separate visitor
                response = own.post(f"{ctx.url}/api/ask", json={"question": "and who attended?", "history": history},
                                    timeout=ctx.timeout())
                outcome["huge"] = (describe(response), response.status_code, time.perf_counter() - started)
        except httpx.HTTPError as exc:
            outcome["huge"] = (f"{type(exc).__name__} (gave up)", None, time.perf_counter() - started)

    started = time.perf_counter()
    with HealthPoller(ctx.url) as health:
        huge = threading.Thread(target=send_huge, daemon=True)
        huge.start()
        time.sleep(1.0)  # the huge request is being processed by now
        try:
            other, other_wait = ctx.ask(NORMAL_QUESTION)
            other_said = str(other.status_code)
        except httpx.HTTPError as exc:
            other_wait, other_said = time.perf_counter() - started - 1.0, f"{type(exc).__name__} (gave up)"
        huge.join(ctx.timeout() + 5)
    said, status, took = outcome.get("huge", ("no answer", None, time.perf_counter() - started))
    if status is None:
        settle(ctx)
    # Held: the other client was not made to wait for the huge one, and the huge one got an answer, not a 5xx.
    limit = max(5.0, 5 * baseline)
    held = other_said == "200" and other_wait <= limit and status is not None and status < 500
    return Result(
        f"history {chars:,} chars",
        f"POST /api/ask history={chars:,} chars; 1 s later another client asks a normal question",
        f"huge: {short(said, 50)} in {took:.1f} s; the other client waited {other_wait:.1f} s ({other_said}; "
        f"alone {baseline:.1f} s, held if <= {limit:.0f} s); /healthz max {health.max_latency:.2f} s",
        held=held,
        seconds=time.perf_counter() - started,
    )


def settle(ctx: Context) -> None:
    """After a request the client gave up on, wait (within the budget) until the server answers again.

    The server keeps working on an abandoned request; the next case must not pay for it.
    """
    while not ctx.deadline.expired:
        try:
            if ctx.ask(NORMAL_QUESTION, cap=ctx.deadline.remaining())[0].status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(1.0)


def oversized_body(ctx: Context, megabytes: int) -> Result:
    """A valid JSON body of `megabytes` MB (the bulk in a field the API ignores), streamed.

    The padding is not history on purpose: today's server would accept it, and a
    50 MB history would keep the engine busy for hours.
    """
    size = megabytes * MB
    head = b'{"question": "Who hosted the forum?", "padding": "'
    tail = b'"}'
    pad = size - len(head) - len(tail)
    chunk = b"A" * MB

    def body() -> Iterator[bytes]:
        yield head
        left = pad
        while left > 0:
            yield chunk[: min(left, MB)]
            left -= MB
        yield tail

    before = rss_kib(ctx.pid)
    peak = [before or 0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(ctx.pid) or 0)
            stop.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    if ctx.pid:
        watcher.start()
    started = time.perf_counter()
    try:
        response = ctx.client.post(f"{ctx.url}/api/ask", content=body(), timeout=ctx.timeout(),
                                   headers={"content-type": "application/json", "content-length": str(size)})
        got, status = describe(response), response.status_code
        if status >= 400:
            ctx.error_texts.append(response.text)
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
        got, status = f"connection closed by the server ({type(exc).__name__})", 0  # refused mid-body
    finally:
        elapsed = time.perf_counter() - started
        time.sleep(0.3)
        stop.set()
        if ctx.pid:
            watcher.join(1)
    refused = status in (0, 400, 413)
    if before is None:
        memory, grew = "RSS unknown (give --pid)", False
    else:
        growth = (peak[0] - before) / 1024
        memory, grew = f"server RSS {before / 1024:.0f} -> peak {peak[0] / 1024:.0f} MB (+{growth:.0f} MB)", growth > 25
    return Result(
        f"oversized body {megabytes} MB",
        f"POST /api/ask, {megabytes} MB streamed with Content-Length",
        f"{short(got, 70)}; {memory}",
        held=refused and not grew,
        seconds=elapsed,
    )


class GradioSession:
    """The browser's side of Gradio's queue protocol (`/gradio_api/queue/join` + `/queue/data`).

    A like cannot go through the named API: the vote handler reads the answers kept in
    the session's state and the event data (which message, up or down), both of which
    only this protocol carries. Function and component ids come from `/config`, as the
    page itself reads them, so a rebuilt page layout does not break the case.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.session_hash = uuid.uuid4().hex[:11]
        config = ctx.client.get(f"{ctx.url}/config", timeout=ctx.timeout()).json()
        self.types = {c["id"]: c["type"] for c in config["components"]}
        self.dependencies = {d.get("api_name"): d for d in config["dependencies"]}
        self.errors: list[str] = []  # unexpected errors and broken streams, as the page would see them

    def join(self, api_name: str, values: dict[str, Any], event_data: Any = None) -> str:
        """Queue one event of `api_name`; each input gets `values[component type]` (state: None)."""
        dep = self.dependencies[api_name]
        body = {
            "data": [values.get(self.types[i]) for i in dep["inputs"]],
            "event_data": event_data,
            "fn_index": dep["id"],
            "trigger_id": dep["targets"][0][0],
            "session_hash": self.session_hash,
        }
        # Serialised here with ASCII escapes: httpx's `json=` would fail to encode a lone surrogate.
        response = self.ctx.post("/gradio_api/queue/join", content=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
        response.raise_for_status()
        return response.json()["event_id"]

    def wait(self, event_ids: set[str]) -> dict[str, dict[str, Any]]:
        """The completion message of each event, read from the session's stream (bounded by the budget)."""
        done: dict[str, dict[str, Any]] = {}
        while event_ids - done.keys() and not self.ctx.deadline.expired:
            try:
                with self.ctx.client.stream("GET", f"{self.ctx.url}/gradio_api/queue/data",
                                            params={"session_hash": self.session_hash}, timeout=self.ctx.timeout()) as stream:
                    for _, payload in sse_events(stream):
                        message = json.loads(payload)
                        if message.get("msg") == "process_completed":
                            done[message.get("event_id")] = message
                        elif message.get("msg") == "unexpected_error":
                            self.errors.append(str(message.get("message")))
                        if message.get("msg") == "close_stream" or not event_ids - done.keys():
                            break
            except httpx.RemoteProtocolError as exc:  # the server broke the stream off: what it sent is all there is
                self.errors.append(f"event stream broken ({exc})")
                break
        return done


def vote_flood(ctx: Context, votes: int) -> Result:
    """One visitor asks once in the chat, then sends `votes` 👍 on that one answer, as the page does."""
    started = time.perf_counter()
    session = GradioSession(ctx)
    asked = session.join("respond", {"textbox": NORMAL_QUESTION, "chatbot": [], "radio": "en"})
    reply = session.wait({asked}).get(asked, {})
    chat = ((reply.get("output") or {}).get("data") or [[]])[0] or []
    if len(chat) < 2:
        return Result("vote flood", "a chat question before the votes", f"no answer in the chat: {short(str(reply), 100)}",
                      held=None, seconds=time.perf_counter() - started, status="ERROR")
    before = _size(ctx.feedback_file)
    like = {"index": len(chat) - 1, "value": chat[-1].get("content"), "liked": True}
    ids: set[str] = set()
    for _ in range(votes):
        if ctx.deadline.expired:
            break
        try:
            ids.add(session.join("vote", {"radio": "en"}, event_data=like))
        except httpx.HTTPStatusError as exc:  # a server that refuses the flood
            ctx.error_texts.append(exc.response.text)
            break
    done = session.wait(ids)
    accepted = sum(1 for m in done.values() if m.get("success"))
    after = _size(ctx.feedback_file)
    if before is None or after is None:
        grew, held = "feedback file unknown (give --feedback-file)", None
    else:
        lines = after[0] - before[0]
        assert ctx.feedback_file is not None
        with ctx.feedback_file.open("rb") as handle:  # what the votes wrote: one vote, and no server path
            handle.seek(before[1])
            paths = ABSOLUTE_PATH.findall(handle.read().decode("utf-8", "replace"))
        grew = f"feedback file +{lines} lines, +{(after[1] - before[1]) / 1000:.0f} KB, {len(paths)} server paths in them"
        held = lines <= 1 and not paths
    return Result(
        f"{votes} votes on one answer",
        f"{len(ids)} like events (queue/join fn 'vote', index {like['index']}) in one session",
        f"{accepted} completed; {grew}",
        held=held,
        seconds=time.perf_counter() - started,
    )


def _size(path: Path | None) -> tuple[int, int] | None:
    """(lines, bytes) of the feedback file; (0, 0) while it does not exist; None if not given."""
    if path is None:
        return None
    if not path.exists():
        return 0, 0
    data = path.read_bytes()
    return data.count(b"\n"), len(data)


def upload_flood(ctx: Context, count: int, megabytes: float) -> Result:
    """`count` binary files of a type the page never accepts, in one request to Gradio's own upload route.

    Files the server stored are removed again afterwards (only those this run named),
    so repeated runs do not fill the disk of the machine they measure.
    """
    run = uuid.uuid4().hex[:8]
    payload = (hashlib.sha256(run.encode()).digest() * (int(megabytes * MB) // 32 + 1))[: int(megabytes * MB)]
    names = [f"bench-abuse-{run}-{i:02}.exe" for i in range(count)]
    started = time.perf_counter()
    response = ctx.post("/gradio_api/upload", files=[("files", (name, payload, "application/octet-stream")) for name in names])
    elapsed = time.perf_counter() - started
    stored: list[Path] = []
    if response.status_code == 200:
        try:
            stored = [Path(p) for p in response.json() if Path(p).name in names]
        except (ValueError, TypeError):
            stored = []
    else:
        ctx.error_texts.append(response.text)
    on_disk = sum(p.stat().st_size for p in stored if p.is_file())
    folders = sorted({str(p.parent.parent) for p in stored})
    for path in stored:  # clean up after ourselves
        if path.is_file():
            path.unlink()
            try:
                path.parent.rmdir()
            except OSError:
                pass
    got = f"{response.status_code}: {len(stored)} of {count} stored, {on_disk / MB:.0f} MB on disk"
    if folders:
        got += f" under {folders[0]} (removed by the bench)"
    return Result(
        f"upload flood {count} x {megabytes:g} MB .exe",
        f"POST /gradio_api/upload with {count} files in one request",
        got,
        held=response.status_code >= 400 or not stored,
        seconds=elapsed,
    )


def lone_surrogate(ctx: Context) -> Result:
    body = (b'{"question": "Who hosted the forum?", "history": '
            b'[{"role": "user", "content": "\\ud800"}, {"role": "assistant", "content": "ok"}]}')
    started = time.perf_counter()
    response = ctx.post_raw("/api/ask", body)
    return Result("lone surrogate in history", r'POST /api/ask history content "\ud800" (raw JSON)', describe(response),
                  held=400 <= response.status_code < 500, seconds=time.perf_counter() - started)


def invisible_question(ctx: Context) -> Result:
    started = time.perf_counter()
    response = ctx.post_raw("/api/ask", b'{"question": "\\u200b"}')
    return Result("question of only U+200B", r'POST /api/ask question "\u200b"', describe(response),
                  held=400 <= response.status_code < 500, seconds=time.perf_counter() - started)


def nul_question(ctx: Context) -> Result:
    """A real question with NULs in it must be answered like the clean one (or refused), not "not found"."""
    started = time.perf_counter()
    clean, _ = ctx.ask(NORMAL_QUESTION)
    body = json.dumps({"question": NORMAL_QUESTION.replace(" ", "\u0000 ")}).encode()
    dirty = ctx.post_raw("/api/ask", body)
    clean_found = clean.status_code == 200 and clean.json().get("found")
    if dirty.status_code == 200:
        found = dirty.json().get("found")
        got = f"200 found={found} (clean question: found={clean_found})"
        held = found == clean_found
    else:
        got, held = describe(dirty), 400 <= dirty.status_code < 500
    return Result("NUL in a question", r'POST /api/ask "Who\u0000 hosted\u0000 the\u0000 …"', got, held=held,
                  seconds=time.perf_counter() - started)


def error_paths(ctx: Context) -> Result:
    """Refusals and errors an anonymous visitor can provoke must not name server paths.

    Adds probes of its own (forged uploads of a missing file and of a folder, and a chat
    question the engine fails on), then scans them with every refusal and error the
    earlier cases collected. A path the bench sent itself and got echoed is listed but
    is no leak: it tells the visitor nothing about the server they did not know.
    """
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="newsqa-abuse-", suffix=".txt"))  # a folder named like an article
    ctx.sent_paths.append(str(folder))
    try:
        for path in (folder / "missing.txt", folder):
            _, value = gradio_call(ctx, "upload", [[{"path": str(path), "meta": {"_type": "gradio.FileData"}}], "en"])
            ctx.error_texts.append(str(value))
    finally:
        folder.rmdir()
    if ctx.indexed_name:  # an article of this name is indexed from another folder: upload a namesake
        namesake = (ctx.indexed_name, b"A namesake\n\nJust text.\n", "text/plain")
        stored = ctx.post("/gradio_api/upload", files=[("files", namesake)])
        if stored.status_code == 200:
            path = stored.json()[0]
            _, value = gradio_call(ctx, "upload", [[{"path": path, "orig_name": ctx.indexed_name,
                                                     "meta": {"_type": "gradio.FileData"}}], "en"])
            ctx.sent_paths.append(str(Path(path).parent))
            ctx.error_texts.append(str(value))
        else:
            ctx.error_texts.append(stored.text)
    session = GradioSession(ctx)  # the chat shows "TypeName: message" of an engine failure
    asked = session.join("respond", {"textbox": "\ud800 Who hosted the forum?", "chatbot": [], "radio": "en"})
    ctx.error_texts.append(json.dumps(session.wait({asked}).get(asked, {}), ensure_ascii=False))
    ctx.error_texts += session.errors
    paths = {m.group(0) for text in ctx.error_texts for m in ABSOLUTE_PATH.finditer(text)}
    echoes = {p for p in paths if any(p.startswith(sent) for sent in ctx.sent_paths)}
    leaks = sorted(paths - echoes)
    got = f"{len(leaks)} server path(s): {short(', '.join(leaks), 120)}" if leaks else "no server path"
    if echoes:
        got += f"; {len(echoes)} echo(es) of a path the bench sent ({short(min(echoes), 60)})"
    if session.errors:
        got += f"; the chat probe got: {short(' / '.join(session.errors), 110)}"
    return Result("paths in error messages",
                  f"{len(ctx.error_texts)} refusals/errors scanned (incl. forged uploads of a missing file and a folder, "
                  f"{'a namesake of ' + ctx.indexed_name + ', ' if ctx.indexed_name else ''}"
                  "a chat question with a lone surrogate)",
                  got, held=not leaks, seconds=time.perf_counter() - started)


def slack_cases(ctx: Context, url: str, secret: str | None) -> list[Result]:
    """Slack's endpoint: a non-numeric timestamp, and (with the signing secret) malformed JSON, must be 400."""
    results = []
    body = b'{"type": "event_callback"}'
    started = time.perf_counter()
    response = ctx.client.post(url, content=body, timeout=ctx.timeout(),
                               headers={"content-type": "application/json", "x-slack-request-timestamp": "soon",
                                        "x-slack-signature": "v0=00"})
    results.append(Result("slack: non-numeric timestamp", "X-Slack-Request-Timestamp: soon", describe(response),
                          held=response.status_code == 400, seconds=time.perf_counter() - started))
    if secret:
        body = b'{"type": "event_callback", '
        stamp = str(int(time.time()))
        signature = "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
        started = time.perf_counter()
        response = ctx.client.post(url, content=body, timeout=ctx.timeout(),
                                   headers={"content-type": "application/json", "x-slack-request-timestamp": stamp,
                                            "x-slack-signature": signature})
        results.append(Result("slack: malformed JSON, valid signature", "a signed body that is not JSON",
                              describe(response), held=response.status_code == 400, seconds=time.perf_counter() - started))
    return results


# --- running ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the server (loopback only; default {DEFAULT_URL})")
    parser.add_argument("--pid", type=int, help="the server's process id, to read its memory (/proc/PID/status)")
    parser.add_argument("--feedback-file", type=Path, help="the server's NEWSQA_FEEDBACK_FILE, to count the votes it kept")
    parser.add_argument("--timeout", type=float, default=600, help="the whole run, in seconds (default 600)")
    parser.add_argument("--request-timeout", type=float, default=120, help="one request, in seconds (default 120)")
    parser.add_argument("--history-sizes", default="30000,60000",
                        help="history sizes in characters, comma-separated (default 30000,60000; each larger one "
                             "costs roughly quadratically more on an unbounded server)")
    parser.add_argument("--body-mb", type=int, default=50, help="size of the oversized /api/ask body (default 50)")
    parser.add_argument("--votes", type=int, default=300, help="votes on one answer (default 300)")
    parser.add_argument("--uploads", type=int, default=50, help="files in the upload flood (default 50)")
    parser.add_argument("--upload-mb", type=float, default=1.95,
                        help="size of each flood file in MB (default 1.95, just under the 2 MB upload limit)")
    parser.add_argument("--indexed-name",
                        help="the name of an article the server indexed from a folder other than its corpus folder: "
                             "the paths case then uploads a namesake (the 'already indexed from /srv/...' message)")
    parser.add_argument("--slack", help="the Slack events URL (e.g. http://127.0.0.1:7860/slack/events); "
                                         "Slack cases run only with it")
    parser.add_argument("--slack-secret", help="the server's SLACK_SIGNING_SECRET, for the signed malformed-JSON case")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        url = check_loopback(args.url)
        slack = check_loopback(args.slack) if args.slack else None
    except NotLoopback as exc:
        print(f"abuse: refused: {exc}", file=sys.stderr)
        return 2
    up, said = reachable(url)
    if not up:
        print(f"abuse: {url} is unreachable ({said})", file=sys.stderr)
        return 2
    deadline = Deadline(args.timeout)
    if not wait_ready(url, min(120.0, deadline.remaining())):
        print(f"abuse: {url}/healthz never said ready ({said})", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.history_sizes.split(",") if s.strip()]
    print(f"abuse: {url}  pid={args.pid}  feedback={args.feedback_file}  budget={args.timeout:.0f} s", flush=True)

    with httpx.Client() as client:
        ctx = Context(url, deadline, args.request_timeout, args.pid, args.feedback_file, client,
                      indexed_name=args.indexed_name)
        baseline = ctx.ask(NORMAL_QUESTION)[1]
        print(f"abuse: a normal question alone takes {baseline:.2f} s", flush=True)
        cases: list[tuple[str, Callable[[], Result | list[Result]]]] = [
            ("forged-path upload", lambda: forged_path_upload(ctx)),
            ("lone surrogate", lambda: lone_surrogate(ctx)),
            ("invisible question", lambda: invisible_question(ctx)),
            ("NUL question", lambda: nul_question(ctx)),
            ("oversized body", lambda: oversized_body(ctx, args.body_mb)),
            ("vote flood", lambda: vote_flood(ctx, args.votes)),
            ("upload flood", lambda: upload_flood(ctx, args.uploads, args.upload_mb)),
        ]
        if slack:
            cases.append(("slack", lambda: slack_cases(ctx, slack, args.slack_secret)))
        cases.append(("paths in errors", lambda: error_paths(ctx)))
        # Last: on an unbounded server an abandoned huge request keeps the engine busy after the client gives up.
        cases += [(f"history {n:,}", lambda n=n: huge_history(ctx, n, baseline)) for n in sizes]

        results: list[Result] = []
        for name, case in cases:
            if deadline.expired:
                outcome: Result | list[Result] = Result(name, "-", "the --timeout budget ran out", None, status="SKIPPED")
            else:
                try:
                    outcome = case()
                except httpx.HTTPError as exc:
                    if not reachable(url)[0]:
                        print(f"ERROR   {name}: the server stopped answering ({type(exc).__name__}: {exc})", flush=True)
                        return 2
                    outcome = Result(name, "-", f"{type(exc).__name__}: {short(str(exc), 100)}", None, status="ERROR")
            for result in outcome if isinstance(outcome, list) else [outcome]:
                results.append(result)
                print(result.line(), flush=True)

    verdicts = [r.verdict() for r in results]
    print(f"abuse: {verdicts.count('HELD')} held, {verdicts.count('FAILED')} failed, "
          f"{len(verdicts) - verdicts.count('HELD') - verdicts.count('FAILED')} not judged, of {len(results)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
