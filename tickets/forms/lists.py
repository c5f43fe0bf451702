"""Input of the request lists: bulk actions on selected requests and saved views."""

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.http import QueryDict
from django.utils import timezone

from tickets.access import queues_for, visible_tickets
from tickets.filters import agent_label, agents_for, teams_for
from tickets.models import Priority, SavedView, Status
from tickets.workflow import UNSET

NOBODY = "nobody"
RESOLVED_CHOICES = [("yes", "Yes, resolved"), ("no", "No, not resolved")]


def list_query(query: str | QueryDict, *, keep_page: bool = False) -> str:
    """A list's query string without empty fields (and, unless kept, its page number):
    what a saved view keeps and what a bulk action returns to."""
    params = QueryDict(query) if isinstance(query, str) else query
    kept = QueryDict(mutable=True)
    for key, values in params.lists():
        if key == "csrfmiddlewaretoken" or (key == "page" and not keep_page):
            continue
        values = [v for v in values if v.strip()]
        if values:
            kept.setlist(key, values)
    return kept.urlencode()


def _resolved(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class BulkActionForm(forms.Form):
    """One action for every selected request; which fields count depends on the action."""

    ACTIONS = [
        ("assign", "Assign"),
        ("status", "Change status"),
        ("priority", "Change priority"),
        ("queue", "Move to queue"),
        ("tags", "Set tags"),
        ("close", "Close"),
        ("merge", "Merge"),
    ]

    action = forms.ChoiceField(choices=ACTIONS)
    owner = forms.ChoiceField(required=False, label="Owner")
    team = forms.ChoiceField(required=False, label="Team")
    status = forms.ModelChoiceField(
        queryset=Status.objects.exclude(base=Status.Base.MERGED), required=False
    )
    postponed_until = forms.DateTimeField(
        required=False,
        label="Postponed until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="For a postponed status.",
    )
    resolved = forms.TypedChoiceField(
        choices=RESOLVED_CHOICES,
        coerce=_resolved,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        label="Resolved?",
    )
    priority = forms.ModelChoiceField(queryset=Priority.objects.all(), required=False)
    queue = forms.ModelChoiceField(queryset=None, required=False)
    tags = forms.CharField(
        required=False, help_text="Comma-separated; replaces the requests' tags."
    )
    merge_into = forms.CharField(
        required=False, label="Into request", help_text="The number of the request to keep."
    )

    def __init__(self, *args, user: AbstractBaseUser, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.agents = {str(a.pk): a for a in agents_for(user)}
        self.teams = {str(t.pk): t for t in teams_for(user)}
        keep = [("", "Keep as it is"), (NOBODY, "Nobody")]
        self.fields["owner"].choices = keep + [(k, agent_label(a)) for k, a in self.agents.items()]
        self.fields["team"].choices = keep + [(k, t.name) for k, t in self.teams.items()]
        self.fields["queue"].queryset = queues_for(user)

    def clean_owner(self):
        return self._person(self.cleaned_data["owner"], self.agents)

    def clean_team(self):
        return self._person(self.cleaned_data["team"], self.teams)

    @staticmethod
    def _person(choice: str, known: dict):
        if not choice:
            return UNSET
        return None if choice == NOBODY else known[choice]

    def clean_postponed_until(self):
        until = self.cleaned_data["postponed_until"]
        if until is not None and until <= timezone.now():
            raise forms.ValidationError("Pick a time in the future.")
        return until

    def clean_tags(self):
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]

    def clean_merge_into(self):
        number = self.cleaned_data["merge_into"].strip()
        if not number:
            return None
        target = visible_tickets(self.user).filter(number__iexact=number).first()
        if target is None:
            raise forms.ValidationError(f"There is no request {number} that you can see.")
        return target

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign" and data.get("owner") is UNSET and data.get("team") is UNSET:
            self.add_error("owner", "Choose an owner or a team (or both).")
        if action == "status":
            status = data.get("status")
            if status is None:
                self.add_error("status", "Choose the new status.")
            elif status.base == Status.Base.POSTPONED and data.get("postponed_until") is None:
                self.add_error("postponed_until", "Say until when they are postponed.")
            elif status.base == Status.Base.CLOSED and data.get("resolved") is None:
                self.add_error("resolved", "Say whether they were resolved.")
        required = {
            "priority": ("priority", "Choose the new priority."),
            "queue": ("queue", "Choose the queue to move them to."),
            "tags": ("tags", "Give at least one tag."),
            "close": ("resolved", "Say whether they were resolved."),
            "merge": ("merge_into", "Give the number of the request to merge into."),
        }
        if action in required:
            field, message = required[action]
            if field not in self.errors and data.get(field) in (None, [], ""):
                self.add_error(field, message)
        return data


class SavedViewForm(forms.ModelForm):
    """Keep the list's current filters and sort under a name, optionally for a team."""

    class Meta:
        model = SavedView
        fields = ["name", "team", "query"]
        widgets = {"query": forms.HiddenInput}
        labels = {"name": "View name", "team": "Share with team"}

    def __init__(self, *args, owner: AbstractBaseUser, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.owner = owner
        self.fields["team"].queryset = owner.groups.order_by("name")
        self.fields["team"].empty_label = "Only me"
        self.fields["query"].required = False

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if SavedView.objects.filter(owner=self.instance.owner, name__iexact=name).exists():
            raise forms.ValidationError(
                f"You already have a view named “{name}”; pick another name or delete that one."
            )
        return name

    def clean_query(self):
        return list_query(self.cleaned_data["query"] or "")
