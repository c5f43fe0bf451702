"""Brute-force protection: failed attempts counted in the cache, per key, in a window.

Used by the desk's, the admin's and the portal's sign-ins and the password reset. The
cache must be shared between the web processes for the limit to hold (Redis in
production, see settings.CACHES)."""

import hashlib

from django.core.cache import cache

# scope: (attempts allowed, window in seconds)
LIMITS = {
    "sign_in": (5, 15 * 60),
    "agent_sign_in": (5, 15 * 60),
    "sign_in_ip": (50, 15 * 60),
    "password_reset": (5, 60 * 60),
    "password_reset_ip": (20, 60 * 60),
    "sign_up_ip": (20, 60 * 60),
    "sign_in_link": (5, 60 * 60),
    "sign_in_link_ip": (20, 60 * 60),
}


def _key(scope: str, value: str) -> str:
    # Hashed: addresses may hold characters some cache backends refuse in keys.
    return f"ratelimit:{scope}:{hashlib.sha256(value.lower().encode()).hexdigest()}"


def is_limited(scope: str, value: str) -> bool:
    allowed, _ = LIMITS[scope]
    return cache.get(_key(scope, value), 0) >= allowed


def hit(scope: str, value: str) -> None:
    _, window = LIMITS[scope]
    key = _key(scope, value)
    # add() starts the window only once; incr() keeps its expiry.
    cache.add(key, 0, window)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)


def reset(scope: str, value: str) -> None:
    cache.delete(_key(scope, value))


def minutes(scope: str) -> int:
    return LIMITS[scope][1] // 60


def client_ip(request) -> str:
    """The peer's address. Behind a proxy, configure it to set REMOTE_ADDR (e.g.
    gunicorn's --forwarded-allow-ips), never trust X-Forwarded-For from the client."""
    return request.META.get("REMOTE_ADDR", "")
