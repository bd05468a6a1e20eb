"""Server mode: a real `chroma run` on loopback, then ingest and ask through it."""

from __future__ import annotations

import pytest

from app.engine import Engine
from tests.conftest import make_settings
from tests.web_helpers import free_port


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


def test_unreachable_server_is_a_clear_error(tmp_path):
    from app.index.chroma import IndexUnavailable

    engine = Engine(make_settings(chroma_host="127.0.0.1", chroma_port=free_port(), index_dir=tmp_path))
    with pytest.raises(IndexUnavailable, match="cannot open the Chroma index"):
        engine.stats()
