"""The news-ar subset the time questions are asked on: a few stories, each told on several dates.

`evals/news_subset.json` names the articles, story by story, and the date the questions are
written against (what "yesterday" and "last month" mean). The articles' text is research-only
data, so it is never committed: at run time the subset is copied out of the shared data into
the eval's work folder, indexed there as its own collection (the seed index is not touched),
and reused while neither the subset nor the data changes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.config import PROJECT_ROOT, Settings
from app.evaluation.dataset import DatasetError, Text
from app.evaluation.files import read_model
from app.ingest.archive import read_archive
from app.ingest.articles import ARCHIVES, Article

NEWS_SUBSET = PROJECT_ROOT / "evals" / "news_subset.json"
SUBSET_FILE = "news-ar-subset.jsonl"


class NewsSubset(BaseModel):
    """`{"today": "2015-08-11", "stories": {"story name": ["article id", …]}}`, ids oldest first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str | None = None
    today: date  # the engine's `today` for the news questions
    stories: dict[Text, Annotated[tuple[Text, ...], Field(min_length=1)]]

    @model_validator(mode="after")
    def _each_article_once(self) -> Self:
        seen: set[str] = set()
        for story, ids in self.stories.items():
            for article in ids:
                if article in seen:
                    raise ValueError(f"article {article!r} is listed twice (again in {story!r})")
                seen.add(article)
        if not seen:
            raise ValueError("'stories' lists no article")
        return self

    @property
    def articles(self) -> list[str]:
        return [article for ids in self.stories.values() for article in ids]


def load_subset(path: Path) -> NewsSubset:
    return read_model(path, NewsSubset, DatasetError)


def archives(data: Path) -> list[Path]:
    """The JSON Lines archives of a news-ar folder (or the one archive named)."""
    files = sorted(p for p in data.glob("*") if p.suffix.lower() in ARCHIVES) if data.is_dir() else [data]
    if not files or not all(p.is_file() for p in files):
        raise DatasetError(f"--news {data}: no JSON Lines archive (.jsonl) there")
    return files


def _record(article: Article) -> dict[str, str]:
    """An article back as an archive line (what `read_archive` reads)."""
    return {"id": article.source, "title": article.title, "date": article.date, "text": article.body,
            "url": article.url, "source": article.publisher, "author": article.author}


def write_subset(data: Path, subset: NewsSubset, root: Path, max_bytes: int) -> Path:
    """The subset's articles as one archive in a work folder keyed by the subset and the data's bytes;
    a folder already complete is reused as it is."""
    files = archives(data)
    digest = hashlib.sha256(json.dumps(subset.articles).encode("utf-8"))
    for path in files:
        digest.update(path.read_bytes())
    folder = root / f"news-{digest.hexdigest()[:12]}"
    corpus, complete = folder / "corpus", folder / "corpus.complete"
    if complete.exists():
        return folder
    wanted, found = set(subset.articles), {}
    for path in files:
        for item in read_archive(path, max_bytes):
            if isinstance(item, Article) and item.source in wanted:
                found[item.source] = item
    if missing := [article for article in subset.articles if article not in found]:
        raise DatasetError(f"--news {data}: {len(missing)} article(s) of the news subset are not there "
                           f"({', '.join(missing[:3])}{' …' if len(missing) > 3 else ''})")
    corpus.mkdir(parents=True, exist_ok=True)  # a run interrupted while writing starts over
    lines = [json.dumps(_record(found[article]), ensure_ascii=False) for article in subset.articles]
    (corpus / SUBSET_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    complete.write_text(f"{len(lines)}\n", encoding="utf-8")
    return folder


@dataclass(frozen=True)
class NewsCorpus:
    """Where the subset was written, and the date its questions are read against."""

    data: Path
    subset: Path
    folder: Path
    today: date
    articles: int
    archive_index: Path | None = None  # an index of the whole archive to ask on, instead of the subset's

    def settings(self, base: Settings) -> Settings:
        """An engine's settings on the subset (or on `archive_index`): its own corpus and index, and
        its `today` (through Settings, not the process environment, so nothing else in the process
        sees it)."""
        return base.model_copy(update={"corpus_dir": self.folder / "corpus",
                                       "index_dir": self.archive_index or self.folder / "index", "today": self.today})

    def describe(self) -> dict[str, object]:
        return {"data": str(self.data), "subset": str(self.subset), "articles": self.articles,
                "today": self.today.isoformat(), "folder": str(self.folder),
                "archive_index": str(self.archive_index) if self.archive_index else None}


def prepare_news(data: Path, settings: Settings, subset_path: Path | None = None,
                 archive_index: Path | None = None) -> NewsCorpus:
    """Check the subset file and the data, and write the subset into the work folder (before any
    engine starts). `archive_index`: an index already holding the archive (`bench/scale.py`'s),
    on which the news questions are asked among all its articles; it must hold the subset."""
    subset_path = subset_path or NEWS_SUBSET
    subset = load_subset(subset_path)
    if archive_index is not None and not (archive_index / "chroma").is_dir():
        raise DatasetError(f"{archive_index} holds no index (no chroma folder)")
    folder = write_subset(data, subset, settings.index_dir, settings.max_file_bytes)
    return NewsCorpus(data, subset_path, folder, subset.today, len(subset.articles), archive_index)
