"""Chroma, the one source of truth: embedded (`PersistentClient`) or a `chroma run` server.

Everything needed to answer is here, in three collections per vector space
(`<kind>__<embedder>__<dim>`), so a replica with an empty `NEWSQA_INDEX_DIR`
has all it needs:

- `passages`: one record per passage: its vector (dense search), its original
  text (the document) and metadata (article id, title, date, language, chunk,
  the sentence offsets as JSON);
- `sentences`: one record per sentence: its vector and its passage's id. The
  extractive answerer and the best-sentence signal score sentences without
  embedding anything at question time; they fetch only the candidates' rows;
- `articles`: one record per article (content hash, origin, passage count,
  title, date, url, publisher), written *after* its passages and sentences: an
  article without a record is not indexed, whatever rows a killed writer left.
  Its vector is the mean of its passages' (Chroma needs one; it is the article's
  position in the space).

The articles collection's metadata carries a `generation` token that every
write changes: replicas poll it to know when to refresh their local caches.

Writers never lock. Passage and sentence ids are content-addressed (article id,
chunk, hash prefix), so two writers of the same version write the same rows;
after writing, a writer removes the rows of other versions of its articles and
re-writes its own rows if a concurrent writer of an older version removed them
while its record is the current one. Readers ignore rows whose id does not
match the article's current record. We always hand Chroma our own vectors
(`embedding_function=None`): its default embedder would download a model.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from app.config import Settings
from app.filters import day_number
from app.index.records import ArticleRecord, StoredPassage, is_current

log = logging.getLogger(__name__)
PAGE = 2000  # rows per `get` when reading a whole collection
# Sentence vectors are read for every question's candidate passages, and a newsroom's questions
# come back to the same stories; a passage's are kept in memory for this many passages (about
# 12 MB per 1,000 passages of eight sentences). Measured on the seeds: 4 ms of a warm answer.
SENTENCE_CACHE_PASSAGES = 2048


LAYOUT = 2  # of the rows; see `ChromaIndex.upgrade`


class IndexUnavailable(RuntimeError):
    """The index cannot be reached or opened; the message says where and why."""


@dataclass
class ArticleRows:
    """One article ready to write: its record, passages and all their vectors."""

    record: ArticleRecord
    passages: list[StoredPassage]
    passage_vectors: np.ndarray  # (passages, dim)
    sentence_vectors: list[np.ndarray]  # per passage: (sentences, dim)
    language: str


def space_name(embedder_name: str, dim: int) -> str:
    """A vector space's name in collection names: `<embedder>__<dim>`."""
    slug = re.sub(r"[^a-zA-Z0-9_-]+", "-", embedder_name).strip("-")
    return f"{slug}__{dim}"[:50]


def open_client(settings: Settings) -> Any:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_server:
            chroma_settings.chroma_server_host = settings.chroma_host
            chroma_settings.chroma_server_http_port = settings.chroma_port or 8000
            chroma_settings.chroma_api_impl = "chromadb.api.fastapi.FastAPI"
            _ensure_database(chromadb.AdminClient(chroma_settings), settings.chroma_database)
            client = chromadb.HttpClient(
                host=settings.chroma_host or "", port=settings.chroma_port or 8000, settings=chroma_settings,
                database=settings.chroma_database,
            )
            client.heartbeat()
            return client
        path = Path(settings.index_dir) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:  # chromadb raises many types; all mean "no index here"
        raise IndexUnavailable(f"cannot open the Chroma index at {where(settings)}: {exc}") from exc


def _ensure_database(admin: Any, name: str) -> None:
    """Create the database if the server lacks it (several deployments can share one server).

    Replicas started together all find it missing and all try to create it; the losers'
    "already exists" is success, so each re-reads it rather than failing its start-up."""
    try:
        admin.get_database(name)
        return
    except Exception:  # chromadb's error for "no such database" has no type of its own
        pass
    try:
        admin.create_database(name)
    except Exception:
        admin.get_database(name)  # raises, as before, if it truly is not there


