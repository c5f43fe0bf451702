"""Per-token rate limits: a program that loops cannot starve the desk. Over the limit
the API answers 429 with Retry-After.

A fixed window: at most n calls per token in each minute (or second, hour, day) of the
clock, counted by one INCR. DRF's SimpleRateThrottle keeps every call's time in a list
that it reads, prunes and writes back on each call; that was a tenth of a request
list's CPU. A window lets a client make up to 2n calls across its edge, which is fine
for keeping a loop from starving the desk.
"""

import time
from functools import cache

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import BaseThrottle

SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class TokenRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        calls, seconds = allowance(settings.API_RATE_LIMIT)
        now = time.time()
        window = int(now // seconds)
        self.wait_seconds = (window + 1) * seconds - now
        return count(f"api-rate:{caller(request)}:{window}", seconds) <= calls

    def wait(self) -> float:
        return self.wait_seconds


def allowance(rate: str) -> tuple[int, int]:
    """The calls and the seconds of a rate: 600/minute is (600, 60)."""
    calls, _, period = rate.partition("/")
    if not calls.isdigit() or period[:1] not in SECONDS:
        raise ImproperlyConfigured(
            f"API_RATE_LIMIT is “{rate}”: write calls/period, e.g. 600/minute "
            "(second, minute, hour or day)."
        )
    return int(calls), SECONDS[period[0]]


def caller(request) -> str:
    if request.auth is not None:  # a token: each token has its own allowance
        return f"token:{request.auth.pk}"
    if request.user.is_authenticated:  # the browsable API, signed in
        return f"user:{request.user.pk}"
    return f"address:{request.META.get('REMOTE_ADDR')}"


def count(key: str, seconds: int) -> int:
    """The calls counted under `key` so far, this one included; the count expires with
    its window. Shared by all workers through Redis; in memory for the single process
    of the demo."""
    if not settings.REDIS_URL:
        django_cache.add(key, 0, seconds)
        return django_cache.incr(key)
    with _redis().pipeline(transaction=False) as both:  # one round trip
        both.set(key, 0, ex=seconds, nx=True)
        both.incr(key)
        return both.execute()[1]


@cache
def _redis() -> redis.Redis:
    # Django's cache makes a client for each call; this one and its pool are kept.
    return redis.Redis.from_url(settings.REDIS_URL)
