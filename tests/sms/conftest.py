import json
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from integrations import webhooks
from integrations.models import TrustedTarget
from tests.integrations.test_http import serve

SECRET = "sms-s3cret"
MESSAGES = "/2010-04-01/Accounts/AC1/Messages.json"


@pytest.fixture
def provider(settings):
    """A Twilio-style API on loopback (trusted, as an admin would trust it), answering
    with a message id until a test plans otherwise; SMS go to it."""
    server, thread = serve()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    server.plans[MESSAGES] = (201, {"Content-Type": "application/json"}, b'{"sid": "SM1"}')
    TrustedTarget.objects.create(
        host="127.0.0.1", allow_plain_http=True, allow_internal_address=True
    )
    settings.SMS_BACKEND = "sms.backends.HttpBackend"
    settings.SMS_HTTP_URL = server.url + MESSAGES
    settings.SMS_HTTP_ACCOUNT, settings.SMS_HTTP_TOKEN = "AC1", "t0ken"
    settings.SMS_SENDER = "+49305550100"
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def webhook(client, settings):
    """`webhook(path, fields)` posts the fields to /sms/<path>/, form-encoded (or as JSON
    with as_json), signed with the secret at `at` (now)."""
    settings.SMS_WEBHOOK_SECRET = SECRET

    def post(path, fields, *, as_json=False, secret=SECRET, at=None, signed=True):
        body = json.dumps(fields) if as_json else urlencode(fields)
        kind = "application/json" if as_json else "application/x-www-form-urlencoded"
        timestamp = int((at or timezone.now()).timestamp())
        headers = {
            "X-Helpdesk-Timestamp": str(timestamp),
            "X-Helpdesk-Signature": webhooks.sign(secret, timestamp, body.encode()),
        }
        headers = headers if signed else {}
        return client.post(f"/sms/{path}/", body, content_type=kind, headers=headers)

    return post


def sms_from(number: str, body: str = "The printer is still jammed", sid: str = "SM100") -> dict:
    """What the provider posts for an SMS to us."""
    return {"MessageSid": sid, "From": number, "To": "+49305550100", "Body": body}
