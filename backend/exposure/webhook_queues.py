"""Embedded mode's webhook deliveries, one queue per endpoint (scheme, host and port).

One delivery is in flight per endpoint, so a slow or dead receiver holds one of the pool's
threads, never all of them, and one user's endpoint cannot delay everyone's alerts. A retry
waits on a timer, not in a thread. Services mode uses Celery's retries instead."""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence

from django.db import close_old_connections

from media_analyzer.pools import BackgroundPool

logger = logging.getLogger(__name__)
PENDING = "pending"


def endpoint_of(url: str) -> str:
    try:
        parts = urllib.parse.urlsplit(url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port}"
    except ValueError:  # a malformed URL: its attempt fails it, alone in its queue
        return url


class EndpointQueues:
    def __init__(self, attempt: Callable[[int], str], backoffs: Callable[[], Sequence[float]], threads: int) -> None:
        self._attempt, self._backoffs = attempt, backoffs
        self._pool = BackgroundPool("webhooks", lambda: threads)
        self._lock = threading.Lock()
        self._waiting: dict[str, deque[tuple[int, int]]] = defaultdict(deque)  # (delivery, retries so far)
        self._busy: set[str] = set()
        self._timers: set[threading.Timer] = set()
        self._held: Counter[int] = Counter()  # deliveries waiting, in flight or on a retry timer

    def submit(self, endpoint: str, delivery_id: int, retries: int = 0) -> None:
        """`retries`: the attempts already made, so the next retry waits as long as it would
        have in the first chain (a delivery the sweep dispatched again)."""
        with self._lock:
            self._held[delivery_id] += 1
        self._enqueue(endpoint, delivery_id, retries)

    def holds(self, delivery_id: int) -> bool:
        """Whether this process still has the delivery queued, in flight or waiting to retry:
        the sweep leaves it alone, however long its endpoint's queue keeps it waiting."""
        with self._lock:
            return self._held[delivery_id] > 0

    def held_count(self) -> int:
        with self._lock:
            return len(self._held)

    def _enqueue(self, endpoint: str, delivery_id: int, retries: int) -> None:
        with self._lock:
            self._waiting[endpoint].append((delivery_id, retries))
            if endpoint in self._busy:
                return  # its worker takes it next
            self._busy.add(endpoint)
        try:
            self._pool.submit(self._work, endpoint)
        except RuntimeError:  # the pool is shut down (the process exits): held, it would never be swept
            with self._lock:
                self._busy.discard(endpoint)
                waiting = self._waiting[endpoint]
                waiting.remove((delivery_id, retries))  # others that came meanwhile stay, and stay held
                if not waiting:
                    del self._waiting[endpoint]
                self._release(delivery_id)
            raise

    def drain(self) -> None:
        """Waits until every queued delivery and every retry has run (tests, shutdown)."""
        while True:
            with self._lock:
                timers, idle = list(self._timers), not self._busy and not self._timers
            if idle:
                return
            for timer in timers:
                timer.join()
            self._pool.drain()

    def _work(self, endpoint: str) -> None:
        while True:
            with self._lock:
                if not self._waiting[endpoint]:
                    del self._waiting[endpoint]
                    self._busy.discard(endpoint)
                    return
                delivery_id, retries = self._waiting[endpoint].popleft()
            self._deliver(endpoint, delivery_id, retries)

    def _deliver(self, endpoint: str, delivery_id: int, retries: int) -> None:
        state = None
        try:
            state = self._attempt(delivery_id)
        except Exception:
            logger.exception("webhook delivery %s crashed", delivery_id)
        finally:
            close_old_connections()
        backoffs = self._backoffs()
        if state == PENDING and retries < len(backoffs):
            self._retry_later(backoffs[retries], endpoint, delivery_id, retries + 1)
            return  # still held, by its timer
        with self._lock:
            self._release(delivery_id)

    def _release(self, delivery_id: int) -> None:
        """Under the lock: the delivery is no longer queued here, once more."""
        self._held[delivery_id] -= 1
        if self._held[delivery_id] <= 0:
            del self._held[delivery_id]

    def _retry_later(self, delay: float, endpoint: str, delivery_id: int, retries: int) -> None:
        def fire() -> None:
            with self._lock:
                self._timers.discard(timer)
            self._enqueue(endpoint, delivery_id, retries)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()
