"""newsqa: cited question answering over Arabic news articles."""

from app.config import use_bundled_tiktoken_cache, use_passive_openmp

use_bundled_tiktoken_cache()
use_passive_openmp()
