"""The engine behind the page and the API, and whether its index is ready yet.

Its own module so the API router and the chat page (the leaves) can depend on it
while the composition root, `web.py`, depends on them and never the reverse.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from app.config import Settings

log = logging.getLogger(__name__)


class Service:
    """The engine plus whether its index is ready, shared by the API and the page.

    Without an engine given, it is imported and built in the warm-up thread: the
    engine's imports take seconds, and the server should listen meanwhile.
    """

    def __init__(self, settings: Settings, engine: Any = None) -> None:
        self.settings = settings
        self.engine = engine
        self.progress = "waiting to start"
        self.error: str | None = None
        self._ready = threading.Event()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def _note(self, message: str) -> None:
        self.progress = message
        print(f"[index] {message}", file=sys.stderr, flush=True)

    def warm_up(self) -> None:
        """Build the index if needed (blocking); failures are kept for the page to show."""
        try:
            if self.engine is None:
                self._note("loading the engine")
                from app.engine import Engine

                self.engine = Engine(self.settings)
            self._note("checking the index")
            self.engine.hold_index(self._note)  # embedded Chroma: this process is its one writer
            self.engine.ensure_ready(progress=self._note)
            if not self._stopping.is_set():  # a server shut down during its warm-up
                self.engine.watch()  # other processes' writes (a shared Chroma server)
        except Exception as exc:  # shown on the page and /healthz rather than killing the server
            log.exception("index build failed")  # the details, which may name server paths, for the operator
            print(f"[index] failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            self.error = f"{type(exc).__name__} (see the server log)"
            self.progress = f"failed: {self.error}"
            return
        self._ready.set()
        self._note("ready")

    def start(self) -> None:
        """Start `warm_up` in the background once; later calls do nothing."""
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self.warm_up, name="index-warmup", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """The server is shutting down: the engine stops watching the index."""
        self._stopping.set()
        if self.engine is not None:
            self.engine.close()

    def wait(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def status(self) -> dict[str, Any]:
        """Readiness, and the index size and answer mode once ready."""
        if not self.ready:
            data: dict[str, Any] = {"ready": False, "progress": self.progress}
            if self.error:
                data["error"] = self.error
            return data
        return {"ready": True, **self.engine.stats()}
