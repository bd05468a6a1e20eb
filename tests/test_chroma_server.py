"""Server mode: a real `chroma run` on loopback, then ingest and ask through it."""

from __future__ import annotations

import threading

import pytest

from app.engine import Engine
from tests.conftest import make_settings
from tests.web_helpers import free_port

pytestmark = pytest.mark.slow  # starts servers or builds its own index


def test_ingest_and_ask_through_a_chroma_server(chroma_server, seed_corpus, tmp_path):
    settings = make_settings(
        chroma_host="127.0.0.1", chroma_port=chroma_server, chroma_database="ingest_and_ask",
        corpus_dir=seed_corpus, index_dir=tmp_path / "local",
    )
    engine = Engine(settings)
    report = engine.ingest()
    assert len(report.added) == 5
    assert not (tmp_path / "local" / "chroma").exists()  # vectors went to the server
    answer = engine.answer("من هو وزير الدفاع الهولندي الذي استضاف منتدى لاهاي؟")
    assert answer.found and answer.citations[0].source.startswith("001")
    # A second engine (another process would do the same) sees the server's collection.
    again = Engine(settings).ingest()
    assert len(again.unchanged) == 5 and again.passages == 0


def test_replicas_starting_together_on_a_new_database_all_open_it(chroma_server):
    """Each finds the database missing and creates it; those that lose the race must not fail."""
    from app.index.chroma import open_client

    settings = make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server, chroma_database="opened_together")
    start = threading.Barrier(8)
    failures: list[Exception] = []

    def open_one() -> None:
        start.wait()
        try:
            open_client(settings).heartbeat()
        except Exception as exc:  # collected: an exception in a thread would not fail the test
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_served_collection_made_at_chromas_default_search_breadth_is_set_to_ours_on_the_server(chroma_server):
    """The breadth is the collection's configuration on the server, so it is changed there, for every
    replica; the server searches with it once it loads the collection again (after a restart)."""
    from app.index.chroma import ChromaIndex, open_client

    settings = make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server, chroma_database="search_breadth",
                             hnsw_ef_search=640)
    open_client(settings).get_or_create_collection("passages__old__8", embedding_function=None,
                                                   configuration={"hnsw": {"space": "cosine"}})
    ChromaIndex.open(settings, "old__8")
    stored = open_client(settings).get_collection("passages__old__8").configuration
    assert stored["hnsw"]["ef_search"] == 640


def test_unreachable_server_is_a_clear_error(tmp_path):
    from app.index.chroma import IndexUnavailable

    engine = Engine(make_settings(chroma_host="127.0.0.1", chroma_port=free_port(), index_dir=tmp_path))
    with pytest.raises(IndexUnavailable, match="cannot open the Chroma index"):
        engine.stats()


def test_a_question_while_the_chroma_server_is_down_gets_503_then_answers_when_it_is_back(seed_corpus, tmp_path):
    """A passing outage of the store is the server's state, not a crash: 503 with Retry-After, then answers."""
    import httpx

    from app.interfaces.web import create_app
    from tests.conftest import start_chroma
    from tests.web_helpers import ThreadServer

    port, data = free_port(), tmp_path / "chroma"
    chroma = start_chroma(data, port)
    settings = make_settings(chroma_host="127.0.0.1", chroma_port=port, corpus_dir=seed_corpus,
                             index_dir=tmp_path / "local", refresh_seconds=0.2)
    question = {"question": "من هو وزير الدفاع الهولندي الذي استضاف منتدى لاهاي؟"}
    app = create_app(settings)
    try:
        with ThreadServer(app) as server:
            server.wait_ready()
            first = httpx.post(f"{server.url}/api/ask", json=question, timeout=60)
            assert first.status_code == 200 and first.json()["found"]
            chroma.terminate()
            chroma.wait(timeout=30)
            down = httpx.post(f"{server.url}/api/ask", json=question, timeout=60)
            assert down.status_code == 503 and down.headers["Retry-After"] == "5"
            assert "try again" in down.json()["detail"] and str(tmp_path) not in down.text
            chroma = start_chroma(data, port)
            again = httpx.post(f"{server.url}/api/ask", json=question, timeout=60)
            assert again.status_code == 200 and again.json()["citations"] == first.json()["citations"]
        watcher = app.state.service.engine._watcher  # the server has shut down: it stops polling Chroma
        watcher.join(timeout=30)
        assert not watcher.is_alive()
    finally:
        chroma.terminate()
        chroma.wait(timeout=30)
