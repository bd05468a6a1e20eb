"""Chroma, embedded (`PersistentClient`) or a `chroma run` server, behind llama-index.

We always hand Chroma our own vectors (`embedding_function=None`): Chroma's own
default embedder would download a model at run time.
"""

from __future__ import annotations

import re
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from llama_index.core.schema import TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from app.config import Settings


class IndexUnavailable(RuntimeError):
    """The vector store cannot be reached or opened; the message says where and why."""


def collection_name(embedder_name: str, dim: int) -> str:
    """One collection per vector space: `passages__<embedder>__<dim>`."""
    slug = re.sub(r"[^a-zA-Z0-9_-]+", "-", embedder_name).strip("-")
    return f"passages__{slug}__{dim}"[:60]


def open_vector_store(settings: Settings, name: str) -> ChromaVectorStore:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_server:
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port or 8000, settings=chroma_settings
            )
            client.heartbeat()
        else:
            path = Path(settings.index_dir) / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        collection = client.get_or_create_collection(
            name=name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
    except Exception as exc:  # chromadb raises many types; all mean "no index here"
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_server else settings.index_dir
        raise IndexUnavailable(f"cannot open the Chroma index at {where}: {exc}") from exc
    return ChromaVectorStore(chroma_collection=collection)


def replace_source(store: ChromaVectorStore, old_ids: list[str], nodes: list[TextNode]) -> None:
    """Drop a file's previous passages, then add the new ones (never duplicates)."""
    if old_ids:
        store.delete_nodes(node_ids=old_ids)
    if nodes:
        store.add(nodes)


def count(store: ChromaVectorStore) -> int:
    return int(store.client.count())
