"""Hybrid retrieval: dense (Chroma through llama-index) + BM25, fused by relative score.

Three signals, each min-max normalised over its own candidates and summed with
equal weights (llama-index's "relative_score" fusion): the passage's cosine
from Chroma, BM25, and the cosine of the passage's best-matching sentence
(a question usually matches one sentence, and a long passage's single vector
dilutes it). On ARCD this lifts paragraph hit@1 from 0.70 (reciprocal rank
fusion of dense and BM25) to 0.74; `evals/` has the figures.

The fusion is keyed by passage id. llama-index's `QueryFusionRetriever` keys it
by node content hash, and the two retrievers' copies of a passage carry
different metadata, so the same passage would be counted twice there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Iterable
from typing import Literal

import numpy as np
from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import QueryBundle
from llama_index.vector_stores.chroma import ChromaVectorStore

from app.index.passage_store import PassageStore, StoredPassage

RetrievalMode = Literal["hybrid", "dense", "bm25"]


@dataclass
class Hit:
    passage: StoredPassage
    score: float  # fused score (or the single retriever's score)
    dense: float | None = None  # cosine similarity, when the dense side saw it


def relative_score_fusion(signals: list[dict[str, float]]) -> dict[str, float]:
    """Sum of min-max normalised scores; a passage a signal did not return gets 0 from it."""
    fused: dict[str, float] = {}
    for scores in signals:
        if not scores:
            continue
        low, high = min(scores.values()), max(scores.values())
        for pid, score in scores.items():
            fused[pid] = fused.get(pid, 0.0) + ((score - low) / (high - low) if high > low else 1.0)
    return fused


class Retriever:
    def __init__(self, embedder: BaseEmbedding, vectors: ChromaVectorStore, store: PassageStore, candidates: int) -> None:
        self.store = store
        self.candidates = candidates
        index = VectorStoreIndex.from_vector_store(vectors, embed_model=embedder)
        self._dense = index.as_retriever(similarity_top_k=candidates)

    def dense(self, query: str, query_vector: np.ndarray) -> list[tuple[str, float]]:
        bundle = QueryBundle(query_str=query, embedding=query_vector.tolist())
        # Chroma's distance is 1 - cosine; llama-index reports exp(-distance).
        return [(n.node.node_id, 1.0 + math.log(max(n.score or 1e-12, 1e-12))) for n in self._dense.retrieve(bundle)]

    def best_sentence(self, ids: Iterable[str], query_vector: np.ndarray) -> dict[str, float]:
        """Each passage's highest sentence cosine (the vectors are stored normalised)."""
        vectors = self.store.vectors
        return {pid: float((vectors[pid] @ query_vector).max()) for pid in ids if pid in vectors and len(vectors[pid])}

    def search(self, query: str, query_vector: np.ndarray, mode: RetrievalMode, top_k: int) -> list[Hit]:
        if not len(self.store):
            return []
        dense = self.dense(query, query_vector) if mode in ("dense", "hybrid") else []
        lexical = self.store.lexical.search(query, self.candidates) if mode in ("bm25", "hybrid") else []
        cosine, bm25 = dict(dense), dict(lexical)
        if mode == "dense":
            scores = cosine
        elif mode == "bm25":
            scores = bm25
        else:
            sentence = self.best_sentence(cosine.keys() | bm25.keys(), query_vector)
            scores = relative_score_fusion([cosine, bm25, sentence])
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        hits = []
        for pid, score in ranked:
            passage = self.store.passages.get(pid)
            if passage is not None:  # a vector whose passage was dropped meanwhile
                hits.append(Hit(passage, score, cosine.get(pid)))
            if len(hits) == top_k:
                break
        return hits
