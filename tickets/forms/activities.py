"""The request page's form for a new activity: it checks what an agent typed;
tickets.workflow decides."""

from datetime import datetime

from django import forms
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from tickets.forms.request import AgentChoiceField, RequestForm, agents_of
from tickets.models import Activity


class ActivityForm(RequestForm):
    title = forms.CharField(
        max_length=Activity._meta.get_field("title").max_length,
        error_messages={"required": "Give the activity a title."},
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, strip=True
    )
    assignee = AgentChoiceField(
        queryset=None,
        required=False,
        empty_label="Nobody",
        error_messages={"invalid_choice": "Choose an agent of this request's queue."},
    )
    team = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        empty_label="No team",
        error_messages={"invalid_choice": "Choose one of the teams."},
    )
    due_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        required=False,
        label="Due",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents_of(self.ticket.queue)

    def clean_due_at(self) -> datetime | None:
        due_at = self.cleaned_data["due_at"]
        if due_at is not None and due_at <= timezone.now():
            raise ValidationError("Choose a due time in the future.")
        return due_at
