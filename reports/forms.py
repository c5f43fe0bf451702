"""What a reader chooses for a report: its period (local days, the end day included),
the grouping of the insights and a queue of theirs."""

from datetime import datetime, time, timedelta

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from mptt.forms import TreeNodeChoiceField

from reports.queries import check_period
from tickets.access import queues_for
from tickets.forms.request import custom_form_field
from tickets.models import Category, Channel, CustomField, Priority, Tag, Ticket


class ReportForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Until")
    queue = forms.ModelChoiceField(queryset=None, required=False, empty_label="All my queues")
    priority = forms.ModelChoiceField(
        queryset=Priority.objects.all(), required=False, empty_label="Any"
    )
    category = TreeNodeChoiceField(
        queryset=Category.objects.all(), required=False, empty_label="Any",
        help_text="With its subcategories.",
    )  # fmt: skip
    channel = forms.ChoiceField(choices=[("", "Any"), *Channel.choices], required=False)
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.order_by("name"), required=False, empty_label="Any"
    )
    # Typed, not picked: there can be thousands of companies.
    company = forms.CharField(required=False, max_length=200, help_text="A part of its name.")
    by = forms.ChoiceField(
        choices=[("day", "Day"), ("week", "Week"), ("month", "Month")],
        required=False,
        label="Per",
    )

    def __init__(self, data=None, *, user, **kwargs):
        today = timezone.localdate()
        defaults = {"start": today - timedelta(days=29), "end": today, "by": "day"}
        super().__init__({**defaults, **(data.dict() if data else {})}, **kwargs)
        self.fields["queue"].queryset = queues_for(user).order_by("name")
        self.custom_fields = list(CustomField.objects.all())
        for custom in self.custom_fields:
            self.fields[f"cf_{custom.key}"] = custom_form_field(custom)

    @property
    def custom_filters(self) -> list:
        return [self[f"cf_{custom.key}"] for custom in self.custom_fields]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            tz = timezone.get_current_timezone()
            period = (
                timezone.make_aware(datetime.combine(start, time.min), tz),
                timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
            )
            try:
                data["period"] = check_period(*period)
            except ValueError as error:
                self.add_error("end", str(error))
        data["by"] = data.get("by") or "day"
        return data

    def narrowed(self, tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
        """The requests the chosen filters leave."""
        data = self.cleaned_data
        if data["queue"] is not None:
            tickets = tickets.filter(queue=data["queue"])
        if data["priority"] is not None:
            tickets = tickets.filter(priority=data["priority"])
        if data["category"] is not None:
            tickets = tickets.filter(
                category__in=data["category"].get_descendants(include_self=True)
            )
        if data["channel"]:
            tickets = tickets.filter(channel=data["channel"])
        if data["tag"] is not None:
            tickets = tickets.filter(tags=data["tag"])
        if data["company"]:
            tickets = tickets.filter(contact__company__name__icontains=data["company"])
        for custom in self.custom_fields:
            value = data.get(f"cf_{custom.key}")
            if value not in (None, ""):
                tickets = tickets.with_custom_value(custom, value)
        return tickets
