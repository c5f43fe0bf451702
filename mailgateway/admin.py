import re

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse

from mailgateway import fetch, ingest, outbox
from mailgateway.models import Mailbox, OutgoingMail, QuarantinedMail, ReceivedMail


class MailboxForm(forms.ModelForm):
    # The stored password is never sent back to the browser; leaving the field empty keeps it.
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current password.",
    )

    class Meta:
        model = Mailbox
        fields = [
            "name", "is_active", "queue", "reply_address", "protocol", "host", "port",
            "security", "username", "password", "folder", "delete_after_fetch", "poll_interval",
            "send_acknowledgement", "acks_per_hour", "reopen_days",
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        protocol = data.get("protocol")
        if protocol in (Mailbox.Protocol.IMAP, Mailbox.Protocol.POP3) and not data.get("host"):
            self.add_error("host", "A server mailbox needs its host.")
        if protocol == Mailbox.Protocol.MAILDIR and not data.get("folder", "").startswith("/"):
            self.add_error("folder", "Give the Maildir's absolute path.")
        return data

    def clean_password(self):
        password = self.cleaned_data.get("password")
        return password or (self.instance.password if self.instance.pk else "")


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ["name", "protocol", "host", "folder", "queue", "is_active", "last_polled_at"]
    list_filter = ["protocol", "is_active", "queue"]
    search_fields = ["name", "host", "username", "reply_address"]
    readonly_fields = ["next_poll_at", "locked_until", "last_polled_at", "last_error"]
    actions = ["poll_now"]
    fieldsets = [
        (None, {"fields": ["name", "is_active", "queue", "reply_address"]}),
        (
            "Server",
            {
                "fields": [
                    "protocol",
                    "host",
                    "port",
                    "security",
                    "username",
                    "password",
                    "folder",
                    "delete_after_fetch",
                    "poll_interval",
                ]
            },
        ),
        ("Rules", {"fields": ["send_acknowledgement", "acks_per_hour", "reopen_days"]}),
        ("State", {"fields": readonly_fields}),
    ]

    @admin.action(description="Poll the selected mailboxes now")
    def poll_now(self, request, queryset):
        for mailbox in queryset:
            try:
                counts = fetch.poll_mailbox(mailbox.pk)
            except Exception as error:
                self.message_user(request, f"{mailbox}: {error}", messages.ERROR)
                continue
            if counts is None:
                self.message_user(request, f"{mailbox} is being polled already.", messages.INFO)
            else:
                summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items()) or "no mail"
                self.message_user(request, f"{mailbox}: {summary}.")


@admin.register(ReceivedMail)
class ReceivedMailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "sender", "subject", "outcome", "ticket", "mailbox"]
    list_filter = ["outcome", "mailbox", "is_automatic", "acknowledged"]
    search_fields = ["sender", "subject", "message_id"]
    list_select_related = ["ticket", "mailbox"]
    exclude = ["raw"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("raw")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(QuarantinedMail)
class QuarantinedMailAdmin(admin.ModelAdmin):
    """Mail that could not be taken in, kept whole: retry it after a fix, or download it."""

    list_display = ["received_at", "sender", "subject", "error", "mailbox", "retried_at"]
    list_filter = ["mailbox"]
    search_fields = ["sender", "subject", "message_id", "error"]
    list_select_related = ["mailbox"]
    exclude = ["raw"]
    readonly_fields = [
        "received_at",
        "mailbox",
        "queue",
        "message_id",
        "sender",
        "subject",
        "error",
        "retried_at",
        "size",
    ]
    actions = ["retry", "download"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("raw")

    def has_add_permission(self, request):
        return False

    @admin.display(description="Size (bytes)")
    def size(self, obj):
        return len(obj.raw)

    @admin.action(description="Retry the selected mail")
    def retry(self, request, queryset):
        done = 0
        for record in queryset:
            result = ingest.retry(record.pk)
            if result.outcome == ingest.QUARANTINED:
                self.message_user(request, f"{record}: {result.error}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} mail taken in.")

    @admin.action(description="Download the selected mail (.eml)")
    def download(self, request, queryset):
        record = queryset.first()
        response = HttpResponse(bytes(record.raw), content_type="message/rfc822")
        name = re.sub(r"[^\w.-]+", "_", record.subject)[:50].strip("._") or f"mail-{record.pk}"
        response["Content-Disposition"] = f'attachment; filename="{name}.eml"'
        return response


@admin.register(OutgoingMail)
class OutgoingMailAdmin(admin.ModelAdmin):
    """Every mail the helpdesk sent or is about to: what, to whom, how it went. Only the
    outbox writes these; an admin reads them and sends one again."""

    list_display = ["created_at", "kind", "subject", "recipients", "state", "attempts", "sent_at"]
    list_filter = ["state", "kind", "created_at"]
    search_fields = ["subject", "key"]
    fieldsets = [
        (None, {"fields": ["subject", "from_address", "recipients", "copies", "message"]}),
        ("Delivery", {"fields": ["state", "attempts", "next_attempt_at", "last_error", "sent_at"]}),
        ("Content", {"fields": ["body_text", "body_html", "headers", "attachments"]}),
        ("Bookkeeping", {"classes": ["collapse"], "fields": ["key", "kind", "created_at"]}),
    ]
    readonly_fields = [
        *(field.name for field in OutgoingMail._meta.fields),
        "recipients",
        "copies",
    ]
    actions = ["send_again"]

    @admin.display(description="To")
    def recipients(self, mail: OutgoingMail) -> str:
        return ", ".join(mail.to)

    @admin.display(description="Cc, Bcc")
    def copies(self, mail: OutgoingMail) -> str:
        return ", ".join([*mail.cc, *(f"{address} (Bcc)" for address in mail.bcc)]) or "-"

    # What was sent is a record: it is read and sent again, never edited or deleted.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("mailgateway.change_outgoingmail")

    @admin.action(description="Send the selected mail again", permissions=["resend"])
    def send_again(self, request, queryset):
        for mail in queryset:
            outbox.resend(mail)
        self.message_user(request, f"{queryset.count()} mail(s) queued to be sent again.")
