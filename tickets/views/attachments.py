"""The one download of an attachment, for agents and contacts alike.

Stored files are never served from MEDIA_URL: every download comes through here, where
tickets.access decides who may open it (404 otherwise, so nobody learns that it exists).
"""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.urls import path
from django.views.decorators.http import require_GET

from tickets.access import get_attachment_for_user
from tickets.models import Attachment

# Types a browser may be told a download is; anything else (HTML, SVG, scripts: what a
# stranger could upload to run in our origin) goes out as opaque bytes.
SAFE_CONTENT_TYPES = {
    "application/pdf",
    "application/zip",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/csv",
    "text/plain",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
}
# Raster images open in the browser (and show in a mail's HTML as its cid: images);
# everything else is a download.
INLINE_CONTENT_TYPES = {"image/gif", "image/jpeg", "image/png", "image/webp"}


@require_GET
@login_required
def download(request, pk: int, filename: str):
    """`filename` is only what the browser saves the file as; the pk finds it."""
    return file_response(get_attachment_for_user(request.user, pk))


def file_response(attachment: Attachment) -> FileResponse:
    """The stored file, as a type that cannot run in our origin."""
    try:
        content = attachment.file.open("rb")
    except FileNotFoundError as error:
        raise Http404("The file of this attachment is missing.") from error
    content_type = served_type(attachment.content_type)
    response = FileResponse(
        content,
        as_attachment=content_type not in INLINE_CONTENT_TYPES,
        filename=attachment.download_name,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it after all, it runs in a sandbox, not in our origin.
    response["Content-Security-Policy"] = "sandbox"
    return response


def served_type(stored: str) -> str:
    content_type = stored.split(";")[0].strip().lower()
    return content_type if content_type in SAFE_CONTENT_TYPES else "application/octet-stream"


urlpatterns = [
    path("attachments/<int:pk>/<str:filename>", download, name="attachment"),
]
