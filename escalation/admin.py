from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from escalation import hooks
from escalation.models import HookDelivery, Notification
from escalation.tasks import deliver_hook
from integrations import http
from tickets.admin import PriorityAdmin
from tickets.models import BusinessCalendar, EscalationLevel, Holiday, OpeningHours, Priority, Queue

# Escalation chains: an inline under the priority -------------------------------------


class EscalationLevelForm(forms.ModelForm):
    hook_name = forms.TypedChoiceField(
        choices=hooks.choices,
        required=False,
        label="Hook",
        help_text="A hook registered in code (escalation.hooks).",
    )
    webhook_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Webhook URL",
        help_text="Receives a signed JSON POST of the request; https, unless an admin "
        "trusts the host with plain http (Integrations › Trusted outbound targets).",
    )

    def clean_webhook_url(self):
        url = self.cleaned_data["webhook_url"]
        if url:
            try:
                http.check_url(url)
            except http.Refused as refused:
                raise ValidationError(str(refused)) from None
        return url

    class Meta:
        model = EscalationLevel
        fields = [
            "alert_level",
            "minutes",
            "action",
            "notify_address",
            "raise_to",
            "delegate_to_user",
            "delegate_to_team",
            "template",
            "hook_name",
            "webhook_url",
        ]


class EscalationLevelFormSet(BaseInlineFormSet):
    def clean(self):
        # Before the generic uniqueness check, so the admin reads why, not just "duplicate".
        seen = set()
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            level = form.cleaned_data.get("alert_level")
            if level in seen:
                raise ValidationError(
                    f"Alert level {level} is used twice. Each level of a priority needs its "
                    "own alert level: the chain runs through them in strictly ascending order."
                )
            seen.add(level)
        super().clean()


class EscalationLevelInline(admin.StackedInline):
    model = EscalationLevel
    fk_name = "priority"
    form = EscalationLevelForm
    formset = EscalationLevelFormSet
    extra = 0
    ordering = ["alert_level"]
    autocomplete_fields = ["delegate_to_user"]
    verbose_name_plural = (
        "escalation chain (a request escalates level by level while nobody acts on it)"
    )
    fieldsets = [
        (None, {"fields": [("alert_level", "minutes"), ("action", "notify_address", "raise_to")]}),
        ("Delegation", {"fields": [("delegate_to_user", "delegate_to_team")]}),
        ("Text and hook", {"fields": ["template", ("hook_name", "webhook_url")]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("priority", "raise_to")


# The priority admin belongs to tickets.admin, which another part of the project owns;
# the chain joins it here as an extra inline instead of an edit there.
admin.site.unregister(Priority)


@admin.register(Priority)
class PriorityWithChainAdmin(PriorityAdmin):
    inlines = [*PriorityAdmin.inlines, EscalationLevelInline]


@admin.register(EscalationLevel)
class EscalationLevelAdmin(admin.ModelAdmin):
    """Every chain at a glance; each is edited under its priority."""

    form = EscalationLevelForm
    list_display = ["priority", "alert_level", "minutes", "action", "hook_name", "webhook_url"]
    list_filter = ["priority", "action"]
    list_select_related = ["priority"]
    ordering = ["priority__rank", "alert_level"]
    autocomplete_fields = ["delegate_to_user"]

    def get_fields(self, request, obj=None):
        return ["priority", *EscalationLevelForm.Meta.fields]


# Business hours ------------------------------------------------------------------------


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0
    min_num = 1
    verbose_name_plural = "opening hours (a calendar needs at least one span)"

    def get_formset(self, request, obj=None, **kwargs):
        # A calendar that never opens would count no time at all.
        return super().get_formset(request, obj, validate_min=True, **kwargs)


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class BusinessCalendarForm(forms.ModelForm):
    queues = forms.ModelMultipleChoiceField(
        Queue.objects.all(),
        required=False,
        widget=admin.widgets.FilteredSelectMultiple("queues", is_stacked=False),
        help_text="Every clock of these queues' requests counts this calendar's open time. "
        "A queue has at most one calendar: choosing it here takes it from another.",
    )

    class Meta:
        model = BusinessCalendar
        fields = ["name", "time_zone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["queues"].initial = self.instance.queues.all()


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    form = BusinessCalendarForm
    list_display = ["name", "time_zone", "queue_names"]
    inlines = [OpeningHoursInline, HolidayInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("queues")

    @admin.display(description="queues")
    def queue_names(self, calendar):
        return ", ".join(queue.name for queue in calendar.queues.all()) or "—"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        chosen = form.cleaned_data["queues"]
        form.instance.queues.exclude(pk__in=chosen).update(calendar=None)
        chosen.update(calendar=form.instance)


# Deliveries and notifications: records, read-only ---------------------------------------


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(HookDelivery)
class HookDeliveryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "created_at",
        "ticket",
        "kind",
        "target",
        "state",
        "attempts",
        "response_status",
        "last_attempt_at",
    ]
    list_filter = ["state", "kind"]
    list_select_related = ["ticket"]
    search_fields = ["ticket__number", "target"]
    date_hierarchy = "created_at"
    actions = ["deliver_again"]

    @admin.action(description="Deliver the selected hooks again")
    def deliver_again(self, request, queryset):
        pending = list(
            queryset.exclude(state=HookDelivery.State.DELIVERED).values_list("pk", flat=True)
        )
        for pk in pending:
            deliver_hook.delay(pk)
        self.message_user(request, f"{len(pending)} sent again.", messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "recipient", "address", "ticket", "kind", "seen_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient", "ticket"]
    search_fields = ["ticket__number", "recipient__username", "address"]
    date_hierarchy = "created_at"
