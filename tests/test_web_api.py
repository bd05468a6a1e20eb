"""HTTP API over a real uvicorn server: `/api/ask` (Arabic, English, follow-ups,
bad input, ten at once), `/healthz`, `/docs`, and "not ready" before the index is."""

from __future__ import annotations

import http.client
import json
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from app.engine import Engine
from app.interfaces.web import create_app
from tests.conftest import SEEDS, make_settings
from tests.web_helpers import ThreadServer

ARCTIC = "ما هي مبادرة حارس القطب الشمالي؟"
FOLLOW_UP = "وما سببها؟"  # means nothing on its own; with the history it is about the initiative
ENGLISH = "What did Rutte say Russia must not do after the war ends?"
CONTRACT_KEYS = {"id", "question", "answer", "short_answer", "found", "mode", "citations", "passages", "timings_ms"}


@pytest.fixture(scope="module")
def api(engine: Engine) -> Iterator[str]:
    with ThreadServer(create_app(engine.settings, engine)) as server:
        server.wait_ready(120)
        yield server.url


def _without_timings(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "timings_ms"}


def test_healthz_reports_readiness_and_index_size(api: str, engine: Engine) -> None:
    response = httpx.get(f"{api}/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert body["articles"] == len(list(SEEDS.iterdir())) == 5
    assert body["passages"] == engine.stats()["passages"] > 5
    assert body["mode"] == "extractive"


def test_ask_in_arabic_returns_the_cli_json_object(api: str, engine: Engine) -> None:
    response = httpx.post(f"{api}/api/ask", json={"question": ARCTIC}, timeout=60)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == CONTRACT_KEYS and body["id"] is None  # exactly what `ask --json` prints (no "notice" here)
    assert _without_timings(body) == _without_timings(engine.answer(ARCTIC).to_dict())
    assert body["found"] is True and body["mode"] == "extractive"
    assert "حارس القطب الشمالي" in body["answer"]
    assert "[1]" in body["answer"]
    first = body["citations"][0]
    assert first["n"] == 1 and (SEEDS / first["source"]).exists()
    assert set(first) == {"n", "source", "title", "date", "text", "score", "url", "publisher"}
    assert any(p["cited"] == 1 and p["text"] == first["text"] for p in body["passages"])  # and among the retrieved


def test_ask_in_english(api: str) -> None:
    body = httpx.post(f"{api}/api/ask", json={"question": ENGLISH}, timeout=60).json()
    assert body["question"] == ENGLISH
    assert body["found"] is True
    assert any("روسيا" in c["text"] for c in body["citations"])


def test_follow_up_uses_the_history(api: str) -> None:
    history = [
        {"role": "user", "content": ARCTIC},
        {"role": "assistant", "content": "…"},
    ]
    alone = httpx.post(f"{api}/api/ask", json={"question": FOLLOW_UP}, timeout=60).json()
    followed = httpx.post(f"{api}/api/ask", json={"question": FOLLOW_UP, "history": history}, timeout=60).json()
    assert alone["found"] is False and alone["citations"] == []
    assert followed["found"] is True
    assert "حارس القطب الشمالي" in followed["answer"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"question": ""}, 400, "empty"),
        ({"question": "   \n "}, 400, "empty"),
        ({"question": "\u200b"}, 400, "empty"),
        ({"question": "\x00\ufeff\u2066"}, 400, "empty"),
        ({"question": "س" * 5000}, 400, "limit"),
        ({}, 422, "question"),
        ({"question": 42}, 422, "string"),
        ({"question": "ما؟", "history": [{"role": "system", "content": "x"}]}, 422, "role"),
        ({"question": "ما؟", "history": "not a list"}, 422, "list"),
        (["a", "list"], 422, "object"),
    ],
)
def test_bad_input_gets_a_4xx_with_a_clear_message(api: str, body: Any, status: int, says: str) -> None:
    response = httpx.post(f"{api}/api/ask", json=body, timeout=30)
    assert response.status_code == status
    assert says in response.text.lower()


