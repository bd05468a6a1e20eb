"""Hybrid retrieval: dense (Chroma through llama-index) + BM25, fused by reciprocal rank.

The fusion is keyed by passage id. llama-index's `QueryFusionRetriever` keys it
by node content hash, and the two retrievers' copies of a passage carry
different metadata, so the same passage would be counted twice there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import QueryBundle
from llama_index.vector_stores.chroma import ChromaVectorStore

from app.index.passage_store import PassageStore, StoredPassage

RetrievalMode = Literal["hybrid", "dense", "bm25"]
RRF_K = 60.0


@dataclass
class Hit:
    passage: StoredPassage
    score: float  # fused score (or the single retriever's score)
    dense: float | None = None  # cosine similarity, when the dense side saw it


def reciprocal_rank_fusion(rankings: list[list[str]], weights: list[float] | None = None) -> dict[str, float]:
    weights = weights or [1.0] * len(rankings)
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, pid in enumerate(ranking):
            fused[pid] = fused.get(pid, 0.0) + weight / (RRF_K + rank + 1)
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

    def search(self, query: str, query_vector: np.ndarray, mode: RetrievalMode, top_k: int) -> list[Hit]:
        if not len(self.store):
            return []
        dense = self.dense(query, query_vector) if mode in ("dense", "hybrid") else []
        lexical = self.store.lexical.search(query, self.candidates) if mode in ("bm25", "hybrid") else []
        cosine = dict(dense)
        if mode == "dense":
            scores = cosine
        elif mode == "bm25":
            scores = dict(lexical)
        else:
            scores = reciprocal_rank_fusion([[pid for pid, _ in dense], [pid for pid, _ in lexical]])
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        hits = []
        for pid, score in ranked:
            passage = self.store.passages.get(pid)
            if passage is not None:  # a vector whose passage was dropped meanwhile
                hits.append(Hit(passage, score, cosine.get(pid)))
            if len(hits) == top_k:
                break
        return hits
