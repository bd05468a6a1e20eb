"""Start the real `python -m app serve` on a free port, for the API and browser tests.

The server runs in its own process exactly as a person would start it, with
its index, corpus copy and feedback file in a temporary folder.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
ARTIFACTS = ROOT / "artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def visible_text(markup: str) -> str:
    """What a person reads in the page's HTML: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def copy_seeds(target: Path) -> Path:
    shutil.copytree(SEEDS, target)
    return target


def poll_healthz(url: str, done: Callable[[httpx.Response], bool], timeout: float,
                 alive: Callable[[], None] = lambda: None) -> bool:
    """Poll `/healthz` until `done(response)`, at most `timeout` seconds; `alive` raises if the server died.

    A reply that is slow or refused while the server starts is not a failure, only not yet.
    """
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        alive()
        try:
            if done(httpx.get(f"{url}/healthz", timeout=5)):
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    return False


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    started: float  # time.perf_counter() when the process was started

    def wait_ready(self, timeout: float = 240) -> float:
        """Seconds from start until `/healthz` says ready; fails with the server log."""
        return self._wait(lambda response: response.status_code == 200, "ready", timeout)

    def wait_listening(self, timeout: float = 120) -> float:
        """Seconds from start until the server answers HTTP at all (ready or not)."""
        return self._wait(lambda response: True, "listening", timeout)

    def _wait(self, done, state: str, timeout: float) -> float:
        def alive() -> None:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}):\n{self.log.read_text()}")

        if not poll_healthz(self.url, done, timeout, alive):
            raise TimeoutError(f"server not {state} after {timeout}s:\n{self.log.read_text()}")
        return time.perf_counter() - self.started

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(workdir: Path, corpus: Path, index: Path, extra_env: dict[str, str] | None = None) -> Server:
    """`python -m app serve` in extractive mode (no key), logging to workdir/server.log."""
    port = free_port()
    env = {
        **os.environ,
        "OPENAI_API_KEY": "",
        "NEWSQA_HOST": "127.0.0.1",
        "NEWSQA_PORT": str(port),
        "NEWSQA_CORPUS_DIR": str(corpus),
        "NEWSQA_INDEX_DIR": str(index),
        "NEWSQA_FEEDBACK_FILE": str(workdir / "feedback.jsonl"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONPATH": str(ROOT),
        **(extra_env or {}),
    }
    log = workdir / f"server-{port}.log"
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=workdir,  # not the repo: a developer's .env must not leak into the test
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    return Server(f"http://127.0.0.1:{port}", process, log, time.perf_counter())


class ThreadServer:
    """uvicorn serving an app object in this process (to share a test engine), on a free port."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self._thread.start()
        deadline = time.perf_counter() + 60
        while not self._server.started:
            if time.perf_counter() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def wait_ready(self, timeout: float = 240) -> None:
        """Until `/healthz` says the index is ready."""
        if not poll_healthz(self.url, lambda response: response.status_code == 200, timeout):
            raise TimeoutError(f"the index was not ready after {timeout}s")

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
