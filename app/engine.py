"""The answer engine: the single entry point every interface calls.

    engine = Engine(settings)
    engine.answer("كم عدد ...؟") -> Answer

It wires the parts chosen once from the settings (embedder, stores,
generator) and hands them in; nothing downstream branches on which one it got.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Sequence

from app.answer.record import Answer, History, Passage
from app.config import Settings, get_settings

Progress = Callable[[str], None]


class Engine:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    def ensure_ready(self, progress: Progress | None = None) -> None:
        """Build the index from the corpus folder if it is empty."""
        raise NotImplementedError

    def answer(self, question: str, history: History = ()) -> Answer:
        """Answer with citations. Raises `QuestionError` for an unusable question."""
        raise NotImplementedError

    def stream(self, question: str, history: History = ()) -> Iterator[str | Answer]:
        """Yield text deltas as they come, then the final `Answer` as the last item."""
        raise NotImplementedError

    def retrieve(self, question: str, mode: str | None = None, top_k: int | None = None) -> list[Passage]:
        raise NotImplementedError

    def ingest(self, paths: Sequence[Path] | None = None, prune: bool = False):
        raise NotImplementedError

    def stats(self) -> dict:
        raise NotImplementedError
