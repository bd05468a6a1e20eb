"""newsqa: cited question answering over Arabic news articles."""

from app.config import use_bundled_tiktoken_cache

use_bundled_tiktoken_cache()
