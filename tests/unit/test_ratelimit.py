"""The rate limiter: a token bucket per key, on an injected clock."""

from __future__ import annotations

import threading

import pytest
from fastapi.security.utils import get_authorization_scheme_param

from api import ratelimit
from api.ratelimit import RateLimiter
from api.service import bearer_token


def test_burst_then_limited() -> None:
    limiter = RateLimiter(rate=60, burst=3)  # one request per second after the burst
    assert [limiter.acquire("a", now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("a", now=100.0)
    assert wait == pytest.approx(1.0)
    # A refused request takes nothing from the bucket: asking again is refused the same.
    assert limiter.acquire("a", now=100.0) == pytest.approx(1.0)


def test_refill_at_the_rate() -> None:
    limiter = RateLimiter(rate=60, burst=2)
    limiter.acquire("a", now=0.0)
    limiter.acquire("a", now=0.0)
    assert limiter.acquire("a", now=0.5) == pytest.approx(0.5)
    assert limiter.acquire("a", now=1.0) == 0.0
    assert limiter.acquire("a", now=1.0) == pytest.approx(1.0)
    assert limiter.acquire("a", now=3.0) == 0.0  # two seconds: two requests back
    assert limiter.acquire("a", now=3.0) == 0.0
    assert limiter.acquire("a", now=3.0) > 0


def test_refill_is_capped_at_the_burst() -> None:
    limiter = RateLimiter(rate=120, burst=2)
    limiter.acquire("a", now=0.0)
    # An hour of silence gives the burst back, not more.
    assert [limiter.acquire("a", now=3600.0) for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire("a", now=3600.0) == pytest.approx(0.5)


def test_retry_after_is_the_wait_for_one_request() -> None:
    limiter = RateLimiter(rate=6, burst=1)  # one request per ten seconds
    assert limiter.acquire("a", now=0.0) == 0.0
    wait = limiter.acquire("a", now=4.0)
    assert wait == pytest.approx(6.0)
    assert limiter.retry_after(wait) == "6"
    assert limiter.acquire("a", now=4.0 + wait) == 0.0


@pytest.mark.parametrize(
    ("wait", "header"),
    [(0.001, "1"), (0.5, "1"), (1.0, "1"), (1.01, "2"), (59.2, "60"), (0.0, "1")],
)
def test_retry_after_whole_seconds_at_least_one(wait: float, header: str) -> None:
    assert RateLimiter.retry_after(wait) == header


def test_keys_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=60, burst=1)
    assert limiter.acquire("credential:a", now=0.0) == 0.0
    assert limiter.acquire("credential:a", now=0.0) > 0
    assert limiter.acquire("credential:b", now=0.0) == 0.0
    assert limiter.acquire("address:127.0.0.1", now=0.0) == 0.0


def test_rate_zero_disables_limiting() -> None:
    limiter = RateLimiter(rate=0, burst=1)
    assert all(limiter.acquire("a", now=0.0) == 0.0 for _ in range(1000))


def test_uses_the_monotonic_clock_by_default() -> None:
    limiter = RateLimiter(rate=1, burst=1)
    assert limiter.acquire("a") == 0.0
    assert 0 < limiter.acquire("a") <= 60


def test_least_recently_used_buckets_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "_MAX_BUCKETS", 2)
    limiter = RateLimiter(rate=60, burst=1)
    assert limiter.acquire("a", now=0.0) == 0.0
    assert limiter.acquire("a", now=0.0) > 0  # a is empty
    assert limiter.acquire("b", now=0.0) == 0.0
    assert limiter.acquire("a", now=0.0) > 0  # a was used last: b goes next
    assert limiter.acquire("c", now=0.0) == 0.0  # three buckets: b is forgotten
    assert limiter.acquire("b", now=0.0) == 0.0  # a full bucket again; a is forgotten
    assert limiter.acquire("a", now=0.0) == 0.0  # forgiven
    assert limiter.acquire("a", now=0.0) > 0


def test_concurrent_callers_share_the_burst() -> None:
    limiter = RateLimiter(rate=60, burst=25)
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            outcome = limiter.acquire("shared", now=0.0) == 0.0
            with lock:
                allowed.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 80
    assert sum(allowed) == 25


@pytest.mark.parametrize(
    "header",
    [
        "Bearer tok",
        "bearer tok",
        "BEARER tok",
        "Bearer  tok",
        "Bearer \ttok\t",
        "bEaReR     tok   ",
        "Bearer",
        "Bearer ",
        "Bearer\ttok",
        "Basic dG9rOg==",
        "tok",
        "",
    ],
)
def test_the_limiter_reads_a_bearer_token_as_authentication_does(header: str) -> None:
    """The rate-limit key comes from the token the routes authenticate (FastAPI's HTTPBearer
    and the strip in api.deps): every spelling they accept is one token, and what they do not
    accept is no token (the client address's bucket)."""
    scheme, credentials = get_authorization_scheme_param(header)
    accepted = bool(header and scheme and credentials) and scheme.lower() == "bearer"
    expected = credentials.strip() if accepted else None
    assert bearer_token(header.encode("latin-1")) == expected
    if expected is not None:
        assert expected == "tok"
