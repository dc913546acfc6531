"""Pacing requests: at most ``rate`` starts per second, shared by every thread that asks.

Each caller reserves the next free start time under a lock and sleeps outside it, so threads
start one interval apart in the order they asked, and none holds the lock while it waits.
"""
import threading
import time


class RateLimiter:
    """Spaces calls to ``wait()`` at least ``1 / rate`` seconds apart; ``rate`` None: no limit."""

    def __init__(self, rate=None):
        if rate is not None and rate <= 0:
            raise ValueError(f'rate must be positive or None, not {rate!r}')
        self.interval = 1.0 / rate if rate else 0.0
        self._next = None
        self._lock = threading.Lock()

    def wait(self):
        """Block until this caller's turn has come."""
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = now if self._next is None else max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)
