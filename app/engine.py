"""The answer engine: the single entry point every interface calls.

    engine = Engine(settings)
    engine.answer("كم ...؟") -> Answer

It wires the parts chosen once from the settings (embedder, Chroma embedded or
server, LLM or none) and hands them in; nothing downstream branches on which
one it got. Heavy parts load on first use; the index is built on first use
when it is empty.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.vector_stores.chroma import ChromaVectorStore

from app.answer import extractive
from app.answer.citations import quote_answer, resolve_citations
from app.answer.llm import LLMAnswerer, is_refusal
from app.answer.prompts import message
from app.answer.question import History, bound_history, check_question, with_previous
from app.answer.record import Answer, Passage
from app.config import Settings, get_settings
from app.index.embedders import embed_queries, embedder_identity, make_embedder
from app.index.passage_store import PassageStore
from app.index.vector_store import IndexUnavailable, collection_name, count, open_vector_store
from app.ingest.pipeline import Ingestor, IngestReport
from app.retrieve import Hit, RetrievalMode, Retriever
from app.text.arabic import detect_language

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class _Parts:
    embedder: BaseEmbedding
    vectors: ChromaVectorStore
    store: PassageStore
    retriever: Retriever
    collection: str


class Engine:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._lock = threading.RLock()
        self._loaded: _Parts | None = None
        self._verified = False  # the vector store was checked against the passage store

    # -- parts ---------------------------------------------------------------
    @property
    def _parts(self) -> _Parts:
        with self._lock:
            if self._loaded is None:
                embedder = make_embedder(self.settings)
                name, dim = embedder_identity(embedder)
                collection = collection_name(name, dim)
                vectors = open_vector_store(self.settings, collection)
                store = PassageStore.open(Path(self.settings.index_dir) / collection, dim)
                retriever = Retriever(embedder, vectors, store, self.settings.candidates)
                self._loaded = _Parts(embedder, vectors, store, retriever, collection)
            return self._loaded

    @cached_property
    def _llm(self) -> LLMAnswerer | None:
        return LLMAnswerer(self.settings) if self.settings.llm_enabled else None

    @property
    def mode(self) -> str:
        return "llm" if self.settings.llm_enabled else "extractive"

    # -- index ---------------------------------------------------------------
    def ingest(self, paths: Sequence[Path] | None = None, prune: bool = False, progress: Progress | None = None) -> IngestReport:
        """Index files or folders (default: the corpus folder)."""
        targets = list(paths) if paths else [Path(self.settings.corpus_dir)]
        with self._lock:
            parts = self._parts
            return Ingestor(self.settings, parts.embedder, parts.vectors, parts.store).run(targets, prune, progress)

    def ensure_ready(self, progress: Progress | None = None) -> None:
        """Build the index from the corpus folder if it is empty, or if the vector store lost it."""
        with self._lock:
            parts = self._parts
            if not self._verified:
                self._verified = True
                if len(parts.store) and count(parts.vectors) < len(parts.store):
                    log.warning("the vector store holds fewer passages than the index; re-embedding everything")
                    for source in list(parts.store.files):
                        parts.store.drop_file(source)
            if len(parts.store):
                return
            say = progress or (lambda _m: None)
            say(f"building the index from {self.settings.corpus_dir} …")
            report = self.ingest(progress=progress)
            say(report.summary())

    def stats(self) -> dict:
        parts = self._parts
        return {
            "articles": len(parts.store.files),
            "passages": len(parts.store),
            "mode": self.mode,
            "model": self.settings.llm_model if self._llm else None,
            "embedder": parts.collection,
        }

    # -- questions -------------------------------------------------------------
    def _check(self, question: object) -> str:
        return check_question(question, self.settings.max_question_chars)

    def _check_history(self, history: object) -> History:
        return bound_history(history, self.settings.max_history_turns, self.settings.max_history_chars)

    def _search(self, query: str, mode: str | None, top_k: int | None):
        self.ensure_ready()
        parts = self._parts
        try:
            vector = embed_queries(parts.embedder, [query])[0]
        except Exception as exc:  # a remote embedder that is down or refuses the key
            raise IndexUnavailable(f"the embedder {parts.collection} failed: {type(exc).__name__}: {exc}") from exc
        with self._lock:
            hits = parts.retriever.search(query, vector, mode or self.settings.retrieval, top_k or self.settings.top_k)
        return vector, hits

    def retrieve(self, question: str, mode: RetrievalMode | None = None, top_k: int | None = None) -> list[Passage]:
        _, hits = self._search(self._check(question), mode, top_k)
        return [Passage(h.passage.id, h.passage.text, h.passage.source, h.passage.title, h.passage.date, h.score) for h in hits]

    def answer(self, question: str, history: History = ()) -> Answer:
        """Answer with citations. Raises `QuestionError` for an unusable question."""
        final = None
        for item in self.stream(question, history):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, history: History = ()) -> Iterator[str | Answer]:
        """Yield text deltas as they come (LLM mode), then the final `Answer` as the last item."""
        started = time.perf_counter()
        text = self._check(question)
        language = detect_language(text)
        query = self._standalone(text, self._check_history(history))
        vector, hits = self._search(query, None, None)
        retrieved = time.perf_counter()

        notice = None
        result: tuple[str, list, bool, str] | None = None  # (answer, citations, found, mode)
        if self._llm and hits:
            try:
                chunks: list[str] = []
                for delta in self._llm.stream(query, hits, language):
                    chunks.append(delta)
                    yield delta
                raw = "".join(chunks)
                if is_refusal(raw):
                    result = (message("not_found", language), [], False, "llm")
                else:
                    answer_text, citations = resolve_citations(raw, hits)
                    if not citations:
                        raise ValueError("the LLM answer cited no passage")
                    if detect_language(answer_text) != language:
                        raise ValueError("the LLM answered in another language than the question's")
                    result = (answer_text, citations, True, "llm")
            except Exception as exc:  # any LLM failure: retried by the client, then we fall back
                log.warning("LLM answer failed, falling back to extractive: %s", exc)
                notice = message("llm_fallback", language)
        if result is None:
            result = self._extractive(text, query, vector, hits, language)

        answer_text, citations, found, mode = result
        done = time.perf_counter()
        yield Answer(
            question=text,
            answer=answer_text,
            found=found,
            mode=mode,  # type: ignore[arg-type]
            citations=citations,
            timings_ms={
                "retrieve": (retrieved - started) * 1000,
                "answer": (done - retrieved) * 1000,
                "total": (done - started) * 1000,
            },
            notice=notice,
        )

    def _extractive(self, question: str, query: str, vector, hits: list[Hit], language: str) -> tuple[str, list, bool, str]:
        store = self._parts.store
        empty = np.zeros((0, len(vector)), np.float32)  # a passage replaced by an upload meanwhile
        composed = extractive.compose(question, query, vector, hits, [store.vectors.get(h.passage.id, empty) for h in hits],
                                      store.baseline(vector))
        if composed is None:
            return message("not_found", language), [], False, "extractive"
        answer_text, citations = quote_answer(composed, hits)
        return answer_text, citations, True, "extractive"

    def _standalone(self, question: str, history: History) -> str:
        """The question to search with: a follow-up gets its subject from the conversation."""
        previous = [t["content"] for t in history if t["role"] == "user"]
        if not previous:
            return question
        if self._llm:
            try:
                return self._llm.condense(question, history)
            except Exception as exc:
                log.warning("condense failed, combining with the previous question: %s", exc)
        return with_previous(question, previous[-1], self.settings.max_question_chars)
