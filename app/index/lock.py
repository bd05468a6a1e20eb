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
import threading
import time
from collections.abc import Callable
from pathlib import Path

# Locks this process holds, by path, with how many holders: engines of one process share
# one embedded Chroma (chromadb caches a client's system per path), so they share its lock.
_held: dict[Path, list[int]] = {}  # path -> [fd, holders]
_registry = threading.Lock()


class IndexBusy(RuntimeError):
    """Another process writes this embedded index; the message says which and what to do."""


class IndexLock:
    def __init__(self, folder: Path, role: str) -> None:
        self.path = (Path(folder) / "write.lock").resolve()
        self.role = role
        self._holding = False

    def acquire(self, say: Callable[[str], None] = lambda _m: None) -> None:
        """Take the lock; wait for another ingest, refuse to wait for a server."""
        if self._holding:
            return
        with _registry:
            if self.path in _held:
                _held[self.path][1] += 1
                self._holding = True
                return
        fd = self._lock(say)
        with _registry:
            if self.path in _held:  # another engine of this process got it meanwhile
                _held[self.path][1] += 1
                os.close(fd)
            else:
                _held[self.path] = [fd, 1]
        self._holding = True

    def _lock(self, say: Callable[[str], None]) -> int:
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
        return fd

    def release(self) -> None:
        if not self._holding:
            return
        self._holding = False
        with _registry:
            entry = _held[self.path]
            entry[1] -= 1
            if entry[1] == 0:
                del _held[self.path]
                os.close(entry[0])  # closing releases the flock

    def _holder(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
