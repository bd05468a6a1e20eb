"""Server mode: a real `chroma run` on loopback, then ingest and ask through it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.engine import Engine
from tests.conftest import make_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_ingest_and_ask_through_a_chroma_server(chroma_server, seed_corpus, tmp_path):
    settings = make_settings(
        chroma_host="127.0.0.1", chroma_port=chroma_server, corpus_dir=seed_corpus, index_dir=tmp_path / "local"
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


def test_unreachable_server_is_a_clear_error(tmp_path):
    from app.index.vector_store import IndexUnavailable

    engine = Engine(make_settings(chroma_host="127.0.0.1", chroma_port=free_port(), index_dir=tmp_path))
    with pytest.raises(IndexUnavailable, match="cannot open the Chroma index"):
        engine.stats()
