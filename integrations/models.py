"""What the helpdesk may call on other servers: the exceptions an admin makes to the
outbound rules (integrations.http), and the webhook deliveries with their log."""

import ipaddress
import re
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class TrustedTarget(models.Model):
    """A host or network an admin trusts beyond the rules: plain http to it, or its
    resolving to an internal address (an intranet CRM, a provisioning service on the
    same network)."""

    host = models.CharField(
        max_length=253,
        unique=True,
        help_text="A host name (crm.intranet.example) or an address or network "
        "(10.20.0.5, 10.20.0.0/16, fd00::/8).",
    )
    allow_plain_http = models.BooleanField(
        default=False, help_text="Allow http:// to it: what is sent travels unencrypted."
    )
    allow_internal_address = models.BooleanField(
        default=False,
        help_text="Allow it at a loopback, private or link-local address, which the "
        "helpdesk otherwise never calls (the cloud's metadata service is one of them).",
    )
    note = models.CharField(max_length=200, blank=True, help_text="Why it is trusted.")

    class Meta:
        ordering = ["host"]
        verbose_name = "trusted outbound target"

    def __str__(self) -> str:
        return self.host

    def clean(self):
        self.host = self.host.strip().lower().strip("[]")
        if self.network is None and not _HOST_NAME.match(self.host):
            raise ValidationError(
                {"host": "Write a host name, an IP address or a network such as 10.0.0.0/8."}
            )

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
        try:
            return ipaddress.ip_network(self.host, strict=False)
        except ValueError:
            return None

    def covers(self, host: str, addresses: list[str]) -> bool:
        """Whether this entry names the host, or its network holds every address the host
        resolved to."""
        network = self.network
        if network is None:
            return self.host == host
        return bool(addresses) and all(ipaddress.ip_address(a) in network for a in addresses)


class WebhookDelivery(models.Model):
    """One JSON payload for one receiver, signed, tried until it is taken or given up
    (integrations.webhooks). Written by the feature that sends it (`topic`), attempted
    after commit, retried by beat."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (given up)"

    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    topic = models.CharField(max_length=40, help_text="The feature that sent it.")
    reference = models.CharField(max_length=200, blank=True, help_text="What it is about.")
    event = models.CharField(max_length=100)
    url = models.CharField(max_length=500)
    secret = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # partial: beat's retry step only ever looks at pending deliveries
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_pending_due",
                condition=models.Q(state="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.url}"


class DeliveryAttempt(models.Model):
    """One try of a delivery: the log an admin reads."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status or self.error[:40]}"
