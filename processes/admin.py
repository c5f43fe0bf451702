from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from processes.models import Process, ProcessRun, ProcessStep, StepSubmission


class StepFormSet(forms.BaseInlineFormSet):
    """A process's steps together: positions unique, every branch to a step it has."""

    def clean(self):
        super().clean()
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        positions = [data["position"] for data in kept if data.get("position") is not None]
        if len(positions) != len(set(positions)):
            raise ValidationError("Two steps have the same position; give each its own.")
        for data in kept:
            target = (data.get("next_if") or {}).get("go_to_position")
            if target is not None and target not in positions:
                raise ValidationError(
                    f"Step {data['position']} branches to step {target}, which the process "
                    "does not have."
                )


class StepInline(admin.StackedInline):
    model = ProcessStep
    formset = StepFormSet
    extra = 0
    fields = [
        ("position", "name"),
        "instructions",
        ("actor", "team"),
        "fields",
        "needs_approval",
        "next_if",
    ]


@admin.register(Process)
class ProcessAdmin(admin.ModelAdmin):
    list_display = ["name", "queue", "is_active", "available_on_portal"]
    list_filter = ["is_active", "available_on_portal", "queue"]
    search_fields = ["name"]
    inlines = [StepInline]


class SubmissionInline(admin.TabularInline):
    model = StepSubmission
    extra = 0
    can_delete = False
    fields = readonly_fields = [
        "step",
        "answers",
        "submitted_by",
        "submitted_by_contact",
        "submitted_at",
        "approved_by",
        "approved_at",
        "sent_back_by",
        "sent_back_reason",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ProcessRun)
class ProcessRunAdmin(admin.ModelAdmin):
    """Read-only: runs move only through processes.runs (the desk and the portal)."""

    list_display = ["ticket", "process", "state", "current_step", "started_at", "finished_at"]
    list_filter = ["state", "process"]
    list_select_related = ["ticket", "process", "current_step"]
    search_fields = ["ticket__number"]
    readonly_fields = ["ticket", "process", "current_step", "state", "started_at", "finished_at"]
    inlines = [SubmissionInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
