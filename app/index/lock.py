"""One writer at a time for an *embedded* Chroma index, across processes.

Chroma's `PersistentClient` is not process-safe: two processes writing one
folder each keep their own in-memory HNSW and overwrite the other's. So a
process that writes an embedded index holds an exclusive lock on
`NEWSQA_INDEX_DIR/write.lock` (released by the kernel if it dies, even on
`kill -9`), and says who it is in the lock file. A second `ingest` waits for a
first one; a writer facing `serve` (which holds the lock while it runs, since it
may index uploads at any time) is refused with a message saying what to do.
With a `chroma run` server there is no lock: the server serialises writes, and
writers coordinate through content-addressed rows (see `app.index.chroma`).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Callable


class IndexBusy(RuntimeError):
    """Another process writes this embedded index; the message says which and what to do."""


class IndexLock:
    def __init__(self, folder: Path, role: str) -> None:
        self.path = Path(folder) / "write.lock"
        self.role = role
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, say: Callable[[str], None] = lambda _m: None) -> None:
        """Take the lock; wait for another ingest, refuse to wait for a server."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._holder()
                if holder.get("role") == "serve":
                    raise IndexBusy(
                        f"the index at {self.path.parent} is in use by `serve` (pid {holder.get('pid')}): add "
                        "articles through its upload, stop it first, or run Chroma as a server (CHROMA_HOST) "
                        "so that several processes can write"
                    ) from None
                say(f"waiting for another process writing this index ({holder.get('role', '?')}, "
                    f"pid {holder.get('pid', '?')}) to finish …")
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"pid": os.getpid(), "role": self.role, "since": time.time()}).encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    def _holder(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
