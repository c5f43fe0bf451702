"""Personal API tokens: created and revoked by their owner, stored hashed (the token is
shown once), optionally expiring."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What it is for, e.g. “CRM sync”.")
    # The token is "hd_<prefix>_<secret>": the prefix finds the row, the hash proves it.
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class IdempotentAnswer(models.Model):
    """The answer to a POST sent with an Idempotency-Key, replayed when the same user
    sends the same key again (a client retrying after a timeout gets the first answer, and
    no second request or reply is made)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # What was asked with the key: the same key for another call is a client's bug.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_answer_user_key")
        ]
        # The sweep of expired answers reads them by age.
        indexes = [models.Index(fields=["created_at"], name="idempotent_answer_created")]

    def __str__(self):
        return self.key


class WebhookSubscription(models.Model):
    """A URL told of the domain events it names (tickets.events), for the requests its
    owner may see; delivered, signed and retried by integrations.webhooks."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="Domain event names, e.g. “closed”.")
    # The receiver checks each delivery's signature with it; shown to the owner.
    secret = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.url
