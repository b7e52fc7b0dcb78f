"""Per-caller rate limits: a token bucket per key (an identity a credential proves — a
department, governance, a citizen or enterprise — or a client address; ADR 0018)."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Final

__all__ = ["RateLimiter"]

#: Buckets remembered at most; the least recently used are forgotten (they were full anyway
#: after a minute of silence, so forgetting one only forgives a caller that went quiet).
_MAX_BUCKETS: Final = 100_000


class RateLimiter:
    """``rate`` requests per minute with bursts of ``burst``; ``rate == 0`` disables limiting."""

    def __init__(self, rate: int, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._per_second = rate / 60
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, key: str, now: float | None = None) -> float:
        """Take one request from ``key``'s bucket: 0.0 when allowed, else seconds to wait."""
        if self.rate == 0:
            return 0.0
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), moment))
            tokens = min(float(self.burst), tokens + (moment - last) * self._per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, moment)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, moment)
                wait = (1 - tokens) / self._per_second
            while len(self._buckets) > _MAX_BUCKETS:
                self._buckets.popitem(last=False)
        return wait

    @staticmethod
    def retry_after(wait: float) -> str:
        """``Retry-After`` value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait)))
