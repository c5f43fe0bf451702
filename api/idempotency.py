"""`Idempotency-Key` on POST: the same key from the same user gets the same answer, and
the request, reply or note is made once.

The key is claimed in the same transaction as the call's own writes, so either both are
saved or neither: a retry after a failure runs the call again, a retry after a success
replays it. A second call racing the first waits on the key's row and then replays.
Only successes are kept; refusals change nothing and are simply refused again.
"""

import functools
import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response

from api.models import IdempotentAnswer

KEPT_FOR = timedelta(hours=24)
HEADER = "Idempotency-Key"


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was sent with a different request; use a new key."


def idempotent(handler):
    """Decorate a POST handler of a DRF view."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > 255:
            raise exceptions.ValidationError({HEADER: ["At most 255 characters."]})
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            answer = _claim(request.user, key, fingerprint)
            if answer.fingerprint != fingerprint:
                raise KeyReused()
            if answer.status is not None:
                replay = Response(answer.body, status=answer.status)
                replay["Idempotent-Replayed"] = "true"
                if answer.location:
                    replay["Location"] = answer.location
                return replay
            response = handler(view, request, *args, **kwargs)
            if not status.is_success(response.status_code):
                answer.delete()
                return response
            answer.status, answer.body = response.status_code, response.data
            answer.location = response.get("Location", "")
            answer.save(update_fields=["status", "body", "location"])
            return response

    return wrapper


def _fingerprint(request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    if request.content_type.startswith("multipart/"):
        # Files may be larger than a body Django reads into memory: their size stands in.
        digest.update(request.META.get("CONTENT_LENGTH", "").encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _claim(user, key: str, fingerprint: str) -> IdempotentAnswer:
    now = timezone.now()
    IdempotentAnswer.objects.filter(user=user, created_at__lt=now - KEPT_FOR).delete()
    try:
        with transaction.atomic():
            return IdempotentAnswer.objects.create(
                user=user, key=key, fingerprint=fingerprint, created_at=now
            )
    except IntegrityError as taken:
        # Taken by an earlier call (committed: its answer is there) or a racing one (the
        # lock waits until it commits or rolls back).
        answer = IdempotentAnswer.objects.select_for_update().filter(user=user, key=key).first()
        if answer is None:  # the racing call failed and let go of the key
            raise exceptions.APIException("The same key is in use right now; try again.") from taken
        return answer
