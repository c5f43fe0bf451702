"""What the schema says that drf-spectacular cannot see: the errors every operation may
answer (problem details, api.errors) and the rows `expand=` puts in place of ids, so that
clients, and schemathesis in the tests, know them before they meet them."""

from rest_framework import serializers

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` holds field errors of a bad input.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["type", "title", "status"],
}
EVERY = {
    "400": "The input or the query is not valid.",
    "401": "No token, or one that is unknown, revoked or expired.",
    "403": "Not for this user.",
    "404": "No such row, or not one this user may see.",
    "406": "No answer of the type asked for in Accept.",
    "429": "Too many calls with this token; see Retry-After.",
}
WRITES = {
    "409": "The workflow refuses it now (the detail says why).",
    "413": "The body is too large.",
    "415": "A body type other than JSON or multipart/form-data.",
    "422": "An Idempotency-Key reused for another call.",
}
STALE = {"412": "The If-Match ETag is not the request's any more."}


def expanded_rows(result, generator, request, public):
    """A request's related fields are an id, or with `expand=` the row."""
    from api.serializers import RequestSerializer

    request_schema = result.get("components", {}).get("schemas", {}).get("Request")
    if request_schema is None:
        return result
    properties = request_schema["properties"]
    for name, row in RequestSerializer.expandable.items():
        columns = {
            column: {"type": "integer" if isinstance(field, serializers.IntegerField) else "string"}
            for column, field in row().fields.items()
        }
        properties[name] = {
            "oneOf": [{"type": "integer"}, {"type": "object", "properties": columns}],
            "nullable": properties[name].get("nullable", False),
            "readOnly": True,
        }
    return result


def add_problem_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            errors = dict(EVERY)
            if method in ("post", "patch", "put", "delete"):
                errors |= WRITES
            if method == "patch":
                errors |= STALE
            responses = operation.setdefault("responses", {})
            for code, description in errors.items():
                responses.setdefault(code, {"description": description, "content": problem})
    return result
