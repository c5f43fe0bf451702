"""An attachment's file, for agents and contacts alike, by the desk's and the portal's
rules (tickets.access: 404 for a file one may not open)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view

from tickets.access import get_attachment_for_user
from tickets.views.attachments import file_response


@extend_schema(summary="Download an attachment", responses={(200, "*/*"): OpenApiTypes.BINARY})
@api_view(["GET"])
def download(request, pk: int):
    return file_response(get_attachment_for_user(request.user, pk))
