from django.contrib import admin

from sms import inbound, outbox
from sms.models import IncomingSms, OutgoingSms


@admin.register(OutgoingSms)
class OutgoingSmsAdmin(admin.ModelAdmin):
    """Every SMS the helpdesk sent or is about to: to whom, how it went. Only the outbox
    writes these; an admin reads them and sends a failed one again."""

    list_display = ["created_at", "to", "short_body", "status", "attempts", "sent_at", "status_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["to", "provider_id"]
    readonly_fields = [field.name for field in OutgoingSms._meta.fields]
    actions = ["send_again"]

    @admin.display(description="Text")
    def short_body(self, sms: OutgoingSms) -> str:
        return sms.body[:60]

    # What was sent is a record: it is read and sent again, never edited or deleted.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("sms.change_outgoingsms")

    @admin.action(description="Send the selected SMS again", permissions=["resend"])
    def send_again(self, request, queryset):
        again = sum(outbox.resend(sms) for sms in queryset)
        self.message_user(
            request,
            f"{again} SMS queued to be sent again; {queryset.count() - again} left alone "
            "(the provider has them already).",
        )


@admin.register(IncomingSms)
class IncomingSmsAdmin(admin.ModelAdmin):
    """Every SMS received, kept whole; a quarantined one says why, and is processed again
    once that is fixed (the number added to a contact)."""

    list_display = ["received_at", "from_number", "short_body", "state", "ticket", "reason"]
    list_filter = ["state", "received_at"]
    list_select_related = ["ticket"]
    search_fields = ["from_number", "provider_id", "body"]
    readonly_fields = [field.name for field in IncomingSms._meta.fields]
    actions = ["process_again"]

    @admin.display(description="Text")
    def short_body(self, incoming: IncomingSms) -> str:
        return incoming.body[:60]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_process_permission(self, request):
        return request.user.has_perm("sms.change_incomingsms")

    @admin.action(description="Process the selected quarantined SMS again", permissions=["process"])
    def process_again(self, request, queryset):
        quarantined = queryset.filter(state=IncomingSms.State.QUARANTINED)
        done = [inbound.process_again(incoming) for incoming in quarantined]
        taken_in = sum(incoming.state == IncomingSms.State.PROCESSED for incoming in done)
        self.message_user(
            request, f"{taken_in} of {len(done)} quarantined SMS taken in; the others say why."
        )
