"""First come, first served: a bounded number of holders, the others queued in arrival order.

Questions are embedded on a pool of models (`app.index.e5_model`), the CPU cost
of a question. Handing a freed model to whichever waiting thread the scheduler
wakes first let some questions wait again and again: with 20 concurrent clients on
2 cores the slowest took three times the median (p95 1.68 s, max 3.2 s). Handing it
to the longest waiter gives the same throughput with a tail close to the median
(p95 0.96 s, max 1.0 s; `bench/results/load-fifo-pool.txt`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class FifoGate:
    """At most `slots` holders at once; the others get in in the order they came."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        self._free = slots
        self._queue: deque[threading.Event] = deque()
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return len(self._queue)

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            turn = None
            if self._free and not self._queue:
                self._free -= 1
            else:
                turn = threading.Event()
                self._queue.append(turn)
        if turn is not None:
            turn.wait()  # a leaving holder hands its slot straight to the first in the queue
        try:
            yield
        finally:
            with self._lock:
                if self._queue:
                    self._queue.popleft().set()
                else:
                    self._free += 1
