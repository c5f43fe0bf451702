from django.contrib import admin

from api import tokens
from api.models import ApiToken, WebhookSubscription


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Seen and revoked here; made only by their owners (the secret is shown to them once)."""

    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["user", "name", "prefix", "created_at", "expires_at", "last_used_at"]
    fields = readonly_fields + ["revoked_at"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        tokens.forget(obj)  # a revoked token stops working now, not when its copy expires

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        tokens.forget(obj)

    def delete_queryset(self, request, queryset):
        for token in queryset:
            tokens.forget(token)
        super().delete_queryset(request, queryset)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Made by their owners through the API; an admin may switch one off."""

    list_display = ["url", "user", "events", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "user__username"]
    readonly_fields = ["user", "url", "events", "created_at"]
    fields = readonly_fields + ["is_active"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        from api.subscriptions import forget_subscribed_events

        super().save_model(request, obj, form, change)
        forget_subscribed_events()
