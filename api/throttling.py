"""Per-token rate limits: a program that loops cannot starve the desk. Over the limit
the API answers 429 with Retry-After (DRF's throttling; counts in the cache, shared by
the workers when it is Redis)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self):
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view):
        if request.auth is not None:  # a token: each token has its own allowance
            ident = f"token:{request.auth.pk}"
        elif request.user.is_authenticated:  # the browsable API, signed in
            ident = f"user:{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
