"""The configurations an eval run compares: an answer mode paired with a retrieval mode.

`--mode`, `--retrieval` and `--compare` all come down to a list of `RunConfig`s,
and each becomes the engine settings it is measured with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from app.config import Settings
from app.retrieve import RetrievalMode

MODES = ("extractive", "llm")
RETRIEVALS: tuple[RetrievalMode, ...] = ("dense", "bm25", "hybrid")


class ConfigError(ValueError):
    """The run is asked for something it cannot do (the message says what to change)."""


@dataclass(frozen=True)
class RunConfig:
    mode: str
    retrieval: RetrievalMode

    @property
    def label(self) -> str:
        return f"{self.mode}/{self.retrieval}"


def parse_configs(mode: str | None, retrieval: str | None, compare: Sequence[str] | None,
                  settings: Settings) -> list[RunConfig]:
    """The configurations to run, from --mode/--retrieval and --compare (a part left out takes the default)."""
    mode = mode or ("llm" if settings.llm_enabled else "extractive")
    retrieval = retrieval or settings.retrieval
    configs: list[RunConfig] = []
    for spec in compare or [f"{mode}/{retrieval}"]:
        parts = [p for p in spec.replace(",", "/").split("/") if p]
        if not parts or any(p not in MODES + RETRIEVALS for p in parts):
            raise ConfigError(f"--compare {spec!r}: expected MODE/RETRIEVAL with MODE in {MODES} "
                              f"and RETRIEVAL in {RETRIEVALS}")
        chosen = next((p for p in parts if p in RETRIEVALS), retrieval)  # argparse or the check above vetted it
        config = RunConfig(next((p for p in parts if p in MODES), mode), cast(RetrievalMode, chosen))
        if config not in configs:
            configs.append(config)
    if any(c.mode == "llm" for c in configs) and not settings.llm_enabled:
        raise ConfigError("LLM mode needs OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server)")
    return configs


def config_settings(base: Settings, config: RunConfig) -> Settings:
    """The engine settings for one configuration: without a key the engine answers extractively."""
    update: dict[str, Any] = {"retrieval": config.retrieval}
    if config.mode == "extractive":
        update["openai_api_key"] = None
    return base.model_copy(update=update)