def where(settings: Settings) -> str:
    if settings.chroma_server:
        return f"{settings.chroma_host}:{settings.chroma_port or 8000} (database {settings.chroma_database})"
    return str(settings.index_dir)


class ChromaIndex:
    """The three collections of one vector space, and every read and write of them."""

    def __init__(self, client: Any, space: str, location: str, ef_search: int) -> None:
        self.client = client
        self.space = space
        self.location = location
        self.ef_search = ef_search
        # Keyed by (passage id, text): the vectors are a function of the text, whatever rewrote the rows.
        self._sentence_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._sentence_cache_lock = threading.Lock()
        try:
            self.passages = self._collection("passages")
            self.sentences = self._collection("sentences")
            self.articles = self._collection("articles")
            self._batch = int(client.get_max_batch_size())
        except Exception as exc:
            raise IndexUnavailable(f"cannot open the Chroma index at {location}: {exc}") from exc
        self._set_search_breadth()

    @classmethod
    def open(cls, settings: Settings, space: str) -> ChromaIndex:
        return cls(open_client(settings), space, where(settings), settings.hnsw_ef_search)

    def _collection(self, kind: str) -> Any:
        return self.client.get_or_create_collection(
            name=f"{kind}__{self.space}", embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": self.ef_search}},
        )

    def _set_search_breadth(self) -> None:
        """The passages' HNSW search breadth set to the configured one where an older version (at
        Chroma's 100) or another setting made the collection: it keeps the configuration it was
        created with. Best effort, and only for what is searched by vector. A process that has
        loaded the collection's graph (a running `chroma run`, another `serve`) keeps the breadth it
        read until it restarts; processes opening at once may find the store locked, and then this
        one searches as the collection is and the next opening tries again."""
        if (self.passages.configuration.get("hnsw") or {}).get("ef_search") == self.ef_search:
            return
        try:
            self.passages.modify(configuration={"hnsw": {"ef_search": self.ef_search}})
        except Exception as exc:  # chromadb raises many types; none of them should stop a reader
            log.warning("could not set the HNSW search breadth of %s to %d: %s", self.location, self.ef_search, exc)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Any failure of a Chroma read is `IndexUnavailable`: chromadb raises many types (its
        own, httpx's, ValueError...), and all of them mean the index can't be read now. Only the
        Chroma calls sit inside, so a bug of ours never passes for an unreachable store."""
        try:
            yield
        except Exception as exc:
            raise IndexUnavailable(f"cannot read the Chroma index at {self.location}: {exc}") from exc

    # -- change tracking -------------------------------------------------------
    def generation(self) -> str:
        """A token that changes with every write (by any process)."""
        with self._reading():
            collection = self.client.get_collection(self.articles.name)
        return str((collection.metadata or {}).get("generation", "empty"))

    def _bump(self) -> None:
        # `modify` replaces the collection's metadata: the layout version goes with every token.
        self.articles.modify(metadata={"generation": uuid.uuid4().hex, "layout": LAYOUT})

    # -- layout upgrades -------------------------------------------------------
    def layout_is_old(self) -> bool:
        """True when rows were written by an older newsqa (an empty index has no old rows)."""
        with self._reading():
            collection = self.client.get_collection(self.articles.name)
            return int((collection.metadata or {}).get("layout", 1)) < LAYOUT and self.articles.count() > 0

    def upgrade(self) -> int:
        """Bring rows written by an older newsqa to the current `LAYOUT`; the number of rows changed.

        Layout 2 gave passages `day`, `publisher` and `url` (what period and publisher filters
        compare in Chroma, and what citations link to), taken from their article's record.
        Idempotent: replicas starting together may both run it, and they write the same values.
        """
        if not self.layout_is_old():
            return 0
        records = self.article_records()
        changed = 0
        for page in self._pages(self.passages, ["metadatas"]):
            old = [(pid, meta) for pid, meta in zip(page["ids"], page["metadatas"]) if "day" not in meta]
            if old:
                updates = [_upgraded(meta, records.get(str(meta["source"]))) for _, meta in old]
                self.passages.update(ids=[pid for pid, _ in old], metadatas=updates)
                changed += len(old)
        self._bump()
        return changed

    # -- reading -------------------------------------------------------------
    def article_records(self) -> dict[str, ArticleRecord]:
        records: dict[str, ArticleRecord] = {}
        for page in self._pages(self.articles, ["metadatas"]):
            for aid, meta in zip(page["ids"], page["metadatas"]):
                records[aid] = _record(aid, meta)
        return records

    def records(self, ids: Sequence[str]) -> dict[str, ArticleRecord]:
        if not ids:
            return {}
        got = self.articles.get(ids=list(ids), include=["metadatas"])
        return {aid: _record(aid, meta) for aid, meta in zip(got["ids"], got["metadatas"])}

    def fetch_passages(self, ids: Sequence[str]) -> dict[str, StoredPassage]:
        if not ids:
            return {}
        with self._reading():
            got = self.passages.get(ids=list(ids), include=["documents", "metadatas"])
        return {pid: _passage(pid, doc, meta) for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}

    def iter_passages(self) -> Iterator[StoredPassage]:
        """Every passage row (any version): what local caches are derived from."""
        for page in self._pages(self.passages, ["metadatas", "documents"]):
            for pid, meta, doc in zip(page["ids"], page["metadatas"], page["documents"]):
                yield _passage(pid, doc, meta)

    def sentence_vectors(self, passages: Iterable[StoredPassage]) -> dict[str, np.ndarray]:
        """Each passage's sentence vectors, in sentence order (read-only arrays), from memory or Chroma."""
        found: dict[str, np.ndarray] = {}
        missing: list[StoredPassage] = []
        with self._sentence_cache_lock:
            for passage in passages:
                matrix = self._sentence_cache.get((passage.id, passage.text))
                if matrix is None:
                    missing.append(passage)
                else:
                    self._sentence_cache.move_to_end((passage.id, passage.text))
                    found[passage.id] = matrix
        read = self._read_sentence_vectors(missing)
        with self._sentence_cache_lock:
            for passage in missing:
                matrix = read.get(passage.id)
                if matrix is not None and len(matrix) == len(passage.sentences):  # a whole passage's rows
                    matrix.flags.writeable = False
                    self._sentence_cache[(passage.id, passage.text)] = matrix
            while len(self._sentence_cache) > SENTENCE_CACHE_PASSAGES:
                self._sentence_cache.popitem(last=False)
        return found | read

    def _read_sentence_vectors(self, passages: list[StoredPassage]) -> dict[str, np.ndarray]:
        """Read by id (a passage knows how many sentences it has): a `where` on the passage took
        50 ms warm and 0.8 s cold at 5,000 articles, and grows with the index; a look-up by id does not."""
        wanted = {_sentence_id(p.id, i): (p.id, i) for p in passages for i in range(len(p.sentences))}
        if not wanted:
            return {}
        with self._reading():
            got = self.sentences.get(ids=list(wanted), include=["embeddings"])
        rows: dict[str, list[tuple[int, np.ndarray]]] = defaultdict(list)
        for sid, vector in zip(got["ids"], got["embeddings"]):
            pid, i = wanted[sid]
            rows[pid].append((i, vector))
        return {pid: np.asarray([v for _, v in sorted(items, key=lambda item: item[0])], np.float32)
                for pid, items in rows.items()}

    def sample_sentence_vectors(self, size: int) -> np.ndarray:
        """Up to `size` sentence vectors from across the index (for the not-found baseline)."""
        with self._reading():
            total = self.sentences.count()
        if not total:
            return np.zeros((0, 0), np.float32)
        pieces, step = [], max(1, total // 8)
        for offset in range(0, total, step):
            with self._reading():
                got = self.sentences.get(limit=max(1, size // 8), offset=offset, include=["embeddings"])
            if len(got["embeddings"]):
                pieces.append(np.asarray(got["embeddings"], np.float32))
        return np.concatenate(pieces)[:size]

    def dense(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """Nearest passages as (id, cosine similarity), among those `where` admits."""
        with self._reading():
            got = self.passages.query(query_embeddings=[vector.tolist()], n_results=k, where=where,
                                      include=["distances"])
        return [(pid, 1.0 - float(distance)) for pid, distance in zip(got["ids"][0], got["distances"][0])]

    def passage_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every passage row's id and vector (any version): what the dense search is measured against."""
        ids: list[str] = []
        pieces: list[np.ndarray] = []
        for page in self._pages(self.passages, ["embeddings"]):
            ids += page["ids"]
            pieces.append(np.asarray(page["embeddings"], np.float32))
        return ids, np.concatenate(pieces) if pieces else np.zeros((0, 0), np.float32)

    def _pages(self, collection: Any, include: list[str]) -> Iterator[dict[str, Any]]:
        """The collection's rows, `PAGE` at a time: each page as Chroma's `get` returns it."""
        offset = 0
        while True:
            with self._reading():
                got = collection.get(limit=PAGE, offset=offset, include=include)
            if not got["ids"]:
                return
            yield got
            offset += len(got["ids"])

    # -- writing -------------------------------------------------------------
    def write(self, batch: Sequence[ArticleRows]) -> list[str]:
        """Write articles; returns the ids another writer's newer version superseded meanwhile."""
        if not batch:
            return []
        self._write_rows(batch)
        current = self.records([rows.record.id for rows in batch])
        self._collect_garbage(current)
        mine = [rows for rows in batch if _sha(current, rows.record.id) == rows.record.sha]
        present = set(self.passages.get(ids=[p.id for rows in mine for p in rows.passages], include=[])["ids"])
        missing = [rows for rows in mine if any(p.id not in present for p in rows.passages)]
        if missing:  # a concurrent writer of an older version removed them: put them back
            self._write_rows(missing)
        self._bump()
        return [rows.record.id for rows in batch if _sha(current, rows.record.id) != rows.record.sha]

    def _write_rows(self, batch: Sequence[ArticleRows]) -> None:
        sentences: list[tuple[str, list[float], dict]] = []
        passages: list[tuple[str, list[float], str, dict]] = []
        articles: list[tuple[str, list[float], dict]] = []
        for rows in batch:
            record = rows.record
            for passage, vector, sentence_matrix in zip(rows.passages, rows.passage_vectors, rows.sentence_vectors):
                for i, sentence_vector in enumerate(sentence_matrix):
                    sentences.append((_sentence_id(passage.id, i), sentence_vector.tolist(),
                                      {"passage": passage.id, "source": record.id, "i": i}))
                passages.append((passage.id, vector.tolist(), passage.text, _passage_metadata(passage)))
            mean = rows.passage_vectors.mean(axis=0)
            articles.append((record.id, (mean / max(float(np.linalg.norm(mean)), 1e-12)).tolist(),
                             {**asdict(record), "language": rows.language}))
        for start in range(0, len(sentences), self._batch):
            ids, vectors, metas = zip(*sentences[start : start + self._batch])
            self.sentences.upsert(ids=list(ids), embeddings=list(vectors), metadatas=list(metas))
        for start in range(0, len(passages), self._batch):
            ids, vectors, docs, metas = zip(*passages[start : start + self._batch])
            self.passages.upsert(ids=list(ids), embeddings=list(vectors), documents=list(docs), metadatas=list(metas))
        for start in range(0, len(articles), self._batch):  # last: the commit marker
            ids, vectors, metas = zip(*articles[start : start + self._batch])
            self.articles.upsert(ids=list(ids), embeddings=list(vectors), metadatas=list(metas))

    def _collect_garbage(self, current: dict[str, ArticleRecord], sources: Sequence[str] | None = None) -> int:
        """Delete passage and sentence rows of `sources` that no current record owns."""
        sources = list(current) if sources is None else list(sources)
        removed = 0
        for start in range(0, len(sources), 200):
            chunk = {"source": {"$in": sources[start : start + 200]}}
            stale = [pid for pid in self.passages.get(where=chunk, include=[])["ids"] if not is_current(pid, current)]
            removed += len(stale)
            if stale:
                self.passages.delete(ids=stale)
            got = self.sentences.get(where=chunk, include=["metadatas"])
            dead = [sid for sid, meta in zip(got["ids"], got["metadatas"]) if not is_current(meta["passage"], current)]
            if dead:
                self.sentences.delete(ids=dead)
        return removed

    def set_origin(self, article_id: str, origin: str) -> None:
        """Record that an unchanged article now comes from another path (a moved file)."""
        got = self.articles.get(ids=[article_id], include=["metadatas"])
        if got["ids"]:
            self.articles.update(ids=[article_id], metadatas=[{**got["metadatas"][0], "origin": origin}])
            self._bump()

    def remove(self, article_ids: Sequence[str]) -> None:
        """Drop articles: the record first (they stop being indexed), then their rows."""
        if not article_ids:
            return
        self.articles.delete(ids=list(article_ids))
        self._collect_garbage({}, article_ids)
        self._bump()

    def collect_all_garbage(self) -> int:
        """Remove every passage/sentence row no current record owns (rows a killed writer left)."""
        current = self.article_records()
        sources = {passage.source for passage in self.iter_passages() if not is_current(passage.id, current)}
        removed = self._collect_garbage(current, sorted(sources)) if sources else 0
        if removed:
            self._bump()
        return removed

    def counts(self) -> dict[str, int]:
        return {"articles": self.articles.count(), "passages": self.passages.count(), "sentences": self.sentences.count()}


def _sha(current: dict[str, ArticleRecord], article_id: str) -> str | None:
    record = current.get(article_id)
    return record.sha if record else None


def _passage_metadata(passage: StoredPassage) -> dict[str, Any]:
    return {
        "source": passage.source, "title": passage.title, "date": passage.date, "language": passage.language,
        "chunk": passage.chunk, "sentences": json.dumps(passage.sentences), **_filter_metadata(passage.date,
                                                                                            passage.publisher),
        "url": passage.url,
    }


def _upgraded(meta: dict[str, Any], record: ArticleRecord | None) -> dict[str, Any]:
    """What layout 2 adds to an older passage's metadata (Chroma merges it into the rest)."""
    publisher, url = (record.publisher, record.url) if record else ("", "")
    return {**_filter_metadata(str(meta.get("date", "")), publisher), "url": url}


def _filter_metadata(iso_date: str, publisher: str) -> dict[str, Any]:
    """What `Filters.chroma_where` compares: the day as a number, and the publisher."""
    return {"day": day_number(iso_date), "publisher": publisher}


def _passage(pid: str, document: str | None, meta: dict[str, Any]) -> StoredPassage:
    return StoredPassage(
        id=pid, source=str(meta["source"]), title=str(meta.get("title", "")), date=str(meta.get("date", "")),
        language=str(meta.get("language", "")), chunk=int(meta.get("chunk", 0)), text=document or "",
        sentences=[(int(s), int(e)) for s, e in json.loads(meta.get("sentences", "[]"))],
        publisher=str(meta.get("publisher", "")), url=str(meta.get("url", "")),
    )


def _sentence_id(passage_id: str, i: int) -> str:
    return f"{passage_id}/{i}"


def _record(aid: str, meta: dict[str, Any]) -> ArticleRecord:
    fields = {name: meta[name] for name in ArticleRecord.__dataclass_fields__ if name in meta and name != "id"}
    return ArticleRecord(id=aid, **fields)
