"""Errors as RFC 9457 problem details: a type, a title, the status, a detail a person
can act on, and the field errors of a bad input."""

from rest_framework import exceptions
from rest_framework.views import exception_handler


def problem_details(exc, context):
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
