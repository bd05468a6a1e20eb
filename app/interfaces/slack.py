"""Slack bot: mention it in a channel or write to it in a DM, get the cited answer in the thread.

Slack wants every event acknowledged within 3 seconds and retries the ones that
are not, so each listener is split the way Bolt's lazy listeners are meant for:
the `ack` part runs before Slack gets its answer and does only what is quick (post
the placeholder, or reply to `/ask` with it); the slow part (thread history, the
engine, `chat.update`) is a lazy listener on Bolt's executor, whose size
(`NEWSQA_CONCURRENCY`) also caps how many questions the engine runs at a time.

    python -m app slack            # Socket Mode if SLACK_APP_TOKEN is set, else HTTP on SLACK_PORT
"""

from __future__ import annotations

import argparse
import logging
import re
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from starlette.concurrency import run_in_threadpool

from app.answer.question import Turn
from app.answer.record import QuestionError
from app.config import SettingError, Settings, get_settings
from app.feedback import Rating, record_feedback
from app.filters import Filters, parse_filters
from app.interfaces.http_body import bounded_route
from app.interfaces.slack_blocks import (
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    Block,
    Words,
    answer_blocks,
    answer_text,
    feedback_value,
    from_slack,
    is_answer_message,
    read_feedback_value,
    words_for,
)

if TYPE_CHECKING:
    from app.engine import Engine

log = logging.getLogger("newsqa.slack")

EVENTS_PATH = "/slack/events"  # events, interactivity and /ask all arrive here in HTTP mode
SEEN_IDS = 5000  # event and message ids kept to answer each message once (Slack retries within minutes)
ANSWERS_KEPT = 1000  # answers kept whole for the votes on them; older votes fall back to the message text
REPLIES_PAGE = 200
HISTORY_PAGES = 5  # a thread is read this far at most; the engine keeps only its latest turns anyway
_MAX_BODY_BYTES = Settings.model_fields["max_request_bytes"].default  # NEWSQA_MAX_REQUEST_BYTES' default
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # what X-Slack-Request-Timestamp must be before Bolt does int() on it
# Message subtypes that are still a person writing; edits, joins, deletions... are not questions.
_QUESTION_SUBTYPES = (None, "thread_broadcast", "file_share")


class _Recent:
    """A bounded, thread-safe memory of recent keys; the oldest are forgotten first."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def claim(self, key: Hashable) -> bool:
        """True the first time `key` is seen, False after (while it is remembered)."""
        with self._lock:
            if key in self._items:
                return False
            self._store(key, None)
            return True

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._store(key, value)

    def get(self, key: Hashable) -> Any:
        with self._lock:
            return self._items.get(key)

    def pop(self, key: Hashable) -> Any:
        """The value of `key`, forgotten: one caller gets it."""
        with self._lock:
            return self._items.pop(key, None)

    def _store(self, key: Hashable, value: Any) -> None:
        self._items[key] = value
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class QuestionPool(ThreadPoolExecutor):
    """Bolt's executor for the lazy listeners, which knows what it still has to do.

    `drain` waits for every answer and vote handed to it so far: a shutdown lets the
    questions in flight finish, and a test knows when the bot is done instead of sleeping.
    """

    def __init__(self, workers: int) -> None:
        super().__init__(workers, thread_name_prefix="newsqa-slack")
        self._pending: set[Future] = set()
        self._pending_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future = super().submit(fn, *args, **kwargs)
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future) -> None:
        with self._pending_lock:
            self._pending.discard(future)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait for the work submitted so far; False if some is still running after `timeout` seconds."""
        with self._pending_lock:
            pending = list(self._pending)
        return not wait(pending, timeout).not_done


def drain(app: App, timeout: float | None = 60) -> bool:
    """Wait until `app`'s bot has answered everything it acknowledged (see `QuestionPool`)."""
    executor = app.listener_runner.listener_executor
    return executor.drain(timeout) if isinstance(executor, QuestionPool) else True


def _ts_key(ts: str) -> tuple[int, int]:
    """Slack timestamps ("1700000000.000100") in order, without float rounding."""
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)