def test_a_lone_surrogate_in_the_history_is_a_400(api: str) -> None:
    body = '{"question": "وما سببها؟", "history": [{"role": "user", "content": "abc \\ud800 def"}]}'
    response = httpx.post(f"{api}/api/ask", content=body.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid text" in response.json()["detail"]


def test_invalid_json_is_a_422(api: str) -> None:
    response = httpx.post(
        f"{api}/api/ask", content=b'{"question": "broken', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "json" in response.text.lower()


def test_ten_concurrent_users_all_get_answers(api: str) -> None:
    questions = [ARCTIC, ENGLISH] * 5

    def ask(question: str) -> dict[str, Any]:
        response = httpx.post(f"{api}/api/ask", json={"question": question}, timeout=120)
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=10) as pool:
        pending = [pool.submit(ask, q) for q in questions]
        # The event loop stays free while answers are computed in the thread pool.
        assert httpx.get(f"{api}/healthz", timeout=60).status_code == 200
        results = [f.result() for f in pending]
    assert [r["question"] for r in results] == questions
    assert all(r["found"] and r["citations"] for r in results)


def test_docs_and_openapi_describe_the_api(api: str) -> None:
    assert httpx.get(f"{api}/docs").status_code == 200
    paths = httpx.get(f"{api}/openapi.json").json()["paths"]
    assert "/api/ask" in paths and "/healthz" in paths


@pytest.mark.slow
def test_not_ready_until_the_index_is_built(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(sorted(SEEDS.iterdir())[0], corpus)
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    app = create_app(settings)

    idle = TestClient(app)  # lifespan not started: the index build has not begun
    health = idle.get("/healthz")
    assert health.status_code == 503 and health.json()["ready"] is False
    refused = idle.post("/api/ask", json={"question": ARCTIC})
    assert refused.status_code == 503
    assert "not ready" in refused.json()["detail"] and refused.headers["retry-after"]

    with TestClient(app) as client:  # lifespan: the build starts in the background
        deadline = time.time() + 120
        while (health := client.get("/healthz")).status_code != 200:
            assert time.time() < deadline
            time.sleep(0.1)
        assert health.json()["articles"] == 1
        assert client.post("/api/ask", json={"question": "أين انطلق منتدى صناعة الناتو؟"}).status_code == 200


def test_a_slow_llm_does_not_hold_up_other_users(engine: Engine) -> None:
    """Three questions whose LLM calls are all held: they reach the LLM side by side, not one
    after another, and the server keeps answering `/healthz` meanwhile."""
    from tests.fake_openai import FakeOpenAI

    fake = FakeOpenAI().start()
    fake.behaviour = "held"
    settings = make_settings(corpus_dir=engine.settings.corpus_dir, index_dir=engine.settings.index_dir,
                             openai_api_key="sk-test", openai_base_url=fake.base_url, llm_timeout=120.0, llm_retries=0)
    try:
        with ThreadServer(create_app(settings, Engine(settings))) as server:
            server.wait_ready(120)
            ask = lambda q: httpx.post(f"{server.url}/api/ask", json={"question": q}, timeout=180)  # noqa: E731
            with ThreadPoolExecutor(3) as pool:
                pending = [pool.submit(ask, q) for q in (ARCTIC, ENGLISH, "أين انطلق منتدى صناعة الناتو؟")]
                all_waiting = fake.wait_for_waiting(3)  # one after another, a second would never come
                health = httpx.get(f"{server.url}/healthz", timeout=60).status_code
                fake.release.set()
                bodies = [f.result().json() for f in pending]
    finally:
        fake.release.set()
        fake.stop()
    assert all_waiting, f"only {fake.waiting} LLM call(s) at once"
    assert health == 200
    assert all(b["mode"] == "llm" and b["found"] for b in bodies)


# -- what one request may cost ---------------------------------------------------------

LIMIT = 20_000  # NEWSQA_MAX_REQUEST_BYTES for the server below


@pytest.fixture(scope="module")
def small_api(engine: Engine) -> Iterator[str]:
    settings = engine.settings.model_copy(update={"max_request_bytes": LIMIT})
    with ThreadServer(create_app(settings, engine)) as server:
        server.wait_ready(120)
        yield server.url


def raw_post(url: str, head: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    """POST `/api/ask` with exactly these headers and body bytes, then read the answer.

    The body may be only a beginning: the server must answer without waiting for the rest.
    """
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=30)
    try:
        connection.putrequest("POST", "/api/ask")
        for name, value in {"Content-Type": "application/json", **head}.items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.send(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def chunked(data: bytes, size: int = 4096) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size]) for i in range(0, len(data), size))


def test_a_body_over_the_limit_is_refused_with_413(small_api: str) -> None:
    padded = json.dumps({"question": ARCTIC}).encode() + b" " * LIMIT  # valid JSON, just too big
    cases = {
        "declared 200 MB, nothing sent": ({"Content-Length": str(200_000_000)}, b""),
        "declared 200 MB, a beginning sent": ({"Content-Length": str(200_000_000)}, b'{"question": "' + b"x" * 1000),
        "valid JSON over the limit": ({"Content-Length": str(len(padded))}, padded),
        # No length declared: the server stops reading as soon as the limit is passed (no terminating chunk is sent).
        "chunked, never ending": ({"Transfer-Encoding": "chunked"}, chunked(b'{"question": "' + b"x" * (LIMIT + 10))),
    }
    for case, (head, body) in cases.items():
        status, answer = raw_post(small_api, head, body)
        assert status == 413, case
        assert answer["detail"] == f"the request body is over the limit of {LIMIT:,} bytes", case
    assert httpx.post(f"{small_api}/api/ask", json={"question": ARCTIC}, timeout=60).json()["found"] is True


def test_a_long_history_still_gives_the_follow_up_its_subject(api: str) -> None:
    history = [{"role": "user", "content": ARCTIC}, {"role": "assistant", "content": "… " * 20_000}]
    history = [{"role": "user", "content": "سؤال قديم " * 200}, {"role": "assistant", "content": "…"}] * 20 + history
    response = httpx.post(f"{api}/api/ask", json={"question": FOLLOW_UP, "history": history}, timeout=60)
    assert response.status_code == 200
    assert response.json()["found"] is True and "حارس القطب الشمالي" in response.json()["answer"]
