"""Hybrid retrieval: dense (Chroma) + BM25, fused by relative score.

Three signals, each min-max normalised over its own candidates and summed with
equal weights (llama-index's "relative_score" fusion): the passage's cosine
from Chroma, BM25, and the cosine of the passage's best-matching sentence
(a question usually matches one sentence, and a long passage's single vector
dilutes it). On ARCD this lifts paragraph hit@1 from 0.70 (reciprocal rank
fusion of dense and BM25) to 0.74; `evals/` has the figures.

A passage in another language than the question's that holds Latin words the question lacks
pays `PASSAGE_LATIN_PENALTY` on both its cosines before they are fused: e5 draws such passages
(an Arabic report naming an organisation by its Latin acronym) toward every English question.

The fusion is keyed by passage id. llama-index's `QueryFusionRetriever` keys it
by node content hash, and the two retrievers' copies of a passage carry
different metadata, so the same passage would be counted twice there.

Every read goes to Chroma (the passages' text and sentence vectors are fetched
for the candidates only) or to the caller's `Snapshot`, which says which rows
are current: nothing here holds a lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.filters import NO_FILTERS, Filters
from app.index.chroma import ChromaIndex
from app.index.records import StoredPassage
from app.index.snapshot import Snapshot
from app.text.arabic import detect_language

RetrievalMode = Literal["hybrid", "dense", "bm25"]
# A passage with foreign Latin words (`has_foreign_latin`) pays this much of its cosine and of its
# best sentence's in the fused ranking. ARCD asked in English: hit@1 0.633 -> 0.645 (0.649 at 0.02,
# 0.652 at 0.03); seed set English 0.825 -> 0.900. At 0.02 a second seed answer was lost: a question
# on a forum whose article names it by a Latin acronym the question does not use.
PASSAGE_LATIN_PENALTY = 0.01
_LATIN = re.compile(r"[A-Za-z]{2,}")


def latin_words(text: str) -> set[str]:
    """The Latin words of `text`, lowercased: what `has_foreign_latin` compares."""
    return {word.lower() for word in _LATIN.findall(text)}


def has_foreign_latin(asked: set[str], language: str, text: str, text_language: str) -> bool:
    """Whether a text in another language than the question's (`language`) holds Latin words the
    question's own (`asked`, its `latin_words`) lack. e5 puts such a text (an Arabic report naming
    "ABC") closer to every question in another language, English above all, so sentences and
    passages pay for it."""
    return text_language != language and bool(latin_words(text) - asked)


@dataclass
class Hit:
    passage: StoredPassage
    score: float  # fused score (or the single retriever's score)
    dense: float | None = None  # cosine similarity, when the dense side saw it
    sentences: np.ndarray | None = None  # the passage's sentence vectors, in order


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
    def __init__(self, chroma: ChromaIndex, candidates: int) -> None:
        self.chroma = chroma
        self.candidates = candidates

    def search(self, snapshot: Snapshot, query: str, query_vector: np.ndarray, mode: RetrievalMode,
               top_k: int, filters: Filters = NO_FILTERS) -> list[Hit]:
        if not snapshot.articles:
            return []
        dense: dict[str, float] = {}
        if mode in ("dense", "hybrid"):
            # Ask for a few more: stale rows of a replaced article may take places.
            found = self.chroma.dense(query_vector, self.candidates + top_k, filters.chroma_where())
            dense = dict([hit for hit in found if snapshot.owns(hit[0])][: self.candidates])
        bm25: dict[str, float] = {}
        if mode != "dense":
            weights = snapshot.rows_admitted(filters) if filters.active else None
            bm25 = dict(snapshot.lexical.search(query, self.candidates, snapshot.owns, weights))
        if mode == "hybrid":  # the third signal: each candidate's best sentence
            passages = self.chroma.fetch_passages(sorted(dense.keys() | bm25.keys()))
            sentences = self.chroma.sentence_vectors(passages.values())
            language, asked = detect_language(query), latin_words(query)
            penalty = {pid: PASSAGE_LATIN_PENALTY * has_foreign_latin(asked, language, p.text, p.language)
                       for pid, p in passages.items()}
            best = {pid: float((m @ query_vector).max()) - penalty[pid] for pid, m in sentences.items() if len(m)}
            cosines = {pid: score - penalty.get(pid, 0.0) for pid, score in dense.items()}
            scores = relative_score_fusion([cosines, bm25, best])
        else:
            scores = dense if mode == "dense" else bm25
        top = [pid for pid, _ in sorted(scores.items(), key=lambda item: item[1], reverse=True)[: top_k + 2]]
        if mode != "hybrid":
            passages = self.chroma.fetch_passages(top)
            sentences = self.chroma.sentence_vectors([passages[pid] for pid in top if pid in passages])
        hits = [Hit(passages[pid], scores[pid], dense.get(pid), sentences.get(pid))
                for pid in top if pid in passages]  # a row removed by a writer meanwhile is skipped
        return hits[:top_k]