class SlackBot:
    """The listeners: questions from mentions, DMs and /ask; votes from the 👍/👎 buttons."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.seen = _Recent(SEEN_IDS)
        self.answers = _Recent(ANSWERS_KEPT)
        self.placeholders = _Recent(SEEN_IDS)  # (channel, message ts) -> the placeholder's ts

    def register(self, app: App) -> None:
        """Each listener as (ack: quick, before Slack's answer) + (lazy: on Bolt's executor)."""
        app.middleware(self.drop_repeated_events)
        app.event("app_mention")(ack=self.on_mention, lazy=[self.answer_message])
        app.event("message")(ack=self.on_message, lazy=[self.answer_message])
        app.action(FEEDBACK_UP)(ack=_ack, lazy=[self.on_feedback])
        app.action(FEEDBACK_DOWN)(ack=_ack, lazy=[self.on_feedback])
        app.command("/ask")(ack=self.on_ask, lazy=[self.answer_ask])

    # -- events ---------------------------------------------------------

    def drop_repeated_events(self, body: dict[str, Any], request: Any, next: Callable[[], None]) -> BoltResponse | None:
        """Acknowledge, and do nothing else for, an event already received (Slack's retries)."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not self.seen.claim(("event", event_id)):
            retry = request.headers.get("x-slack-retry-num", ["?"])[0]
            reason = request.headers.get("x-slack-retry-reason", ["?"])[0]
            log.info("ignoring repeated event %s (retry %s, reason %s)", event_id, retry, reason)
            return BoltResponse(status=200, body="")
        next()
        return None

    def on_mention(self, event: dict[str, Any], context: Any, client: WebClient) -> None:
        self._take_question(event, context, client)

    def on_message(self, event: dict[str, Any], context: Any, client: WebClient) -> None:
        """Direct messages only: in channels the bot answers when mentioned."""
        if event.get("channel_type") == "im":
            self._take_question(event, context, client)

    def _take_question(self, event: dict[str, Any], context: Any, client: WebClient) -> None:
        """Post the placeholder now; `answer_message` replaces it with the answer."""
        if event.get("bot_id") or event.get("subtype") not in _QUESTION_SUBTYPES:
            return  # other bots (Bolt already drops our own messages), edits, joins...
        channel, ts = event["channel"], event["ts"]
        # The same message can arrive twice (as app_mention and as message.im): answer it once.
        if not self.seen.claim(("message", channel, ts)):
            return
        words = words_for(from_slack(event.get("text", ""), context.bot_user_id))
        try:
            placeholder = client.chat_postMessage(channel=channel, thread_ts=event.get("thread_ts") or ts,
                                                  text=words["placeholder"])
        except Exception:
            log.exception("could not post the placeholder in %s (message %s)", channel, ts)
            return
        self.placeholders.put((channel, ts), placeholder["ts"])

    def answer_message(self, event: dict[str, Any], context: Any, client: WebClient) -> None:
        """The lazy half of a mention or DM: the answer in place of the placeholder (once per message)."""
        placeholder = self.placeholders.pop((event.get("channel"), event.get("ts")))
        if placeholder is None:
            return  # not a question, a repeat, or its placeholder could not be posted
        question = from_slack(event.get("text", ""), context.bot_user_id)
        words = words_for(question)

        def reply() -> tuple[str, list[Block] | None]:
            history = self._history(client, event, context) if event.get("thread_ts") else []
            return self._reply(question, history, words)

        send = partial(client.chat_update, channel=event["channel"], ts=placeholder)
        self._deliver(send, reply, words, f"message {event['ts']} in {event['channel']}")

    def _history(self, client: WebClient, event: Mapping[str, Any], context: Any) -> list[Turn]:
        """The thread before this message: people are "user", this bot's answers "assistant".

        At most HISTORY_PAGES pages are read, and only the latest `max_history_turns` turns kept.
        """
        turns: deque[Turn] = deque(maxlen=self.settings.max_history_turns)
        before = _ts_key(event["ts"])
        pages = client.conversations_replies(channel=event["channel"], ts=event["thread_ts"], limit=REPLIES_PAGE)
        for number, page in enumerate(pages, start=1):
            for message in page["messages"]:
                if _ts_key(message["ts"]) >= before:
                    return list(turns)  # replies come oldest first: the rest is later still
                own = message.get("user") == context.bot_user_id or (
                    message.get("bot_id") is not None and message.get("bot_id") == context.bot_id
                )
                role: Literal["user", "assistant"]
                if own and is_answer_message(message):
                    role = "assistant"
                elif not own and not message.get("bot_id") and message.get("subtype") in _QUESTION_SUBTYPES:
                    role = "user"
                else:
                    continue  # placeholders, apologies, other bots
                content = from_slack(message.get("text", ""), context.bot_user_id)
                if content:
                    turns.append(Turn(role=role, content=content))
            if number >= HISTORY_PAGES:
                break
        return list(turns)

    # -- answering ------------------------------------------------------

    def _reply(self, question: str, history: Sequence[Turn], words: Words) -> tuple[str, list[Block] | None]:
        """The reply's text and blocks; a question the engine refuses gets its reason."""
        try:
            question, filters = split_filters(question)
            answer = self.engine.answer(question, history, filters)
        except QuestionError as exc:
            return words["question_error"].format(error=exc), None
        key = secrets.token_hex(8)
        self.answers.put(key, (question, answer.to_dict()))
        return answer_text(answer), answer_blocks(answer, words, feedback_value(key, question, answer))

    @staticmethod
    def _deliver(
        send: Callable[..., Any], reply: Callable[[], tuple[str, list[Block] | None]], words: Words, what: str
    ) -> None:
        """Send the reply; on any failure, log it and send the apology instead: never silence."""
        try:
            text, blocks = reply()
            send(text=text, blocks=blocks)
        except Exception:
            log.exception("could not answer %s", what)
            try:
                send(text=words["apology"], blocks=None)
            except Exception:
                log.exception("could not send the apology for %s either", what)

    # -- /ask and the buttons -------------------------------------------

    def on_ask(self, ack: Callable[..., Any], command: dict[str, Any]) -> None:
        """`/ask question`: an ephemeral placeholder as the command's own reply; `answer_ask` follows."""
        ack(text=words_for(command.get("text", "").strip())["placeholder"], response_type="ephemeral")

    def answer_ask(self, command: dict[str, Any], respond: Callable[..., Any]) -> None:
        """The lazy half of `/ask`: the ephemeral answer through `response_url`."""
        question = command.get("text", "").strip()
        words = words_for(question)
        send = partial(_respond_checked, respond, response_type="ephemeral")
        self._deliver(send, partial(self._reply, question, [], words), words, f"/ask from {command.get('user_id')}")

    def on_feedback(self, body: dict[str, Any], action: dict[str, Any], respond: Callable[..., Any]) -> None:
        """Record a 👍/👎 in the feedback file shared with the browser, and thank the voter privately."""
        rating: Rating = "up" if action["action_id"] == FEEDBACK_UP else "down"
        words = words_for("")
        try:
            data = read_feedback_value(action.get("value", ""))
            words = words_for(data.get("q", ""))
            question, answer = self.answers.get(data["k"]) or (
                # Not remembered (the bot restarted): the message text and the button still tell most of it.
                data.get("q", ""),
                {
                    "answer": from_slack(body.get("message", {}).get("text", "")),
                    "mode": data.get("m"),
                    "found": data.get("f"),
                    "citations": [],
                },
            )
            record_feedback(
                self.settings,
                voter=body.get("user", {}).get("id") or "",
                answer_id=data["k"],
                question=question,
                answer=answer,
                rating=rating,
                channel="slack",
                extra={
                    "slack": {
                        "user": body.get("user", {}).get("id"),
                        "channel": body.get("channel", {}).get("id"),
                        "message_ts": body.get("container", {}).get("message_ts"),
                    }
                },
            )
        except (ValueError, OSError):
            log.exception("could not record a %s vote", rating)
            respond(text=words["feedback_failed"], response_type="ephemeral", replace_original=False)
            return
        respond(text=words["thanks"], response_type="ephemeral", replace_original=False)


_FILTER_WORD = re.compile(r"\s*(since|until|source):(\S+)", re.IGNORECASE)


def split_filters(text: str) -> tuple[str, Filters]:
    """`since:2025-06 until:2025-07 source:okaz question…`: the words before the question limit it
    (`source:` may repeat); a malformed one is a `QuestionError` naming it."""
    values: dict[str, Any] = {"since": None, "until": None, "sources": []}
    while match := _FILTER_WORD.match(text):
        key, value = match[1].lower(), match[2]
        if key == "source":
            values["sources"].append(value)
        else:
            values[key] = value
        text = text[match.end():]
    return text.strip(), parse_filters(**values)


def _ack(ack: Callable[..., Any]) -> None:
    ack()


def _respond_checked(respond: Callable[..., Any], **message: Any) -> None:
    """`respond` reports failures as a status code; make them exceptions so the apology path runs."""
    response = respond(**message)
    if response.status_code != 200:
        raise RuntimeError(f"response_url answered {response.status_code}: {response.body}")


def _web_client(settings: Settings) -> WebClient:
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return WebClient(token=settings.slack_bot_token, base_url=base_url)


def build_app(
    settings: Settings,
    engine: Engine | None = None,
    client: WebClient | None = None,
    socket: bool | None = None,
) -> App:
    """The Bolt app with the bot's listeners. Checks the configuration and the token (auth.test)."""
    socket = settings.slack_socket_mode if socket is None else socket
    settings.require_slack(socket)
    if engine is None:
        from app.engine import Engine

        engine = Engine(settings)
    try:
        app = App(
            client=client or _web_client(settings),
            signing_secret=settings.slack_signing_secret or "",
            process_before_response=True,  # the ack halves are quick; the lazy ones run on the pool
            listener_executor=QuestionPool(settings.concurrency),
            request_verification_enabled=not socket,
        )
    except BoltError as exc:
        raise SettingError(f"SLACK_BOT_TOKEN was rejected by Slack: {exc}") from exc
    except OSError as exc:
        raise SettingError(f"cannot reach the Slack API at SLACK_API_URL={settings.slack_api_url}: {exc}") from exc
    SlackBot(settings, engine).register(app)
    return app


def router_for(app: App, max_body_bytes: int = _MAX_BODY_BYTES) -> APIRouter:
    """`POST /slack/events` (events, buttons, /ask) for `app`, to include in any FastAPI server.

    Bolt's own Starlette adapter runs `dispatch` on the event loop; here it runs
    in the thread pool so a slow Slack call never stalls the server's other routes.
    Bolt checks the signature; what it would choke on first (a timestamp that is
    not a number, a body that does not parse) is a 400 here, and a body over
    `max_body_bytes` a 413.
    """
    router = APIRouter(route_class=bounded_route(max_body_bytes))

    @router.post(EVENTS_PATH, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        stamp = request.headers.get("x-slack-request-timestamp")
        if stamp is not None and not _TIMESTAMP.fullmatch(stamp):
            raise HTTPException(400, "X-Slack-Request-Timestamp must be a Unix time in seconds")
        try:
            bolt_request = to_bolt_request(request, body)
        except Exception:  # only parsing happens here: not UTF-8, not JSON, or JSON Bolt cannot read (a list...)
            raise HTTPException(400, "the body is not a JSON object or form data Slack would send") from None
        return to_starlette_response(await run_in_threadpool(app.dispatch, bolt_request))

    return router


def fastapi_router(settings: Settings, engine: Engine | None = None) -> APIRouter:
    """The HTTP-mode bot as a router, for the browser app's server: `server.include_router(...)`."""
    return router_for(build_app(settings, engine, socket=False), settings.max_request_bytes)


def asgi_app(app: App, max_body_bytes: int = _MAX_BODY_BYTES) -> FastAPI:
    """A server with only the Slack endpoint: what `python -m app slack` runs in HTTP mode."""
    server = FastAPI(title="newsqa Slack bot", docs_url=None, redoc_url=None, openapi_url=None)
    server.include_router(router_for(app, max_body_bytes))
    return server


def _run_socket_mode(app: App, app_token: str) -> int:
    """Connect over Socket Mode (no public URL needed) and serve until Ctrl-C."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token)
    try:
        handler.connect()
    except SlackApiError as exc:
        raise SettingError(f"SLACK_APP_TOKEN was rejected by Slack ({exc.response.get('error')})") from exc
    log.info("connected to Slack in Socket Mode; Ctrl-C stops")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        handler.close()
        drain(app)  # the questions already acknowledged still get their answers
    return 0


def main(argv: Sequence[str]) -> int:
    """`python -m app slack [--host H] [--port P]`; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m app slack", description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="HTTP mode: address to listen on (default NEWSQA_HOST)")
    parser.add_argument("--port", type=int, help="HTTP mode: port (default SLACK_PORT, 3000)")
    args = parser.parse_args(list(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    settings = get_settings()  # a SettingError here and below is the CLI's one-line error
    from app.engine import Engine

    engine = Engine(settings)  # cheap: the index loads in ensure_ready
    app = build_app(settings, engine)  # checks the variables and the token first
    engine.ensure_ready(progress=lambda message: log.info("%s", message))
    engine.watch()
    if settings.slack_socket_mode:
        return _run_socket_mode(app, settings.slack_app_token or "")

    import uvicorn

    host, port = args.host or settings.host, args.port or settings.slack_port
    log.info("Slack events at http://%s:%d%s", host, port, EVENTS_PATH)
    uvicorn.run(asgi_app(app, settings.max_request_bytes), host=host, port=port, log_level="info")
    return 0
