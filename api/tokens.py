"""Issuing, checking and revoking personal API tokens: the one home of their rules."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from api.models import ApiToken

PREFIX = "hd_"
LAST_USED_EVERY_SECONDS = 60  # writing last_used_at on every call would cost a write each
# A token and its user are kept in the cache (shared by every worker) this long, so a call
# reads no row to know who calls. Revoking forgets it at once; a user deactivated in the
# admin keeps their tokens' calls working for at most this long.
CACHED_SECONDS = 30


class TokenError(Exception):
    """A token that cannot be issued; the message says why."""


@dataclass(frozen=True)
class Issued:
    token: ApiToken
    plaintext: str  # shown once, never stored


def issue(user: AbstractBaseUser, *, name: str, expires_at: datetime | None = None) -> Issued:
    name = (name or "").strip()
    if not name:
        raise TokenError("Name the token after what will use it.")
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenError("The expiry must be in the future.")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    plaintext = f"{PREFIX}{prefix}_{secret}"
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=prefix,
        digest=_digest(plaintext),
        created_at=timezone.now(),
        expires_at=expires_at,
    )
    return Issued(token, plaintext)


def revoke(token: ApiToken, *, now: datetime | None = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        token.save(update_fields=["revoked_at"])
    forget(token)


def forget(token: ApiToken) -> None:
    """Drop the cached copy (after a change to the token made elsewhere, the admin's):
    now, and again after the commit, since a call in between may cache the old row."""
    cache.delete(_cache_key(token.digest))
    transaction.on_commit(lambda: cache.delete(_cache_key(token.digest)))


def live_token(plaintext: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token of an active user that this is, else None (unknown, revoked,
    expired, or its user deactivated)."""
    now = now or timezone.now()
    if not plaintext.startswith(PREFIX) or plaintext.count("_") < 2:
        return None
    digest = _digest(plaintext)
    token = cache.get(_cache_key(digest))
    if token is None:
        token = _stored_token(plaintext, digest)
        if token is None:
            return None
        cache.set(_cache_key(digest), token, CACHED_SECONDS)
    elif hasattr(token.user, "contact"):
        # what a contact may see (their company's requests) holds from the next call on
        token.user.contact.refresh_from_db()
    if token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    stale = token.last_used_at is None or (now - token.last_used_at).total_seconds() > (
        LAST_USED_EVERY_SECONDS
    )
    if stale:
        with transaction.atomic():
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        cache.set(_cache_key(digest), token, CACHED_SECONDS)
    return token


def _stored_token(plaintext: str, digest: str) -> ApiToken | None:
    prefix = plaintext[len(PREFIX) :].split("_", 1)[0]
    # The contact with the user: whether they are an agent is asked next (tickets.access).
    token = ApiToken.objects.select_related("user__contact").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, digest):
        return None
    return token


def _cache_key(digest: str) -> str:
    return f"api-token:{digest}"


def _digest(plaintext: str) -> str:
    # The secret is 256 random bits: a plain SHA-256 is enough, no slow hash needed.
    return hashlib.sha256(plaintext.encode()).hexdigest()
