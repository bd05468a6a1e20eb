"""The Slack bot end to end in HTTP mode, no Slack workspace needed.

The bot's real HTTP endpoint (uvicorn on a free loopback port, as `python -m app slack` runs it) receives events
signed with the signing secret, exactly as Slack sends them; its real
`WebClient` talks to `FakeSlack`, a local server speaking Slack's Web API; the
answers come from the real engine on a temporary copy of the seed articles.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import yaml
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from app.answer.record import Answer, Citation
from app.config import get_settings
from app.engine import Engine
from app.feedback import read_feedback
from app.filters import NO_FILTERS, Filters, parse_filters
from app.interfaces import cli, slack
from app.interfaces.slack_blocks import (
    FEEDBACK_BLOCK_ID,
    MAX_BLOCKS,
    SECTION_LIMIT,
    answer_blocks,
    cut_words,
    feedback_value,
    from_slack,
    read_feedback_value,
    split_words,
    words_for,
)
from tests.conftest import make_settings
from tests.fake_slack import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, Call, FakeSlack, FakeSocketMode, block_errors
from tests.web_helpers import ThreadServer

pytestmark = pytest.mark.slow  # starts servers or builds its own index

TOKEN = "xoxb-1111-2222-newsqatestbot"
APP_TOKEN = "xapp-1-A0NEWSQA-3333-newsqatestapp"
SECRET = "9c3e4f7a1b2d4e6f8a0b1c2d3e4f5a6b"
MENTION = f"<@{BOT_USER_ID}>"
QUESTION = "ما الذي دعا إليه الأمين العام لحلف الناتو؟"
FOLLOW_UP = "وماذا عن الصناعة الدفاعية؟"

LATENCIES: list[tuple[str, float, float]] = []  # (case, event->placeholder s, event->answer s)


class RecordingEngine:
    """The real engine, noting every (question, history) it is asked; `fail` makes it raise.

    While `held()` is open, answers wait: Slack retries an event not acknowledged within
    3 seconds, so the bot must acknowledge (and post its placeholder) before it answers,
    which a test shows by holding the answer rather than by timing the acknowledgement.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls: list[tuple[str, list[dict[str, str]]]] = []
        self.filters: list[Filters] = []  # what each call was limited to, in the same order
        self.fail: Exception | None = None
        self._go = threading.Event()
        self._go.set()

    @contextmanager
    def held(self) -> Iterator[None]:
        self._go.clear()
        try:
            yield
        finally:
            self._go.set()

    def answer(self, question: str, history: Any = (), filters: Filters = NO_FILTERS) -> Answer:
        self.calls.append((question, [dict(turn) for turn in history]))
        self.filters.append(filters)
        self._go.wait(timeout=120)
        if self.fail is not None:
            raise self.fail
        return self.engine.answer(question, history, filters)


