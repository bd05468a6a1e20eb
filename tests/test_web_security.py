"""Hostile requests against the real `python -m app serve` (issue 13): reading server files
through the upload event, Gradio's own upload endpoint, server paths in the messages
anonymous visitors see, and repeated votes. Everything goes over HTTP as an attacker's
script would send it; the server keeps its Gradio upload folder in its own temporary folder."""

from __future__ import annotations

import json
import re
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.feedback import read_feedback
from tests.web_helpers import SEEDS, Server, start_server, visible_text

pytestmark = pytest.mark.slow  # starts servers or builds its own index

SECRET = "The vault password is swordfish-horizon-42 and nobody else knows it.\n"
ARTICLE = (
    "افتتحت بلدية وادي الريحان اليوم مكتبة عامة جديدة تضم اثني عشر ألف كتاب، "
    "وقالت رئيسة البلدية سلمى القاسم إن المكتبة ستفتح أبوابها يوميًا حتى منتصف الليل.\n"
)
ENGLISH = "What did Rutte say Russia must not do after the war ends?"
KEEP_S = 6  # NEWSQA_UPLOAD_KEEP_SECONDS of the test server


@dataclass
class Site:
    server: Server
    workdir: Path
    corpus: Path
    inbox: Path  # GRADIO_TEMP_DIR: where Gradio's upload endpoint stores files
    secret: Path

    @property
    def url(self) -> str:
        return self.server.url

    def inbox_files(self) -> set[Path]:
        return {p for p in self.inbox.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("security")
    corpus = workdir / "corpus"
    (corpus / "archive").mkdir(parents=True)
    for seed in sorted(SEEDS.iterdir())[:2]:
        shutil.copy(seed, corpus / seed.name)
    (corpus / "archive" / "dup.txt").write_text(ARTICLE, encoding="utf-8")  # indexed as "dup.txt"
    secret = workdir / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    inbox = workdir / "gradio-uploads"
    server = start_server(
        workdir,
        corpus,
        workdir / "index",
        {"GRADIO_TEMP_DIR": str(inbox), "NEWSQA_UPLOAD_KEEP_SECONDS": str(KEEP_S), "NEWSQA_MAX_UPLOAD_BYTES": "20000"},
    )
    try:
        server.wait_ready()
        yield Site(server, workdir, corpus, inbox, secret)
    finally:
        server.stop()


def call(site: Site, api_name: str, data: list[Any]) -> tuple[str, Any]:
    """A Gradio event through its plain HTTP API: ("complete", outputs) or ("error", message)."""
    started = httpx.post(f"{site.url}/gradio_api/call/{api_name}", json={"data": data}, timeout=30)
    assert started.status_code == 200, started.text
    event_id = started.json()["event_id"]
    kind = None
    with httpx.stream("GET", f"{site.url}/gradio_api/call/{api_name}/{event_id}", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind in ("complete", "error"):
                return kind, json.loads(line.removeprefix("data: "))
    raise AssertionError(f"no result for {api_name}")


def queue_event(site: Site, session: str, fn: str, data: list[Any], event_data: Any = None) -> dict[str, Any]:
    """A Gradio event as the page sends it (queue join + the session's event stream), awaited."""
    config = httpx.get(f"{site.url}/config", timeout=30).json()
    dependency = next(d for d in config["dependencies"] if d["api_name"] == fn)
    body = {
        "data": data,
        "event_data": event_data,
        "fn_index": dependency["id"],
        "trigger_id": dependency["targets"][0][0],
        "session_hash": session,
    }
    joined = httpx.post(f"{site.url}/gradio_api/queue/join", content=json.dumps(body),  # \ud800 stays escaped
                        headers={"content-type": "application/json"}, timeout=30)
    assert joined.status_code == 200, joined.text
    event_id = joined.json()["event_id"]
    with httpx.stream("GET", f"{site.url}/gradio_api/queue/data", params={"session_hash": session}, timeout=120) as s:
        for line in s.iter_lines():
            if line.startswith("data: "):
                message = json.loads(line.removeprefix("data: "))
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    assert message["success"], message
                    return message["output"]
    raise AssertionError(f"{fn} never completed")


def upload(site: Site, files: list[tuple[str, bytes]]) -> httpx.Response:
    """POST files to Gradio's own upload endpoint, as the page does."""
    parts = [("files", (name, data, "text/plain")) for name, data in files]
    return httpx.post(f"{site.url}/gradio_api/upload", files=parts, timeout=60)


def file_data(path: str) -> dict[str, Any]:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def articles(site: Site) -> int:
    return httpx.get(f"{site.url}/healthz", timeout=30).json()["articles"]


# --- reading server files through the upload event ---------------------------------------------


def test_an_upload_naming_a_server_file_is_refused_and_nothing_is_indexed(site: Site) -> None:
    before = articles(site)
    kind, result = call(site, "upload", [[file_data(str(site.secret))], "en"])  # the exact request of issue 13

    assert kind == "error" and "not uploaded" in result["error"]  # the response says it was refused
    assert not (site.corpus / "secret.txt").exists()
    assert not any(p.name == "secret.txt" for p in site.inbox_files())  # not even copied in
    assert articles(site) == before
    answer = httpx.post(f"{site.url}/api/ask", json={"question": "What is the vault password?"}, timeout=60).json()
    assert "swordfish" not in json.dumps(answer)


def test_a_link_in_the_upload_folder_to_a_server_file_is_refused(site: Site) -> None:
    before = articles(site)
    folder = site.inbox / uuid.uuid4().hex
    folder.mkdir(parents=True)
    (folder / "notes.txt").symlink_to(site.secret)

    kind, result = call(site, "upload", [[file_data(str(folder / "notes.txt"))], "en"])

    assert kind == "error" and "not uploaded" in result["error"]
    assert not (site.corpus / "notes.txt").exists() and articles(site) == before


# --- Gradio's own upload endpoint ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "status", "says"),
    [
        ([("photo.png", b"\x89PNG\r\n")], 415, "only .txt"),
        ([("a.txt", b"text"), ("tool.exe", b"MZ")], 415, "tool.exe"),
        ([(f"part{n}.txt", b"text") for n in range(11)], 413, "at most 10"),
        ([("big.txt", b"x" * 30_000)], 413, "size"),  # Gradio's own max_file_size
    ],
)
def test_the_upload_endpoint_refuses_other_types_too_many_and_too_big_files(
    site: Site, files: list[tuple[str, bytes]], status: int, says: str
) -> None:
    before = site.inbox_files()
    response = upload(site, files)
    assert response.status_code == status and says in response.text
    assert site.inbox_files() == before  # nothing of the refused request stays on disk


def test_the_upload_endpoint_refuses_a_body_announced_too_large_before_reading_it(site: Site) -> None:
    host, port = httpx.URL(site.url).host, httpx.URL(site.url).port
    with socket.create_connection((host, port), timeout=30) as sock:  # headers only: 50 MB announced, none sent
        sock.sendall(
            b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 50000000\r\n\r\n"
        )
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.split()[1] == b"413"


def test_handled_uploads_are_deleted_and_forgotten_ones_expire(site: Site) -> None:
    before = site.inbox_files()
    response = upload(site, [("library.txt", ARTICLE.replace("اثني عشر", "ثلاثة عشر").encode()), ("empty.txt", b" \n")])
    assert response.status_code == 200, response.text
    received = [Path(p) for p in response.json()]
    assert all(p.exists() and p.is_relative_to(site.inbox) for p in received)

    kind, result = call(site, "upload", [[file_data(str(p)) for p in received], "en"])

    assert kind == "complete"
    assert "library.txt" in visible_text(result[0]) and "empty" in visible_text(result[0])
    assert (site.corpus / "library.txt").exists()
    assert not any(p.exists() for p in received)  # added or refused, both are gone
    assert site.inbox_files() <= before  # and handling them left nothing else behind

    forgotten = [Path(p) for p in upload(site, [("later.txt", ARTICLE.encode())]).json()]
    assert forgotten[0].exists()
    deadline = time.monotonic() + 20 * KEEP_S
    while forgotten[0].exists():  # never added: Gradio's delete_cache removes it after KEEP_S
        assert time.monotonic() < deadline, "an upload nobody added was never deleted"
        time.sleep(0.5)


# --- server paths in what anonymous visitors see ------------------------------------------------


def test_upload_rejections_name_files_never_server_folders(site: Site) -> None:
    sent = [
        ("dup.txt", b"A different article with the same file name as one in the archive folder.\n"),
        ("empty.txt", b"  \n"),
        ("latin1.txt", "café déjà vu, an article in Latin-1".encode("latin-1")),
        ("photo.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("chrome-only.html", b"<html><head><script>var a=1;</script></head><body></body></html>"),
    ]
    response = upload(site, sent)
    assert response.status_code == 200, response.text
    kind, result = call(site, "upload", [[file_data(p) for p in response.json()], "en"])

    assert kind == "complete"
    shown = visible_text(result[0])
    for name, _ in sent:
        assert name in shown
    assert "already indexed" in shown  # the duplicate name is explained…
    for folder in (site.workdir, site.corpus, site.inbox, Path("/tmp")):
        assert str(folder) not in shown  # …without saying where anything lives
    assert not re.search(r"(^|[\s(\"'])/\w", shown), shown  # no absolute path at all


# --- votes ------------------------------------------------------------------------------------


def test_one_vote_per_answer_per_visitor_and_a_change_replaces_it(site: Site) -> None:
    session = uuid.uuid4().hex
    feedback = site.workdir / "feedback.jsonl"
    queue_event(site, session, "respond", [ENGLISH, [], None, None, "en", "", "", []])
    size_before = feedback.stat().st_size if feedback.exists() else 0

    like = {"index": 1, "value": "", "liked": True}
    for _ in range(30):  # one visitor clicking 👍 over and over on one answer
        queue_event(site, session, "vote", [None, "en"], like)
    once = feedback.stat().st_size - size_before
    queue_event(site, session, "vote", [None, "en"], {**like, "liked": False})  # changes their mind

    votes = [v for v in read_feedback(feedback) if v["question"] == ENGLISH]
    assert [(v["rating"], v["channel"]) for v in votes] == [("down", "web")]
    lines = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()]
    assert [entry["rating"] for entry in lines if entry["question"] == ENGLISH] == ["up", "down"]
    assert feedback.stat().st_size - size_before < 2 * once + 1000
    text = feedback.read_text(encoding="utf-8")
    assert str(site.workdir) not in text and session not in text  # no server path, no visitor id


def test_an_index_that_cannot_be_opened_is_reported_without_server_paths(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder should be")
    server = start_server(tmp_path, shutil.copytree(SEEDS, tmp_path / "corpus"), blocker / "index")
    try:
        server.wait_listening()
        deadline = time.monotonic() + 120
        while "error" not in (status := httpx.get(f"{server.url}/healthz", timeout=10).json()):
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert str(tmp_path) not in json.dumps(status) and "see the server log" in status["error"]
        assert str(blocker) in server.log.read_text()  # the operator still learns where
    finally:
        server.stop()


def test_a_chat_question_with_a_lone_surrogate_gets_an_answer_not_a_broken_stream(site: Site) -> None:
    output = queue_event(site, uuid.uuid4().hex, "respond", ["Who hosted the forum?\ud800", [], None, None, "en", "", "", []])
    chat = json.dumps(output, ensure_ascii=False)
    assert "Who hosted the forum?" in chat and "\ud800" not in json.dumps(output)
