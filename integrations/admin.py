from django.contrib import admin, messages

from integrations import webhooks
from integrations.models import DeliveryAttempt, TrustedTarget, WebhookDelivery


@admin.register(TrustedTarget)
class TrustedTargetAdmin(admin.ModelAdmin):
    list_display = ["host", "allow_plain_http", "allow_internal_address", "note"]
    search_fields = ["host", "note"]


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["at", "status", "error", "duration_ms", "response_excerpt"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # The log is part of the delivery: whoever may read one reads the other.
        return request.user.has_perm("integrations.view_webhookdelivery")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only (the secret is never shown), with "deliver again"."""

    list_display = [
        "created_at", "delivery_id", "topic", "event", "url", "state", "attempts",
        "last_status", "next_attempt_at",
    ]  # fmt: skip
    list_filter = ["state", "topic"]
    search_fields = ["url", "reference", "delivery_id", "event"]
    date_hierarchy = "created_at"
    fields = [
        "delivery_id", "topic", "event", "reference", "url", "state", "attempts",
        "next_attempt_at", "created_at", "delivered_at", "last_status", "last_error", "payload",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["deliver_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # written by integrations.webhooks only

    def has_delete_permission(self, request, obj=None):
        return False  # the log of what was sent stays

    @admin.action(description="Deliver again now", permissions=["deliver"])
    def deliver_again(self, request, queryset):
        for delivery in queryset:
            attempt = webhooks.redeliver(delivery)
            delivery.refresh_from_db(fields=["state"])
            if attempt.error:
                then = "given up" if delivery.state == delivery.State.FAILED else "will retry"
                self.message_user(
                    request, f"{delivery.delivery_id}: {attempt.error} ({then})", messages.WARNING
                )
            else:
                self.message_user(request, f"{delivery.delivery_id}: delivered ({attempt.status}).")

    def has_deliver_permission(self, request):
        return request.user.has_perm("integrations.change_webhookdelivery")