def events_url(server: ThreadServer) -> str:
    return server.url + slack.EVENTS_PATH


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(TOKEN, app_token=APP_TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def recorder(engine: Engine) -> RecordingEngine:
    return RecordingEngine(engine)


@pytest.fixture(scope="module")
def bot_settings(engine: Engine, fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory):
    return make_settings(
        corpus_dir=engine.settings.corpus_dir,
        index_dir=engine.settings.index_dir,
        feedback_file=tmp_path_factory.mktemp("feedback") / "feedback.jsonl",
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_app_token=None,
        slack_api_url=fake.api_url,
    )


@pytest.fixture(scope="module")
def bot_app(bot_settings, recorder: RecordingEngine) -> App:
    return slack.build_app(bot_settings, recorder)


@pytest.fixture(scope="module")
def bot(bot_app: App) -> Iterator[str]:
    with ThreadServer(slack.asgi_app(bot_app)) as server:
        yield events_url(server)


@pytest.fixture
def idle(bot_app: App) -> Callable[[], None]:
    """Wait until the bot has done everything it acknowledged: what it will ever send, it has sent."""
    return lambda: None if slack.drain(bot_app, timeout=120) else pytest.fail("the bot is still busy after 120 s")


@pytest.fixture(scope="module", autouse=True)
def latency_report() -> Iterator[None]:
    yield
    if LATENCIES:
        print("\nSlack latency (event POST -> fake Slack receiving the call):")
        for case, placeholder, answer in LATENCIES:
            print(f"  {case:<28} placeholder {placeholder * 1000:7.1f} ms   answer {answer * 1000:7.1f} ms")


# -- building what Slack sends -------------------------------------------------


def signature_headers(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Slack's v0 request signature, computed independently of the SDK."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def post_signed(url: str, body: str, content_type: str, **headers: str) -> tuple[httpx.Response, float]:
    """POST like Slack does; returns the response and the perf_counter time it was sent."""
    sent = time.perf_counter()
    response = httpx.post(
        url,
        content=body.encode(),
        headers={"Content-Type": content_type, **signature_headers(body), **headers},
        timeout=10,
    )
    return response, sent


def event_body(event: dict[str, Any], event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        },
        ensure_ascii=False,
    )


def mention(message: dict[str, Any], channel: str) -> dict[str, Any]:
    """The app_mention event Slack sends for a stored channel message."""
    event = {"type": "app_mention", "channel": channel, "event_ts": message["ts"], "client_msg_id": str(uuid.uuid4())}
    event.update({k: v for k, v in message.items() if k in ("user", "text", "ts", "thread_ts", "team", "bot_id")})
    return event


def direct(message: dict[str, Any], channel: str) -> dict[str, Any]:
    """The message.im event Slack sends for a stored DM."""
    return {**message, "channel": channel, "channel_type": "im", "event_ts": message["ts"]}


def send_event(
    url: str, event: dict[str, Any], event_id: str | None = None, **headers: str
) -> tuple[httpx.Response, float]:
    return post_signed(url, event_body(event, event_id), "application/json", **headers)


def new_channel(prefix: str = "C") -> str:
    return prefix + uuid.uuid4().hex[:9].upper()


def in_channel(channel: str):
    return lambda call: call.args.get("channel") == channel


def answered(fake: FakeSlack, channel: str, after: Call | None = None) -> tuple[Call, Call]:
    """The placeholder and the chat.update that replaced it (the first ones after `after`)."""
    later = (lambda c: c.at > after.at) if after else (lambda c: True)
    placeholder = fake.wait_for("chat.postMessage", lambda c: in_channel(channel)(c) and later(c))
    update = fake.wait_for("chat.update", lambda c: in_channel(channel)(c) and later(c))
    return placeholder, update


def bot_messages(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.channels.get(channel, []) if m.get("bot_id") == BOT_ID]


def texts_of(blocks: list[dict[str, Any]]) -> str:
    parts = []
    for block in blocks:
        if block["type"] == "section":
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts += [element["text"] for element in block["elements"]]
    return "\n".join(parts)


# -- the conversation ------------------------------------------------------------


def test_mention_gets_threaded_placeholder_then_the_cited_answer(bot, fake, engine, recorder):
    channel = new_channel()
    message = fake.user_says(channel, f"{MENTION} {QUESTION}")
    with recorder.held():  # acknowledged and placeheld while the answer cannot have been made
        response, sent = send_event(bot, mention(message, channel))
        assert response.status_code == 200
        fake.wait_for("chat.postMessage", in_channel(channel))
        assert fake.calls_to("chat.update", in_channel(channel)) == []

    placeholder, update = answered(fake, channel)
    assert placeholder.args["thread_ts"] == message["ts"]
    assert placeholder.args["text"] == words_for(QUESTION)["placeholder"]
    [posted] = bot_messages(fake, channel)
    assert update.args["ts"] == posted["ts"] and posted.get("thread_ts") == message["ts"]

    expected = engine.answer(QUESTION)  # what the browser gets for the same question
    assert expected.found and expected.citations
    assert update.args["text"] == expected.answer and "[1]" in update.args["text"]
    blocks = update.args["blocks"]
    assert block_errors(blocks) == []
    assert expected.short_answer and blocks[0] == {"type": "section",  # the short answer first, in bold
                                                   "text": {"type": "mrkdwn", "text": f"*{expected.short_answer}*"}}
    shown = texts_of(blocks)
    for citation in expected.citations:
        assert f"[{citation.n}]" in shown and citation.source in shown
    buttons = next(b for b in blocks if b.get("block_id") == FEEDBACK_BLOCK_ID)["elements"]
    assert [b["text"]["text"] for b in buttons] == ["👍", "👎"]
    assert posted["text"] == expected.answer  # the thread now holds the answer, not the placeholder
    LATENCIES.append(("channel mention", placeholder.at - sent, update.at - sent))


def test_direct_message_is_answered_in_its_thread_once(bot, fake, engine, idle):
    channel = new_channel("D")
    question = "What did the NATO secretary general call for?"
    message = fake.user_says(channel, question)
    # A DM that also mentions the bot arrives twice, as message.im and app_mention: one answer.
    response, sent = send_event(bot, direct(message, channel))
    assert response.status_code == 200
    assert send_event(bot, {**mention(message, channel), "channel_type": "im"})[0].status_code == 200

    placeholder, update = answered(fake, channel)
    assert placeholder.args["thread_ts"] == message["ts"]
    assert placeholder.args["text"] == words_for(question)["placeholder"]
    assert update.args["text"] == engine.answer(question).answer
    idle()
    assert len(fake.calls_to("chat.postMessage", in_channel(channel))) == 1
    LATENCIES.append(("direct message", placeholder.at - sent, update.at - sent))


def test_follow_up_in_a_thread_uses_the_thread_as_history(bot, fake, engine, recorder):
    channel = new_channel()
    first = fake.user_says(channel, f"{MENTION} {QUESTION}")
    send_event(bot, mention(first, channel))
    _, first_answer = answered(fake, channel)

    follow = fake.user_says(channel, f"{MENTION} {FOLLOW_UP}", thread_ts=first["ts"])
    page, fake.replies_page = fake.replies_page, 1  # the two messages before the follow-up come on two pages
    try:
        _, sent = send_event(bot, mention(follow, channel))
        placeholder, update = answered(fake, channel, after=first_answer)
    finally:
        fake.replies_page = page

    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": first_answer.args["text"]}]
    assert (FOLLOW_UP, history) in recorder.calls
    replies = fake.calls_to("conversations.replies", in_channel(channel))
    assert {c.args["ts"] for c in replies} == {first["ts"]}
    assert any(c.args.get("cursor") for c in replies), "the thread spans pages; all must be read"
    assert update.args["text"] == engine.answer(FOLLOW_UP, history).answer
    LATENCIES.append(("follow-up in a thread", placeholder.at - sent, update.at - sent))


def test_messages_from_bots_and_edits_are_ignored(bot, fake, recorder, idle):
    channel = new_channel("D")
    ignored = [
        {"type": "message", "subtype": "bot_message", "bot_id": "B0OTHERBOT", "text": "from another bot"},
        {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": "from this bot itself"},
        {"type": "message", "subtype": "message_changed", "hidden": True, "message": {"text": "an edit"}},
    ]
    for event in ignored:
        event.update(channel=channel, channel_type="im", ts=fake.next_ts())
        assert send_event(bot, event)[0].status_code == 200
    other_bot = {
        "type": "app_mention",
        "user": "U0OTHERBOT",
        "bot_id": "B0OTHERBOT",
        "text": f"{MENTION} hi",
        "channel": channel,
        "ts": fake.next_ts(),
    }
    assert send_event(bot, other_bot)[0].status_code == 200

    # A person's message afterwards is answered: by then the ones above were dealt with.
    person = fake.user_says(channel, QUESTION)
    send_event(bot, direct(person, channel))
    answered(fake, channel)
    idle()
    assert len(fake.calls_to("chat.postMessage", in_channel(channel))) == 1
    asked = [question for question, _ in recorder.calls]
    assert not {"from another bot", "from this bot itself", "an edit", "hi"} & set(asked)


@pytest.mark.parametrize(
    "case",
    ["wrong secret", "tampered body", "replayed old timestamp", "no signature"],
)
def test_unsigned_or_replayed_requests_get_401(bot, fake, recorder, case, idle):
    channel = new_channel()
    message = fake.user_says(channel, f"{MENTION} {QUESTION}")
    body = event_body(mention(message, channel))
    headers = {
        "wrong secret": signature_headers(body, secret="0" * 32),
        "tampered body": signature_headers(body.replace(QUESTION, "سؤال آخر")),
        "replayed old timestamp": signature_headers(body, timestamp=int(time.time()) - 6 * 60),
        "no signature": {},
    }[case]
    before = len(recorder.calls)
    response = httpx.post(bot, content=body.encode(), headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 401
    idle()
    assert fake.calls_to("chat.postMessage", in_channel(channel)) == []
    assert len(recorder.calls) == before


@pytest.mark.parametrize("case", ["timestamp not a number", "JSON that does not parse", "JSON not an object"])
def test_malformed_requests_get_400(bot, fake, case, idle):
    channel = new_channel()
    body = {
        "timestamp not a number": event_body(mention(fake.user_says(channel, f"{MENTION} {QUESTION}"), channel)),
        "JSON that does not parse": '{"type": "event_callback", "event": {"type": "app_mention", ',
        "JSON not an object": '["event_callback"]',
    }[case]
    headers = signature_headers(body)  # validly signed, but for the first case
    if case == "timestamp not a number":
        headers = {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=" + "0" * 64}
    response = httpx.post(bot, content=body.encode(), headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 400
    assert response.json()["detail"]
    idle()
    assert fake.calls_to("chat.postMessage", in_channel(channel)) == []


def test_a_long_thread_is_read_only_so_far(bot, bot_settings, fake, recorder):
    channel = new_channel()
    first = fake.user_says(channel, f"{MENTION} {QUESTION}")
    for i in range(40):
        fake.user_says(channel, f"رسالة {i} في النقاش", thread_ts=first["ts"])
    follow = fake.user_says(channel, f"{MENTION} {FOLLOW_UP}", thread_ts=first["ts"])
    before = len(recorder.calls)
    send_event(bot, mention(follow, channel))
    answered(fake, channel)
    assert len(fake.calls_to("conversations.replies", in_channel(channel))) == slack.HISTORY_PAGES
    [(question, history)] = recorder.calls[before:]
    read = slack.HISTORY_PAGES * fake.replies_page  # messages read: the thread's first one, then replies 0 to read - 2
    assert question == FOLLOW_UP and len(history) == bot_settings.max_history_turns
    assert history[-1] == {"role": "user", "content": f"رسالة {read - 2} في النقاش"}


def test_markup_in_an_llm_answer_is_escaped_in_the_message_text(bot_settings, fake):
    """The plain `text` of chat.update is mrkdwn too (and what notifications show): escaped like the blocks."""
    from tests.fake_openai import FakeOpenAI

    llm = FakeOpenAI().start()
    llm.behaviour = "markup"
    settings = bot_settings.model_copy(update={"openai_api_key": "sk-test", "openai_base_url": llm.base_url, "llm_retries": 0})
    question = "What did the NATO secretary general call for?"
    try:
        with ThreadServer(slack.asgi_app(slack.build_app(settings, Engine(settings)))) as server:
            channel = new_channel()
            send_event(events_url(server), mention(fake.user_says(channel, f"{MENTION} {question}"), channel))
            _, update = answered(fake, channel)
    finally:
        llm.stop()
    escaped = "&lt;!channel&gt; The passages &lt;https://evil.example|say so&gt; &amp; more [1]."
    assert update.args["text"] == escaped
    assert escaped in texts_of(update.args["blocks"])


def test_retried_event_is_answered_once(bot, fake, recorder, idle):
    channel = new_channel()
    message = fake.user_says(channel, f"{MENTION} {QUESTION} (retry)")
    event_id = "Ev0RETRY" + uuid.uuid4().hex[:6].upper()
    event = mention(message, channel)
    assert send_event(bot, event, event_id)[0].status_code == 200
    # Slack thought the first delivery timed out and sends it again, while and after it is answered.
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert send_event(bot, event, event_id, **retry)[0].status_code == 200
    answered(fake, channel)
    assert send_event(bot, event, event_id, **{**retry, "X-Slack-Retry-Num": "2"})[0].status_code == 200
    idle()
    assert len(fake.calls_to("chat.postMessage", in_channel(channel))) == 1
    assert len(fake.calls_to("chat.update", in_channel(channel))) == 1
    assert [q for q, _ in recorder.calls].count(f"{QUESTION} (retry)") == 1


def test_retry_of_an_event_never_received_is_answered(bot, fake):
    """If the first delivery was lost, the retry is the only chance to answer."""
    channel = new_channel()
    message = fake.user_says(channel, f"{MENTION} {QUESTION}")
    response, _ = send_event(
        bot, mention(message, channel), **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    )
    assert response.status_code == 200
    answered(fake, channel)


def test_engine_failure_becomes_an_apology_and_a_log_line(bot, fake, recorder, caplog):
    channel = new_channel()
    message = fake.user_says(channel, f"{MENTION} {QUESTION}")
    recorder.fail = RuntimeError("index unavailable")
    try:
        with caplog.at_level(logging.ERROR, logger="newsqa.slack"):
            send_event(bot, mention(message, channel))
            placeholder, update = answered(fake, channel)
    finally:
        recorder.fail = None
    assert placeholder.args["thread_ts"] == message["ts"]
    assert update.args["text"] == words_for(QUESTION)["apology"]
    errors = [r for r in caplog.records if r.name == "newsqa.slack" and r.levelno == logging.ERROR]
    assert errors and "index unavailable" in (errors[0].exc_text or "")


def test_a_question_the_articles_do_not_cover_says_so(bot, fake, engine):
    channel = new_channel()
    question = "ما هو عدد سكان المريخ؟"
    send_event(bot, mention(fake.user_says(channel, f"{MENTION} {question}"), channel))
    _, update = answered(fake, channel)
    expected = engine.answer(question)
    assert not expected.found and update.args["text"] == expected.answer
    shown = texts_of(update.args["blocks"])
    assert words_for(question)["sources"] not in shown and words_for(question)["extractive"] not in shown
    assert update.args["blocks"][-1]["block_id"] == FEEDBACK_BLOCK_ID  # a miss can be voted on too


def test_an_unusable_question_gets_the_reason(bot, fake):
    channel = new_channel()
    message = fake.user_says(channel, MENTION)  # a bare mention: the question is empty
    send_event(bot, mention(message, channel))
    _, update = answered(fake, channel)
    assert update.args["text"] == words_for("")["question_error"].format(error="the question is empty")


# -- buttons and /ask ----------------------------------------------------------------


def click(
    url: str,
    fake: FakeSlack,
    channel: str,
    message: dict[str, Any],
    action_id: str,
    hook: str,
    ephemeral: bool = False,
) -> httpx.Response:
    """The block_actions payload Slack posts when someone clicks a button on `message`.

    For an ephemeral message Slack sends no copy of the message, only where it was.
    """
    button = next(
        e
        for b in message["blocks"]
        if b.get("block_id") == FEEDBACK_BLOCK_ID
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    payload = {
        "type": "block_actions",
        "user": {"id": "U0READER", "username": "reader", "name": "reader", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": ephemeral},
        "trigger_id": "1111.2222.abcd",
        "team": {"id": TEAM_ID, "domain": "newsqa-test"},
        "channel": {"id": channel, "name": "news"},
        "response_url": fake.response_url(hook),
        "actions": [{**button, "block_id": FEEDBACK_BLOCK_ID, "action_ts": fake.next_ts()}],
    }
    if not ephemeral:
        payload["message"] = message
    return post_signed(
        url, urlencode({"payload": json.dumps(payload, ensure_ascii=False)}), "application/x-www-form-urlencoded"
    )[0]


def test_thumbs_down_is_recorded_in_the_shared_feedback_file(bot, bot_settings, fake, engine):
    channel = new_channel()
    message = fake.user_says(channel, f"{MENTION} {QUESTION}")
    send_event(bot, mention(message, channel))
    _, update = answered(fake, channel)
    [answer_message] = bot_messages(fake, channel)

    hook = uuid.uuid4().hex
    assert click(bot, fake, channel, answer_message, "feedback_down", hook).status_code == 200
    thanks = fake.wait_for("response_url", lambda c: c.args["hook"] == hook)
    assert thanks.args["text"] == words_for(QUESTION)["thanks"]
    assert thanks.args["response_type"] == "ephemeral" and thanks.args["replace_original"] is False

    vote = read_feedback(bot_settings.feedback_file)[-1]
    expected = engine.answer(QUESTION).to_dict()
    assert vote["rating"] == "down" and vote["channel"] == "slack"
    assert vote["question"] == QUESTION and vote["answer"] == update.args["text"]
    assert vote["citations"] == expected["citations"] and vote["mode"] == expected["mode"]
    assert vote["slack"] == {"user": "U0READER", "channel": channel, "message_ts": answer_message["ts"]}


def test_repeated_clicks_are_one_vote_and_a_change_replaces_it(bot, bot_settings, fake):
    channel = new_channel()
    message = fake.user_says(channel, f"{MENTION} {QUESTION}")
    send_event(bot, mention(message, channel))
    answered(fake, channel)
    [answer_message] = bot_messages(fake, channel)

    for n, action in enumerate(["feedback_up"] * 5 + ["feedback_down"]):
        hook = f"{uuid.uuid4().hex}-{n}"
        assert click(bot, fake, channel, answer_message, action, hook).status_code == 200
        fake.wait_for("response_url", lambda c, hook=hook: c.args["hook"] == hook)  # handled before the next click

    mine = [v for v in read_feedback(bot_settings.feedback_file) if v["slack"]["message_ts"] == answer_message["ts"]]
    assert [v["rating"] for v in mine] == ["down"]
    lines = bot_settings.feedback_file.read_text(encoding="utf-8").splitlines()
    assert sum(answer_message["ts"] in line for line in lines) == 2  # the 👍 once, then the 👎


def test_a_vote_after_a_restart_is_still_recorded(bot_settings, fake, recorder):
    """A restarted bot no longer remembers the answer: the button and the message still tell it."""
    channel = new_channel()
    message = fake.user_says(channel, f"{MENTION} {QUESTION}")
    with ThreadServer(slack.asgi_app(slack.build_app(bot_settings, recorder))) as first:
        send_event(events_url(first), mention(message, channel))
        _, update = answered(fake, channel)
    [answer_message] = bot_messages(fake, channel)
    with ThreadServer(slack.asgi_app(slack.build_app(bot_settings, recorder))) as restarted:
        assert click(events_url(restarted), fake, channel, answer_message, "feedback_up", "restart").status_code == 200
        fake.wait_for("response_url", lambda c: c.args["hook"] == "restart")
    vote = read_feedback(bot_settings.feedback_file)[-1]
    assert vote["rating"] == "up" and vote["question"] == QUESTION
    assert vote["answer"] == update.args["text"] and vote["mode"] == "extractive" and vote["found"] is True


def test_ask_command_takes_a_period_before_the_question(bot, fake, recorder, idle):
    hook = uuid.uuid4().hex
    asked = {"command": "/ask", "user_id": "U0READER", "channel_id": new_channel(), "api_app_id": APP_ID,
             "team_id": TEAM_ID, "response_url": fake.response_url(hook)}
    response, _ = post_signed(bot, urlencode({**asked, "text": f"since:2025-10 until:2025-10 {QUESTION}"}),
                              "application/x-www-form-urlencoded")
    assert response.status_code == 200
    reply = fake.wait_for("response_url", lambda c: c.args["hook"] == hook)
    assert recorder.calls[-1][0] == QUESTION and recorder.filters[-1] == parse_filters("2025-10", "2025-10")
    assert reply.args["text"]
    bad = uuid.uuid4().hex
    post_signed(bot, urlencode({**asked, "response_url": fake.response_url(bad), "text": f"since:2025-13 {QUESTION}"}),
                "application/x-www-form-urlencoded")
    refused = fake.wait_for("response_url", lambda c: c.args["hook"] == bad)
    assert "since" in refused.args["text"]


def test_ask_command_answers_ephemerally_and_its_vote_counts(bot, bot_settings, fake, engine, recorder):
    hook, channel = uuid.uuid4().hex, new_channel()
    form = {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "newsqa-test",
        "channel_id": channel,
        "channel_name": "news",
        "user_id": "U0READER",
        "user_name": "reader",
        "command": "/ask",
        "text": QUESTION,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": fake.response_url(hook),
        "trigger_id": "1111.2222.efgh",
    }
    with recorder.held():  # the placeholder is the acknowledgement, sent before any answer
        response, sent = post_signed(bot, urlencode(form), "application/x-www-form-urlencoded")
        acked = time.perf_counter()
        assert response.status_code == 200
    assert response.json() == {"text": words_for(QUESTION)["placeholder"], "response_type": "ephemeral"}
    reply = fake.wait_for("response_url", lambda c: c.args["hook"] == hook)
    assert reply.args["response_type"] == "ephemeral"
    assert reply.args["text"] == engine.answer(QUESTION).answer
    assert block_errors(reply.args["blocks"]) == []
    LATENCIES.append(("/ask (placeholder = the ack)", acked - sent, reply.at - sent))

    shown = {"blocks": reply.args["blocks"], "ts": fake.next_ts()}
    assert click(bot, fake, channel, shown, "feedback_up", hook + "-vote", ephemeral=True).status_code == 200
    fake.wait_for("response_url", lambda c: c.args["hook"] == hook + "-vote")
    vote = read_feedback(bot_settings.feedback_file)[-1]
    assert vote["rating"] == "up" and vote["question"] == QUESTION
    assert vote["citations"] == engine.answer(QUESTION).to_dict()["citations"]


def test_url_verification_challenge(bot):
    body = json.dumps(
        {
            "token": "legacy-verification-token",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    response, _ = post_signed(bot, body, "application/json")
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_socket_mode_answers_a_mention(bot_settings, fake, recorder, engine):
    """Socket Mode: the same listeners, with events over a WebSocket instead of HTTP."""
    settings = bot_settings.model_copy(update={"slack_app_token": APP_TOKEN, "slack_signing_secret": None})
    assert settings.slack_socket_mode
    with FakeSocketMode() as socket_server:
        fake.socket_url = socket_server.url
        handler = SocketModeHandler(slack.build_app(settings, recorder), APP_TOKEN)
        handler.connect()
        try:
            channel = new_channel()
            message = fake.user_says(channel, f"{MENTION} {QUESTION}")
            sent = time.perf_counter()
            with recorder.held():  # acknowledged while the answer cannot have been made
                socket_server.wait_ack(socket_server.push(json.loads(event_body(mention(message, channel)))))
                assert fake.calls_to("chat.update", in_channel(channel)) == []
            placeholder, update = answered(fake, channel)
        finally:
            handler.close()
            fake.socket_url = None
    assert placeholder.args["thread_ts"] == message["ts"]
    assert update.args["text"] == engine.answer(QUESTION).answer
    LATENCIES.append(("socket mode mention", placeholder.at - sent, update.at - sent))


def test_manifest_declares_what_the_bot_uses():
    manifest = yaml.safe_load(Path(slack.__file__).with_name("slack_manifest.yaml").read_text(encoding="utf-8"))
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    assert settings["interactivity"]["is_enabled"] and settings["socket_mode_enabled"]
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/ask"]
    assert manifest["features"]["app_home"]["messages_tab_enabled"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history", "channels:history", "groups:history"} <= scopes


# -- configuration -------------------------------------------------------------------


@pytest.fixture
def slack_env(monkeypatch, tmp_path, engine, fake):
    """A clean environment for `main`: no `.env`, the test index, the fake Slack."""
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "OPENAI_API_KEY", "CHROMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEWSQA_INDEX_DIR", str(engine.settings.index_dir))
    monkeypatch.setenv("NEWSQA_CORPUS_DIR", str(engine.settings.corpus_dir))
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN is not set"),
        (
            {"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_SIGNING_SECRET": SECRET},
            "SLACK_BOT_TOKEN must start with 'xoxb-'",
        ),
        ({"SLACK_BOT_TOKEN": TOKEN + " ", "SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN contains whitespace"),
        ({"SLACK_BOT_TOKEN": TOKEN}, "SLACK_SIGNING_SECRET is not set"),
        (
            {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xoxb-not-an-app-token"},
            "SLACK_APP_TOKEN must start with 'xapp-'",
        ),
        ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({"SLACK_BOT_TOKEN": "xoxb-revoked", "SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN was rejected by Slack"),
        ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xapp-1-unknown"}, "SLACK_APP_TOKEN was rejected by Slack"),
    ],
)
def test_bad_configuration_stops_at_start_naming_the_variable(slack_env, capsys, env, named):
    for name, value in env.items():
        slack_env.setenv(name, value)
    assert cli.main(["slack"]) == 2
    assert named in capsys.readouterr().err


# -- Block Kit limits ------------------------------------------------------------------


def long_answer(sentences: int, citations: int) -> Answer:
    sentence = "ويهدف منتدى صناعة الدفاع إلى توحيد الجهود السياسية والصناعية لتوسيع القدرات"
    text = " ".join(f"{sentence} {i} [{i % citations + 1}]" for i in range(sentences))
    cited = [
        Citation(n, f"{n:03d}_article.txt", "عنوان " * 40, "2025-06-24", sentence * 5, 0.5, [sentence * 5])
        for n in range(1, citations + 1)
    ]
    return Answer("سؤال؟", text, True, "extractive", cited, {"total": 1.0})


def test_an_answer_without_a_short_answer_starts_with_its_text():
    answer = long_answer(sentences=2, citations=1)
    assert answer.short_answer is None
    assert answer_blocks(answer, words_for(answer.question))[0]["text"]["text"] == answer.answer


def test_long_answers_and_many_sources_fit_block_kit_limits():
    answer = long_answer(sentences=120, citations=60)
    words = words_for(answer.question)
    blocks = answer_blocks(answer, words, feedback_value("k", "سؤال " * 900, answer))
    assert block_errors(blocks) == []
    assert len(blocks) <= MAX_BLOCKS and blocks[-1]["block_id"] == FEEDBACK_BLOCK_ID
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) > 1 and all(len(s) <= SECTION_LIMIT for s in sections)
    original_words = set(answer.answer.split())
    for section in sections:  # every Arabic word arrives whole, every marker beside its word
        assert set(section.removesuffix("…").split()) <= original_words
        assert not section.lstrip().startswith("[")
    assert words["more_sources"].split("{")[0] in texts_of(blocks)
    value = read_feedback_value(blocks[-1]["elements"][0]["value"])
    assert value["k"] == "k" and value["q"].startswith("سؤال")


def test_cutting_keeps_words_and_harakat_whole():
    text = "الحَمْدُ لِلَّهِ رَبِّ العَالَمِينَ " * 10
    first = text.split()[0]
    for limit in range(3, 60):
        cut = cut_words(text, limit)
        kept = cut.removesuffix("…")
        assert len(cut) <= limit and kept and text.startswith(kept)
        assert not unicodedata.combining(text[len(kept)])  # no haraka cut off its letter
        if limit > len(first):
            assert all(word in text.split() for word in kept.split())
    pieces = split_words(text, 25)
    assert " ".join(pieces).split() == text.split()
    assert split_words("<" * 10, 20, lambda s: len(s) * 4) == ["<" * 5, "<" * 5]


def test_slack_markup_becomes_plain_text():
    assert from_slack(
        f"{MENTION}  ما <https://x.example/a|الخبر> في <#C123|أخبار>؟ &lt;3 &amp; <@U0OTHER>", BOT_USER_ID
    ) == ("ما الخبر في #أخبار؟ <3 & @U0OTHER")


def test_the_memory_of_seen_events_is_bounded():
    seen = slack._Recent(2)
    assert seen.claim("a") and seen.claim("b") and not seen.claim("a")
    assert seen.claim("c")  # "a" is now the oldest beyond the bound, and forgotten
    assert seen.claim("a") and not seen.claim("c")


def test_the_browser_app_can_serve_the_bot_too(bot_settings, fake, engine):
    from app.interfaces.web import create_app

    with ThreadServer(create_app(bot_settings, engine, slack=True)) as server:
        url = events_url(server)
        channel = new_channel()
        message = fake.user_says(channel, f"{MENTION} {QUESTION}")
        response, _ = send_event(url, mention(message, channel))
        assert response.status_code == 200
        _, update = answered(fake, channel)
        assert update.args["text"] == engine.answer(QUESTION).answer
        unsigned = httpx.post(url, content=b"{}", headers={"Content-Type": "application/json"}, timeout=10)
        assert unsigned.status_code == 401
        assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
