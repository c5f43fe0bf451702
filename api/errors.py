"""Errors as RFC 9457 problem details: a type, a title, the status, a detail a person
can act on, and the field errors of a bad input."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

from tickets.workflow import StaleEdit, WorkflowError


class Refused(exceptions.APIException):
    """The workflow's no: the request is not in a state that allows it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request cannot do that now."


class Stale(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The request was changed since you read it; read it again."


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."


def refusal(error: WorkflowError) -> exceptions.APIException:
    return (Stale if isinstance(error, StaleEdit) else Refused)(str(error))


def problem_details(exc, context):
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        exc = TooLarge(str(exc) or TooLarge.default_detail)
    elif isinstance(exc, WorkflowError):
        exc = refusal(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's own 500
    data = response.data
    problem = {
        "type": "about:blank",
        "title": response.status_text,
        "status": response.status_code,
    }
    if isinstance(exc, exceptions.ValidationError) and isinstance(data, dict):
        problem["detail"] = "Some fields are not valid."
        problem["errors"] = data
    elif isinstance(data, dict) and "detail" in data:
        problem["detail"] = str(data["detail"])
    else:
        problem["detail"] = "The request is not valid."
        problem["errors"] = data
    response.data = problem
    response.content_type = "application/problem+json"
    return response


@csrf_exempt  # a 404 whatever the method: nothing here to forge a request for
def not_found(request, path=""):
    """Any other path under /api/v1/ (an id that is no number, a typo): a problem, not
    the site's HTML page."""
    from django.http import JsonResponse

    problem = {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": f"There is nothing at {request.path}; see /api/v1/docs/.",
    }
    return JsonResponse(problem, status=404, content_type="application/problem+json")
