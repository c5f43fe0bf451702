"""What a reader chooses for a report: its period (local days, the end day included),
the grouping of the insights and a queue of theirs."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from reports.queries import check_period
from tickets.access import queues_for


class ReportForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Until")
    queue = forms.ModelChoiceField(queryset=None, required=False, empty_label="All my queues")
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
