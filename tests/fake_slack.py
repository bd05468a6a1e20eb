"""A local stand-in for Slack's Web API, so the bot's real `WebClient` can be tested offline.

It speaks the wire protocol the SDK uses (JSON or form bodies, `Authorization:
Bearer`, `{"ok": false, "error": ...}` replies with HTTP 200), keeps the
messages of each channel so `conversations.replies` returns real threads, and
rejects what Slack rejects: unknown tokens, messages without text, Block Kit
over its limits. Every call is recorded with the time it arrived.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.sync.server import ServerConnection, serve

TEAM_ID = "T0NEWSQA"
BOT_USER_ID = "U0NEWSQABOT"
BOT_ID = "B0NEWSQABOT"
APP_ID = "A0NEWSQA"


@dataclass
class Call:
    method: str  # "chat.postMessage", ... or "response_url" for posts to a response URL
    args: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)


def block_errors(blocks: Any) -> list[str]:
    """What Slack would say about these blocks (a few of its documented limits), [] if valid."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    errors = []
    if len(blocks) > 50:
        errors.append(f"no more than 50 items allowed [json-pointer:/blocks] ({len(blocks)})")
    block_ids = [b.get("block_id") for b in blocks if b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        errors.append("block_id must be unique [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "section":
            text = block.get("text", {}).get("text", "")
            if not 1 <= len(text) <= 3000:
                errors.append(f"must be 1..3000 characters [json-pointer:/blocks/{i}/text/text] ({len(text)})")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 10:
                errors.append(f"must have 1..10 elements [json-pointer:/blocks/{i}/elements]")
            for j, element in enumerate(elements):
                if not 1 <= len(element.get("text", "")) <= 3000:
                    errors.append(f"must be 1..3000 characters [json-pointer:/blocks/{i}/elements/{j}/text]")
        elif kind == "actions":
            for j, element in enumerate(block.get("elements", [])):
                if len(element.get("text", {}).get("text", "")) > 75:
                    errors.append(f"must be less than 76 characters [json-pointer:/blocks/{i}/elements/{j}/text]")
                if len(element.get("value", "")) > 2000:
                    errors.append(f"must be less than 2001 characters [json-pointer:/blocks/{i}/elements/{j}/value]")
        elif kind not in ("divider", "header", "image"):
            errors.append(f"unsupported type {kind!r} [json-pointer:/blocks/{i}]")
    return errors


class _Served:
    """Serves `self._server` (anything with `serve_forever`/`shutdown`) from a thread inside `with`."""

    _server: Any

    def __enter__(self):  # -> Self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()


class FakeSlack(_Served):
    """`with FakeSlack(token) as slack:` serves `slack.api_url` on 127.0.0.1."""

    def __init__(self, token: str, app_token: str | None = None, replies_page: int = 3) -> None:
        self.token = token
        self.app_token = app_token
        self.socket_url: str | None = None  # what apps.connections.open hands out (a FakeSocketMode URL)
        # Slack may return fewer replies than `limit`; a small page makes clients follow the cursor.
        self.replies_page = replies_page
        self.calls: list[Call] = []
        self.channels: dict[str, list[dict[str, Any]]] = {}
        self._changed = threading.Condition()
        self._clock = int(time.time())
        self._serial = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self._server.server_close()

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def response_url(self, name: str) -> str:
        """A URL standing in for hooks.slack.com's per-interaction `response_url`."""
        return f"{self.base}/hooks/{name}"

    # -- what tests use -------------------------------------------------

    def next_ts(self) -> str:
        with self._changed:
            self._serial += 1
            return f"{self._clock}.{self._serial:06d}"

    def user_says(self, channel: str, text: str, user: str = "U0READER", thread_ts: str | None = None) -> dict:
        """A person's message, stored as Slack would store it; returns it (use it to build the event)."""
        message = {"type": "message", "user": user, "text": text, "ts": self.next_ts(), "team": TEAM_ID}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._changed:
            self.channels.setdefault(channel, []).append(message)
        return message

    def calls_to(self, method: str, where: Callable[[Call], bool] = lambda c: True) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method == method and where(c)]

    def wait_for(self, method: str, where: Callable[[Call], bool] = lambda c: True, timeout: float = 60.0) -> Call:
        """The first matching call, waiting for it to arrive; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.method == method and where(c)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {method} call within {timeout}s; calls: {[c.method for c in self.calls]}")
                self._changed.wait(left)

    # -- the API --------------------------------------------------------

    def _record(self, method: str, args: dict[str, Any]) -> None:
        with self._changed:
            self.calls.append(Call(method, args))
            self._changed.notify_all()

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.channels.get(channel, []) if m["ts"] == ts), None)

    def api(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        self._record(method, args)
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token not in (self.token, self.app_token):
            return {"ok": False, "error": "invalid_auth"}
        if (token == self.app_token) != (method == "apps.connections.open"):
            return {"ok": False, "error": "not_allowed_token_type"}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        with self._changed:
            return handler(args)

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://newsqa-test.slack.com/",
            "team": "newsqa test",
            "user": "newsqa",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_url} if self.socket_url else {"ok": False, "error": "internal_error"}

    def _message_errors(self, args: dict[str, Any]) -> dict[str, Any] | None:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if len(args.get("text") or "") > 40000:
            return {"ok": False, "error": "msg_too_long"}
        if "blocks" in args:
            errors = block_errors(args["blocks"])
            if errors:
                return {"ok": False, "error": "invalid_blocks", "errors": errors}
        return None

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._message_errors(args)
        if error:
            return error
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": args.get("text", ""),
            "ts": self.next_ts(),
            "team": TEAM_ID,
            "blocks": args.get("blocks", []),
        }
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        self.channels.setdefault(args["channel"], []).append(message)
        return {"ok": True, "channel": args["channel"], "ts": message["ts"], "message": message}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._message_errors(args)
        if error:
            return error
        message = self._find(args["channel"], args.get("ts", ""))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.get("bot_id") != BOT_ID:
            return {"ok": False, "error": "cant_update_message"}
        message.update(text=args.get("text", ""), blocks=args.get("blocks", []), edited={"user": BOT_USER_ID})
        return {
            "ok": True,
            "channel": args["channel"],
            "ts": message["ts"],
            "text": message["text"],
            "message": message,
        }

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel") not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        parent = self._find(args["channel"], args.get("ts", ""))
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        thread = [
            m for m in self.channels[args["channel"]] if m["ts"] == parent["ts"] or m.get("thread_ts") == parent["ts"]
        ]
        start = int(base64.b64decode(args["cursor"]).decode()) if args.get("cursor") else 0
        size = min(int(args.get("limit", 1000)), self.replies_page)
        page, rest = thread[start : start + size], thread[start + size :]
        cursor = base64.b64encode(str(start + size).encode()).decode() if rest else ""
        return {"ok": True, "messages": page, "has_more": bool(rest), "response_metadata": {"next_cursor": cursor}}

    # -- HTTP -----------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _reply(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _args(self) -> dict[str, Any]:
                url = urlsplit(self.path)
                args: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.headers.get("Content-Type", "").startswith("application/json") and raw:
                    args.update(json.loads(raw))
                elif raw:
                    args.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
                if isinstance(args.get("blocks"), str):  # form bodies carry blocks as a JSON string
                    args["blocks"] = json.loads(args["blocks"])
                return args

            def _dispatch(self) -> None:
                path = urlsplit(self.path).path
                args = self._args()
                if path.startswith("/hooks/"):
                    fake._record("response_url", {"hook": path.removeprefix("/hooks/"), **args})
                    self._reply(200, b"ok")
                elif path.startswith("/api/"):
                    auth = self.headers.get("Authorization", "")
                    token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)
                    self._reply(200, fake.api(path.removeprefix("/api/"), args, token))
                else:
                    self._reply(404, {"ok": False, "error": "not_found"})

            do_GET = do_POST = _dispatch

        return Handler


class FakeSocketMode(_Served):
    """Slack's Socket Mode server: a WebSocket that says hello, pushes envelopes and collects acks."""

    def __init__(self) -> None:
        self.acks: dict[str, float] = {}  # envelope_id -> perf_counter time of the ack
        self._connections: list[ServerConnection] = []
        self._changed = threading.Condition()
        self._server = serve(self._session, "127.0.0.1", 0)

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket={uuid.uuid4()}"

    def _session(self, connection: ServerConnection) -> None:
        hello = {
            "type": "hello",
            "num_connections": 1,
            "connection_info": {"app_id": APP_ID},
            "debug_info": {"host": "fake-socket-mode", "approximate_connection_time": 18060},
        }
        connection.send(json.dumps(hello))
        with self._changed:
            self._connections.append(connection)
            self._changed.notify_all()
        for raw in connection:
            envelope_id = json.loads(raw).get("envelope_id")
            if envelope_id:
                with self._changed:
                    self.acks[envelope_id] = time.perf_counter()
                    self._changed.notify_all()

    def push(self, payload: dict[str, Any], kind: str = "events_api", timeout: float = 20.0) -> str:
        """Send one envelope to the connected client; returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        with self._changed:
            if not self._changed.wait_for(lambda: self._connections, timeout):
                raise AssertionError("no Socket Mode client connected")
            connection = self._connections[-1]
        connection.send(json.dumps(envelope, ensure_ascii=False))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 20.0) -> float:
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was not acknowledged within {timeout}s")
            return self.acks[envelope_id]
