"""In-process background pools for embedded mode (analysis jobs, webhook deliveries):
created on first use, drained on demand (tests, shutdown), started afresh afterwards."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class BackgroundPool:
    def __init__(self, name: str, threads: Callable[[], int]) -> None:
        self.name, self.threads = name, threads  # threads is read at first use: settings may change in tests
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, function, *args) -> Future:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.threads(), thread_name_prefix=self.name)
            return self._executor.submit(function, *args)

    def drain(self) -> None:
        """Waits for what is queued to finish; the next submit starts a fresh pool."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
