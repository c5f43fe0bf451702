"""Where an SMS goes, chosen like Django's email backends: SMS_BACKEND names the class.

    provider_id = backends.get_backend().send(to, body, sender=..., reference="sms:12")

`send` returns the provider's id for the message (status callbacks name it) and raises
SmsNotSent, with a reason for the outbox's log, when it did not go. The backends:

- ConsoleBackend writes each SMS to stdout (development);
- FileBackend writes one JSON file per SMS into SMS_FILE_PATH (the demo's default);
- LocmemBackend keeps them in the module's `sent` list (tests);
- HttpBackend posts to a Twilio-style REST API (SMS_HTTP_URL) through integrations.http.
"""

import base64
import json
import sys
import uuid
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from integrations import http


class SmsNotSent(Exception):
    """The SMS did not go; the message says why."""


def get_backend(path: str = "") -> "BaseBackend":
    return import_string(path or settings.SMS_BACKEND)()


class BaseBackend(ABC):
    """A provider: sends one SMS and returns the provider's id for it, or raises
    SmsNotSent with the reason."""

    @abstractmethod
    def send(self, to: str, body: str, *, sender: str, reference: str) -> str: ...


@dataclass(frozen=True)
class SentSms:
    id: str
    to: str
    body: str
    sender: str
    reference: str


class ConsoleBackend(BaseBackend):
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, to: str, body: str, *, sender: str, reference: str) -> str:
        provider_id = f"console-{uuid.uuid4().hex}"
        self.stream.write(f"SMS {provider_id} from {sender or '-'} to {to} ({reference}):\n")
        self.stream.write(f"{body}\n{'-' * 79}\n")
        self.stream.flush()
        return provider_id


class FileBackend(BaseBackend):
    def send(self, to: str, body: str, *, sender: str, reference: str) -> str:
        provider_id = f"file-{uuid.uuid4().hex}"
        folder = Path(settings.SMS_FILE_PATH)
        now = timezone.now()
        record = asdict(SentSms(provider_id, to, body, sender, reference))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{now:%Y%m%d-%H%M%S}-{provider_id}.json"
            path.write_text(
                json.dumps({**record, "at": now.isoformat()}, ensure_ascii=False, indent=2),
                encoding="utf-8",
            )
        except OSError as error:
            raise SmsNotSent(f"Cannot write the SMS into {folder}: {error}") from error
        return provider_id


# What LocmemBackend sent, oldest first; tests empty it (tests/conftest.py).
sent: list[SentSms] = []


class LocmemBackend(BaseBackend):
    def send(self, to: str, body: str, *, sender: str, reference: str) -> str:
        provider_id = f"locmem-{uuid.uuid4().hex}"
        sent.append(SentSms(provider_id, to, body, sender, reference))
        return provider_id


class HttpBackend(BaseBackend):
    """A Twilio-style API: a form POST of To, From, Body and StatusCallback to
    SMS_HTTP_URL with HTTP Basic auth (SMS_HTTP_ACCOUNT, SMS_HTTP_TOKEN), answered with
    JSON holding the message's `sid`; an error answer carries a `message`."""

    def send(self, to: str, body: str, *, sender: str, reference: str) -> str:
        if not settings.SMS_HTTP_URL:
            raise SmsNotSent("SMS_HTTP_URL is not set: the provider's API address is needed.")
        fields = {"To": to, "From": sender, "Body": body}
        if settings.SMS_STATUS_CALLBACK_URL:
            fields["StatusCallback"] = settings.SMS_STATUS_CALLBACK_URL
        credentials = f"{settings.SMS_HTTP_ACCOUNT}:{settings.SMS_HTTP_TOKEN}".encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Authorization": f"Basic {base64.b64encode(credentials).decode()}",
        }
        try:
            response = http.request(
                "POST", settings.SMS_HTTP_URL, content=urlencode(fields).encode(), headers=headers
            )
        except http.OutboundError as error:
            raise SmsNotSent(str(error)) from error
        answer = _json(response.body)
        if not response.ok:
            said = answer.get("message") or response.body[:500].decode("utf-8", "replace")
            status = f"HTTP {response.status} {response.reason}".strip()
            raise SmsNotSent(f"{status}: {said.strip()}" if said.strip() else status)
        if not answer.get("sid"):
            raise SmsNotSent("The provider's answer has no message id (sid).")
        return str(answer["sid"])


def _json(body: bytes) -> dict:
    try:
        answer = json.loads(body)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
