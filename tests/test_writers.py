"""Several writers and readers at once, as real processes: nothing is lost, orphaned or duplicated.

Embedded Chroma: one writer process at a time (a second ingest waits, a writer
facing `serve` is refused). A `chroma run` server: any number of writers and
replicas; Chroma is the only source of truth, local folders are caches.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.engine import Engine
from tests.conftest import REPO, make_settings
from tests.test_archive import seed_records, write_archive
from tests.test_ingest import rows_agree
from tests.web_helpers import SEEDS, start_server

pytestmark = pytest.mark.slow  # starts servers or builds its own index


def cli_env(index: Path, corpus: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "NEWSQA_"))}
    env.update(NEWSQA_INDEX_DIR=str(index), NEWSQA_CORPUS_DIR=str(corpus), PYTHONPATH=str(REPO), **extra)
    return env


def start_cli(env: dict[str, str], *args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", *args], env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def archive_corpus(tmp_path: Path) -> tuple[Path, list[dict]]:
    records = seed_records()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_archive(corpus / "news.jsonl", records)
    return corpus, records


def test_an_ingest_killed_halfway_resumes_without_re_embedding_or_duplicates(tmp_path):
    corpus, records = archive_corpus(tmp_path)
    env = cli_env(tmp_path / "index", corpus, NEWSQA_INGEST_BATCH="4")
    first = start_cli(env, "ingest", cwd=tmp_path)
    for line in first.stderr:  # the first progress line comes once a batch is committed
        if line.startswith("ingest:"):
            break
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL

    again = subprocess.run([sys.executable, "-m", "app", "ingest"], env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    summary = again.stdout.splitlines()[0]
    added, unchanged = (int(summary.split(" added")[0]), int(summary.split(", ")[2].split(" ")[0]))
    assert unchanged >= 1 and added + unchanged == len(records), summary  # resumed, not redone

    engine = Engine(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    rows_agree(engine)  # no duplicate, no passage without its vectors, no orphan row
    for record in records:
        answer = engine.answer(record["text"].split(".")[0][:300])
        assert answer.found and answer.citations[0].source == record["id"]


def test_two_ingests_at_once_index_each_article_once(tmp_path):
    corpus_a, corpus_b = tmp_path / "a", tmp_path / "b"
    corpus_a.mkdir()
    corpus_b.mkdir()
    seeds = sorted(SEEDS.iterdir())
    for path in seeds[:4]:
        shutil.copy(path, corpus_a)
    for path in seeds[2:]:  # overlaps on two files: the same content, other paths
        shutil.copy(path, corpus_b)
    env = cli_env(tmp_path / "index", corpus_a)
    one = start_cli(env, "ingest", str(corpus_a), cwd=tmp_path)
    two = start_cli(env, "ingest", str(corpus_b), cwd=tmp_path)
    outputs = [process.communicate(timeout=600) for process in (one, two)]
    assert one.returncode == 0 and two.returncode == 0, outputs

    engine = Engine(make_settings(corpus_dir=corpus_a, index_dir=tmp_path / "index"))
    assert sorted(engine.snapshot.articles) == sorted(p.name for p in seeds)
    rows_agree(engine)


def test_a_cli_ingest_while_serve_runs_on_an_embedded_index_is_refused_and_loses_nothing(tmp_path):
    corpus = shutil.copytree(SEEDS, tmp_path / "corpus")
    server = start_server(tmp_path, corpus, tmp_path / "index")
    try:
        server.wait_ready()
        before = httpx.get(f"{server.url}/healthz", timeout=10).json()
        extra = tmp_path / "extra"
        extra.mkdir()
        (extra / "new.txt").write_text("خبر جديد عن افتتاح مكتبة عامة كبيرة في وسط المدينة يوم الأحد.\n",
                                       encoding="utf-8")
        refused = subprocess.run([sys.executable, "-m", "app", "ingest", str(extra)], capture_output=True, text=True,
                                 env=cli_env(tmp_path / "index", corpus), cwd=tmp_path, timeout=300)
        assert refused.returncode == 2 and "in use by `serve`" in refused.stderr, refused.stderr
        after = httpx.get(f"{server.url}/healthz", timeout=10).json()
        assert after["articles"] == before["articles"] == 5
        answer = httpx.post(f"{server.url}/api/ask", json={"question": "ما هي مبادرة حارس القطب الشمالي؟"},
                            timeout=60).json()
        assert answer["found"]
    finally:
        server.stop()


def test_a_question_during_a_long_ingest_is_answered_without_waiting(tmp_path):
    corpus, records = archive_corpus(tmp_path)
    engine = Engine(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index", ingest_batch=4))
    first = records[:1]
    write_archive(tmp_path / "first.jsonl", first)
    engine.ingest([tmp_path / "first.jsonl"])
    question = first[0]["text"].split(".")[0][:300]

    committed = threading.Event()
    ingest = threading.Thread(target=engine.ingest, kwargs={"paths": [corpus / "news.jsonl"],
                                                            "progress": lambda s: s.passages and committed.set()})
    ingest.start()
    assert committed.wait(timeout=300)
    answer = engine.answer(question)
    still_ingesting = ingest.is_alive()
    ingest.join(timeout=600)
    assert answer.found and answer.citations[0].source == first[0]["id"]
    assert still_ingesting  # answered while the ingest was still embedding


def server_settings(port: int, database: str, index: Path, **extra):
    return make_settings(chroma_host="127.0.0.1", chroma_port=port, chroma_database=database, index_dir=index, **extra)


def test_writers_on_a_chroma_server_never_lose_or_duplicate(chroma_server, tmp_path):
    records = seed_records()
    old = [{**r, "text": r["text"] + "\n\nنسخة أولى من الخبر."} for r in records]
    write_archive(tmp_path / "old.jsonl", old)
    write_archive(tmp_path / "new.jsonl", records)
    engines = [Engine(server_settings(chroma_server, "writers", tmp_path / f"local-{n}", ingest_batch=4))
               for n in range(3)]
    engines[0].ingest([tmp_path / "old.jsonl"])
    # Two writers of the same version and one of an older one, all at once.
    threads = [threading.Thread(target=engine.ingest, args=([tmp_path / name],))
               for engine, name in zip(engines, ("new.jsonl", "new.jsonl", "old.jsonl"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    reader = Engine(server_settings(chroma_server, "writers", tmp_path / "reader"))
    assert sorted(reader.snapshot.articles) == sorted(r["id"] for r in records)
    rows_agree(reader)


def test_deleting_the_local_folder_in_server_mode_loses_nothing(chroma_server, tmp_path, seed_corpus):
    settings = server_settings(chroma_server, "stateless", tmp_path / "local", corpus_dir=seed_corpus)
    engine = Engine(settings)
    engine.ensure_ready()
    question = "ما هي مبادرة حارس القطب الشمالي؟"
    expected = engine.answer(question).to_dict()
    shutil.rmtree(tmp_path / "local")
    again = Engine(settings)
    answer = again.answer(question).to_dict()
    assert (answer["answer"], answer["citations"]) == (expected["answer"], expected["citations"])
    assert again.ingest().passages == 0  # nothing re-embedded
    assert (tmp_path / "local" / "cache").is_dir()  # the cache was rebuilt from Chroma


def test_an_upload_through_one_replica_is_answered_by_another(chroma_server, tmp_path):
    corpus_one = shutil.copytree(SEEDS, tmp_path / "one")
    corpus_two = shutil.copytree(SEEDS, tmp_path / "two")
    env = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(chroma_server), "CHROMA_DATABASE": "replicas"}
    (tmp_path / "w1").mkdir()
    (tmp_path / "w2").mkdir()
    one = start_server(tmp_path / "w1", corpus_one, tmp_path / "w1" / "index", env)
    two = start_server(tmp_path / "w2", corpus_two, tmp_path / "w2" / "index", env)
    try:
        one.wait_ready()
        two.wait_ready()
        article = tmp_path / "library.txt"
        article.write_text("افتتحت بلدية مدينة الزهراء مكتبة عامة جديدة تضم أربعين ألف كتاب يوم الأحد الماضي.\n",
                           encoding="utf-8")
        upload_through_the_page(one.url, article)
        question = {"question": "كم كتابا تضم المكتبة العامة الجديدة في مدينة الزهراء؟"}
        deadline = time.monotonic() + 30
        while True:
            answer = httpx.post(f"{two.url}/api/ask", json=question, timeout=60).json()
            if answer["found"] and answer["citations"][0]["source"] == "library.txt" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert answer["citations"][0]["source"] == "library.txt" and "أربعين ألف" in answer["answer"]
    finally:
        one.stop()
        two.stop()


def upload_through_the_page(url: str, path: Path) -> None:
    """What the browser does: Gradio's file upload, then the page's upload event."""
    with path.open("rb") as handle:
        sent = httpx.post(f"{url}/gradio_api/upload", files=[("files", (path.name, handle, "text/plain"))], timeout=60)
    sent.raise_for_status()
    server_path = sent.json()[0]
    payload = {"data": [[{"path": server_path, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}], "en"]}
    event = httpx.post(f"{url}/gradio_api/call/upload", json=payload, timeout=60).json()["event_id"]
    with httpx.stream("GET", f"{url}/gradio_api/call/upload/{event}", timeout=300) as stream:
        text = "".join(stream.iter_text())
    assert "event: complete" in text and path.stem in text, text
