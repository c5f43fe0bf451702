"""The provider's webhooks: POST /sms/inbound/ (an SMS for us) and POST /sms/status/ (news
of one we sent). Both are signed as our own webhooks are (integrations.webhooks: the
X-Helpdesk-Timestamp and X-Helpdesk-Signature headers, HMAC-SHA256 with
SMS_WEBHOOK_SECRET) and carry Twilio-style fields, form-encoded or as JSON."""

import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations import webhooks
from sms import inbound, outbox

# A signature that matches when its time is not checked is right but stale (a replay, or
# a wrong clock): checked so to say which.
ANY_TIME = 100 * 365 * 24 * 3600


@csrf_exempt  # the provider has no CSRF token; the signature proves who sent it
@require_POST
def receive_sms(request):
    if refusal := _refusal(request):
        return refusal
    try:
        incoming = inbound.receive(_fields(request))
    except inbound.InvalidPayload as error:
        return _plain(400, str(error))
    return JsonResponse({"id": incoming.pk, "state": incoming.state})


@csrf_exempt
@require_POST
def sms_status(request):
    if refusal := _refusal(request):
        return refusal
    try:
        fields = _fields(request)
        provider_id, status = fields.get("MessageSid"), fields.get("MessageStatus")
        if not isinstance(provider_id, str) or not isinstance(status, str):
            raise inbound.InvalidPayload("Missing or not text: MessageSid, MessageStatus.")
        error = str(fields.get("ErrorMessage") or fields.get("ErrorCode") or "")
        sms = outbox.record_status(provider_id, status, error)
    except (inbound.InvalidPayload, outbox.UnknownStatus) as error:
        return _plain(400, str(error))
    except outbox.UnknownSms as error:
        return _plain(404, str(error))
    return JsonResponse({"id": sms.pk, "status": sms.status})


def _refusal(request) -> HttpResponse | None:
    """403 with the reason unless the request is signed with SMS_WEBHOOK_SECRET, now."""
    secret = settings.SMS_WEBHOOK_SECRET
    if not secret:
        return _plain(403, "SMS webhooks are off: SMS_WEBHOOK_SECRET is not set.")
    headers, body = request.headers, request.body
    if not headers.get("X-Helpdesk-Signature") or not headers.get("X-Helpdesk-Timestamp"):
        return _plain(403, "Not signed: X-Helpdesk-Timestamp and X-Helpdesk-Signature needed.")
    if webhooks.verify(secret, headers, body):
        return None
    if webhooks.verify(secret, headers, body, tolerance=ANY_TIME):
        return _plain(403, "The signature's time is more than five minutes off.")
    return _plain(403, "The signature does not match.")


def _fields(request) -> dict:
    """The payload: form fields or a JSON object."""
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body)
        except ValueError as error:
            raise inbound.InvalidPayload(f"The body is not JSON: {error}.") from error
        if not isinstance(payload, dict):
            raise inbound.InvalidPayload("The JSON body is not an object of fields.")
        return payload
    if request.content_type == "application/x-www-form-urlencoded":
        return request.POST.dict()
    raise inbound.InvalidPayload("Send form fields or JSON (application/json).")


def _plain(status: int, reason: str) -> HttpResponse:
    return HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")
