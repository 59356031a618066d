"""Waiting in tests on state that has no event to await: rows written by another process
(a Celery worker) or thread. Always bounded."""

import time


def until(condition, timeout_s: float, interval_s: float = 0.05) -> bool:
    """True once `condition()` holds; False if it still does not after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval_s)
    return True
