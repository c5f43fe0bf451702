"""The Django admin: configuration is edited here; requests change only through the
workflow (save_model and the changelist actions call tickets.workflow)."""

from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.db.models import BLANK_CHOICE_DASH
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import ngettext
from mptt.admin import DraggableMPTTAdmin
from mptt.forms import TreeNodeChoiceField, TreeNodeMultipleChoiceField

from tickets import accounts, events, workflow
from tickets.forms.people import ContactForm
from tickets.models import (
    Activity,
    Approval,
    Attachment,
    Category,
    Channel,
    Company,
    Contact,
    CustomField,
    DomainEvent,
    Event,
    Level,
    Message,
    NumberCounter,
    Priority,
    PriorityRule,
    Queue,
    QueuePriorityTime,
    ReplyTemplate,
    SavedView,
    Stage,
    Status,
    Tag,
    Ticket,
)


class ExplainProtectedMixin:
    """For models that requests point to, always with PROTECT. When requests block a
    deletion, Django also counts them as "no permission to delete tickets" (TicketAdmin
    never deletes) and shows only that; drop it so the page names the requests in the way."""

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            perms_needed = set()
        return deleted, model_count, perms_needed, protected


# Read-only admins ------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that the workflow or the numbering writes: admins look, never touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Categories ------------------------------------------------------------------------


def _indented_name(category: Category) -> str:
    return f"{'— ' * category.level}{category.name}"


class CategoryChoiceField(TreeNodeChoiceField):
    def label_from_instance(self, obj):
        return _indented_name(obj)


class CategoryMultipleChoiceField(TreeNodeMultipleChoiceField):
    def label_from_instance(self, obj):
        return _indented_name(obj)


class CategoryChoicesMixin:
    """Category options are labelled by their indented name: the tree order already shows
    the path, and Category's str() (the full path) costs a query per option."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Category:
            kwargs.setdefault("form_class", CategoryChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model is Category:
            kwargs.setdefault("form_class", CategoryMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class _Named:
    """A category where only its pk and a label are needed."""

    def __init__(self, category: Category):
        self.pk, self.name = category.pk, category.name

    def __str__(self):
        return self.name


@admin.register(Category)
class CategoryAdmin(ExplainProtectedMixin, CategoryChoicesMixin, DraggableMPTTAdmin):
    list_display = ["tree_actions", "indented_title", "default_owner", "default_team"]
    list_select_related = ["default_owner", "default_team"]
    search_fields = ["name"]
    filter_horizontal = ["members", "teams"]
    fieldsets = [
        (None, {"fields": ["name", "parent"]}),
        (
            "Members",
            {
                "fields": ["members", "teams"],
                "description": "The agents and teams who handle requests of this category.",
            },
        ),
        (
            "Rules",
            {
                "fields": ["default_owner", "default_team", "default_priority"],
                "description": "Defaults for new requests of this category. An empty rule "
                "is taken from the nearest parent category that sets it.",
            },
        ),
    ]

    def action_checkbox(self, obj):
        # Django labels each checkbox with str(obj), the full path: a query per row.
        return super().action_checkbox(_Named(obj))

    @admin.display(description="category")
    def indented_title(self, item):
        # The parent class indents str(item), the full path: a query per row, and
        # redundant next to the indentation.
        return format_html(
            '<div style="text-indent:{}px">{}</div>',
            item.level * self.mptt_level_indent,
            item.name,
        )


# People ------------------------------------------------------------------------------


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ["name", "email", "phone", "can_see_company_requests"]
    extra = 0
    show_change_link = True


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "phone"]
    search_fields = ["name", "domain"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(ExplainProtectedMixin, admin.ModelAdmin):
    form = ContactForm  # its checks: the address unique, the mobile number in E.164
    list_display = ["name", "email", "phone", "mobile", "company"]
    list_select_related = ["company"]
    search_fields = ["name", "email", "phone", "mobile"]
    autocomplete_fields = ["company", "user"]
    fields = [
        "name",
        "email",
        "phone",
        "mobile",
        "company",
        "address",
        "user",
        "can_see_company_requests",
    ]
    actions = ["invite_to_portal"]

    @admin.action(description="Invite to the customer portal (mails a link to set a password)")
    def invite_to_portal(self, request, queryset):
        invited = 0
        for contact in queryset.select_related("user"):
            try:
                accounts.invite_contact(contact)
            except ValueError as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                invited += 1
        self.message_user(request, f"Invited {invited} contact(s) to the portal.")


# Priorities ------------------------------------------------------------------------


class PriorityRuleInline(admin.TabularInline):
    model = PriorityRule
    fields = ["impact", "urgency"]
    extra = 0
    verbose_name_plural = "priority model cells (impact × urgency) that give this priority"


@admin.register(Priority)
class PriorityAdmin(ExplainProtectedMixin, admin.ModelAdmin):
    list_display = ["name", "rank", "color"]
    ordering = ["rank"]
    inlines = [PriorityRuleInline]


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "priority"]
    list_filter = ["impact", "urgency", "priority"]
    list_select_related = ["priority"]
    fields = ["impact", "urgency", "priority"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


# Statuses --------------------------------------------------------------------------

# Requests become deleted or merged only through their own workflow steps, which always
# use the built-in status; a custom status means one of the other three.
CUSTOM_STATUS_BASES = [Status.Base.ACTIVE, Status.Base.POSTPONED, Status.Base.CLOSED]


@admin.register(Status)
class StatusAdmin(ExplainProtectedMixin, admin.ModelAdmin):
    list_display = ["name", "base", "is_builtin"]
    list_filter = ["base", "is_builtin"]
    fields = ["name", "base"]

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "base":
            kwargs["choices"] = BLANK_CHOICE_DASH + [
                (base.value, base.label) for base in CUSTOM_STATUS_BASES
            ]
            kwargs["help_text"] = "The built-in status this one means for the workflow."
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # Requests keep their status's base beside it (Ticket.base_status): a new base
        # for a status in use would leave them filed under the old one.
        if obj is not None and obj.tickets.exists():
            return ["base"]
        return []

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.is_builtin)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.is_builtin)


# Queues and stages -------------------------------------------------------------------


class StageInlineForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.is_system:
            # New and Closed are the two ends of every queue's workflow.
            self.fields["name"].disabled = True
            self.fields["position"].disabled = True


SYSTEM_NAMES = {Stage.State.NEW.label, Stage.State.CLOSED.label}


class StageFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if form.instance.is_system and DELETION_FIELD_NAME in form.fields:
            # Greyed out in the browser; clean() still refuses a forged deletion.
            form.fields[DELETION_FIELD_NAME].widget.attrs["disabled"] = True

    def clean(self):
        errors = []
        for form in self.forms:
            stage, deleting = form.instance, form.cleaned_data.get(DELETION_FIELD_NAME)
            if deleting and stage.pk is not None:
                errors.extend(self._deletion_errors(stage))
            elif self.instance.pk is None and form.cleaned_data.get("name") in SYSTEM_NAMES:
                form.add_error("name", "Every new queue gets its New and Closed stages.")
        if errors:
            raise ValidationError(errors)
        # Only now: Django's own check of a protected deletion lists every request.
        super().clean()

    def _deletion_errors(self, stage: Stage) -> list[str]:
        if stage.is_system:
            return [f"“{stage.name}” is a system stage: every queue keeps it."]
        used = stage.tickets.count()
        if not used:
            return []
        return [
            ngettext(
                "“%(name)s” cannot be deleted: %(count)d request is at this stage.",
                "“%(name)s” cannot be deleted: %(count)d requests are at this stage.",
                used,
            )
            % {"name": stage.name, "count": used}
        ]


class StageInline(admin.TabularInline):
    model = Stage
    form = StageInlineForm
    formset = StageFormSet
    fields = ["name", "state", "position"]
    readonly_fields = ["state"]
    extra = 0

    def get_queryset(self, request):
        # Each row's title is str(stage), which names its queue.
        return super().get_queryset(request).select_related("queue")


class QueuePriorityTimeInline(admin.TabularInline):
    model = QueuePriorityTime
    fields = ["priority", "alert_minutes", "completion_minutes"]
    extra = 0
    verbose_name = "alert and completion time"
    verbose_name_plural = "alert and completion times per priority"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("queue", "priority")


@admin.register(Queue)
class QueueAdmin(ExplainProtectedMixin, CategoryChoicesMixin, admin.ModelAdmin):
    list_display = ["name", "email_address", "numbering_scheme", "is_open_to_portal"]
    list_filter = ["is_open_to_portal"]
    search_fields = ["name", "email_address"]
    filter_horizontal = ["categories", "members", "teams", "portal_tags"]
    inlines = [StageInline, QueuePriorityTimeInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "email_address",
                    "numbering_scheme",
                    "default_priority",
                    "categories",
                    "signature",
                    "calendar",
                    "open_activities_block_close",
                ],
                "description": "A new queue gets its New and Closed stages by itself; add "
                "the in-progress steps between them under Stages.",
            },
        ),
        ("Who works it", {"fields": ["members", "teams"]}),
        (
            "Customer portal",
            {
                "fields": [
                    "is_open_to_portal",
                    "portal_owner",
                    "portal_team",
                    "portal_priority",
                    "portal_category",
                    "portal_tags",
                ],
                "description": "Requests that contacts open on the portal get these.",
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            obj.add_system_stages()

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # StageAdmin refuses to delete New and Closed on their own; with their queue they go.
        if self.admin_site.get_model_admin(Stage).has_delete_permission(request):
            perms_needed.discard(Stage._meta.verbose_name)
        return deleted, model_count, perms_needed, protected


class StageForm(forms.ModelForm):
    def clean_name(self):
        name = self.cleaned_data["name"]
        # The queue is read-only once the stage exists, so Django skips the (queue, name)
        # constraint; check it here rather than fail on save.
        if (
            self.instance.pk
            and Stage.objects.filter(queue_id=self.instance.queue_id, name=name)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise ValidationError("The queue already has a stage with this name.")
        return name


@admin.register(Stage)
class StageAdmin(ExplainProtectedMixin, admin.ModelAdmin):
    form = StageForm
    list_display = ["name", "queue", "state", "position"]
    list_filter = ["queue", "state"]
    list_select_related = ["queue"]
    fields = ["queue", "name", "state", "position"]

    def get_readonly_fields(self, request, obj=None):
        # New and Closed come with the queue, so every stage added here is in progress;
        # a stage stays in its queue because its requests do.
        return ["state"] if obj is None else ["queue", "state"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.is_system)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.is_system)


# Other configuration -----------------------------------------------------------------


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "purpose", "queue"]
    list_filter = ["purpose", "queue"]
    list_select_related = ["queue"]
    search_fields = ["name", "subject", "body"]
    fields = ["name", "purpose", "queue", "subject", "body"]


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "kind", "position"]
    list_filter = ["kind"]
    search_fields = ["name", "key"]
    prepopulated_fields = {"key": ["name"]}
    filter_horizontal = ["queues"]
    fields = ["name", "key", "kind", "choices", "queues", "position"]


@admin.register(NumberCounter)
class NumberCounterAdmin(ReadOnlyAdmin):
    list_display = ["key", "last_value"]
    search_fields = ["key"]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "team", "created_at"]
    list_select_related = ["owner", "team"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["owner"]
    fields = ["name", "owner", "team", "query"]


# Messages and history ----------------------------------------------------------------


def _download_link(attachment: Attachment) -> str:
    """Through the one download view: the stored file's own URL is not served."""
    return format_html('<a href="{}">Download</a>', attachment.get_absolute_url())


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ["filename", "content_type", "size", "content_id", "download"]
    readonly_fields = fields

    @admin.display(description="file")
    def download(self, attachment):
        return _download_link(attachment)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "ticket", "kind", "direction", "sender", "subject", "is_public"]
    list_filter = ["kind", "direction", "is_public", "is_external", "created_at"]
    list_select_related = ["ticket", "author", "author_contact"]
    search_fields = ["ticket__number", "subject", "from_address", "message_id"]
    inlines = [AttachmentInline]
    fieldsets = [
        (
            None,
            {"fields": ["ticket", "kind", "direction", "is_public", "is_external", "is_pinned"]},
        ),
        ("Sender", {"fields": ["created_at", "author", "author_contact", "time_units"]}),
        ("Sending", {"fields": ["sent_at", "send_error"]}),
        ("Content", {"fields": ["subject", "body_text", "body_html"]}),
        (
            "Mail headers",
            {
                "fields": [
                    "from_address",
                    "to",
                    "cc",
                    "bcc",
                    "message_id",
                    "in_reply_to",
                    "references",
                    "raw",
                ],
                "classes": ["collapse"],
            },
        ),
    ]

    @admin.display(description="from")
    def sender(self, message):
        return message.sender_name


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["filename", "content_type", "size", "message"]
    list_select_related = ["message__ticket"]
    search_fields = ["filename", "message__ticket__number"]
    exclude = ["file"]
    readonly_fields = ["download"]

    @admin.display(description="file")
    def download(self, attachment):
        return _download_link(attachment)


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    """Asked and decided through the workflow (desk, portal, mailed link) only."""

    list_display = ["ticket", "stage", "requested_at", "requested_by", "approved", "decided_at"]
    list_filter = ["approved", "requested_at"]
    list_select_related = ["ticket", "stage__queue", "requested_by"]
    search_fields = ["ticket__number", "text"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    """Scheduled, done and cancelled through the workflow (desk, automations) only."""

    list_display = ["title", "ticket", "state", "assignee", "team", "due_at", "via", "closed_at"]
    list_filter = ["state", "due_at"]
    list_select_related = ["ticket", "assignee", "team"]
    search_fields = ["title", "ticket__number"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["at", "ticket", "action", "field", "old_value", "new_value", "actor"]
    list_filter = ["action", "field", "at"]
    list_select_related = ["ticket", "actor"]
    search_fields = ["ticket__number", "reason"]


@admin.register(DomainEvent)
class DomainEventAdmin(ReadOnlyAdmin):
    """What the other apps were told. An event whose subscribers failed shows its error
    here; beat dispatches it again, or an admin does now."""

    list_display = ["at", "name", "ticket", "actor", "dispatched_at", "attempts"]
    list_filter = ["name", ("dispatched_at", admin.EmptyFieldListFilter)]
    list_select_related = ["ticket", "actor"]
    search_fields = ["ticket__number"]
    actions = ["dispatch_again"]

    @admin.action(description="Dispatch the selected events to their waiting subscribers")
    def dispatch_again(self, request, queryset):
        done = events.dispatch(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{done} event(s) dispatched.")


# Tickets -----------------------------------------------------------------------------


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ["created_at", "kind", "direction", "sender", "excerpt", "is_public"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        # Each row's title is str(message), which names its ticket.
        return super().get_queryset(request).select_related("ticket", "author", "author_contact")

    @admin.display(description="from")
    def sender(self, message):
        return message.sender_name

    @admin.display(description="message")
    def excerpt(self, message):
        return Truncator(message.body_text or message.subject).chars(120)


class ActivityInline(ReadOnlyInline):
    model = Activity
    fields = ["title", "state", "assignee", "team", "due_at", "via", "closed_by", "closed_at"]
    readonly_fields = fields
    verbose_name_plural = "activities"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("assignee", "team", "closed_by")


class EventInline(ReadOnlyInline):
    model = Event
    fields = ["at", "actor", "action", "field", "old_value", "new_value", "reason"]
    readonly_fields = fields
    verbose_name_plural = "history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class TicketForm(forms.ModelForm):
    """Refuses here, next to the field, what the workflow would refuse on save."""

    # When the request was last changed as this form was opened: a save over someone
    # else's change since is refused, as on the desk (workflow._ensure_fresh). Text, so
    # the microseconds survive the round trip.
    seen_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_at"].initial = self.instance.updated_at.isoformat()
        if self.instance.pk and "urgency" in self.fields:
            self.fields["urgency"].help_text = (
                "A new impact or urgency takes the priority from the priority model, "
                "unless you choose the priority too."
            )

    def ticket_queue(self) -> Queue | None:
        return self.instance.queue

    def clean_seen_at(self) -> datetime | None:
        seen = self.cleaned_data.get("seen_at")
        if not self.instance.pk or not seen:
            return None
        try:
            seen_at = datetime.fromisoformat(seen)
        except ValueError:
            raise ValidationError("Reload the page and make your change again.") from None
        current = Ticket.objects.filter(pk=self.instance.pk).values_list("updated_at", flat=True)
        if current.first() != seen_at:
            raise ValidationError(
                f"{self.instance.number} was changed by someone else since you opened it; "
                "reload it and make your change again."
            )
        return seen_at

    def clean(self):
        cleaned_data = super().clean()
        queue, category = self.ticket_queue(), cleaned_data.get("category")
        if queue and "category" in self.changed_data and not queue.accepts_category(category):
            self.add_error("category", f"“{category}” is not a category of the queue {queue}.")
        return cleaned_data


LEVEL_CHOICES = BLANK_CHOICE_DASH + Level.choices


class TicketAddForm(TicketForm):
    body = forms.CharField(
        label="First message",
        widget=forms.Textarea,
        required=False,
        help_text="What the customer wrote or said. An internal request starts with this "
        "as an internal note.",
    )
    impact = forms.ChoiceField(choices=LEVEL_CHOICES, required=False)
    urgency = forms.ChoiceField(
        choices=LEVEL_CHOICES,
        required=False,
        help_text="Give impact or urgency to take the priority from the priority model.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["priority"].required = False
        self.fields["priority"].help_text = (
            "Leave empty to derive it: from impact × urgency, else the category's rule, "
            "else the queue's default."
        )

    def ticket_queue(self) -> Queue | None:
        return self.cleaned_data.get("queue")

    def clean(self):
        cleaned_data = super().clean()
        queue = cleaned_data.get("queue")
        if cleaned_data.get("channel") != Channel.INTERNAL and not cleaned_data.get("contact"):
            self.add_error("contact", "A request from a customer needs a contact.")
        if queue and queue.stage(Stage.State.NEW) is None:
            self.add_error("queue", f"The queue {queue} has no New stage.")
        if not cleaned_data.get("priority") and not Priority.objects.exists():
            self.add_error("priority", "No priority is configured yet; add one first.")
        return cleaned_data


class RegressForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the requests go back a stage."},
        help_text="Kept in each request's history.",
    )


class PostponeForm(forms.Form):
    until = forms.SplitDateTimeField(
        widget=AdminSplitDateTime, help_text="The requests become active again then."
    )
    status = forms.ModelChoiceField(
        queryset=Status.objects.filter(base=Status.Base.POSTPONED, is_builtin=False),
        required=False,
        empty_label="Postponed",
        help_text="Or a custom status that means postponed.",
    )

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= timezone.now():
            raise ValidationError("Postpone until a time in the future.")
        return until


class MergeForm(forms.Form):
    into = forms.CharField(
        label="Merge into",
        help_text="The number of the request that stays. The selected requests become "
        "read-only and their messages show on it.",
    )

    def clean_into(self) -> Ticket:
        number = self.cleaned_data["into"].strip()
        survivor = Ticket.objects.filter(number=number).first()
        if survivor is None:
            raise ValidationError(f"No request has the number {number}.")
        return survivor


# Everything else on a request changes only through the workflow.
TICKET_READONLY_FIELDS = [
    "number",
    "queue",
    "contact",
    "channel",
    "collaborators",
    "is_unread",
    "stage",
    "status",
    "base_status",
    "resolved",
    "postponed_until",
    "merged_into",
    "related",
    "created_at",
    "updated_at",
    "closed_at",
    "replied_at",
    "deadline",
    "alert_at",
    "escalation_level",
    "next_escalation_at",
]
# The fields a change form edits, handed to workflow.edit_request when changed.
EDITED_FIELDS = [
    "subject",
    "category",
    "priority",
    "impact",
    "urgency",
    "related_address",
    "custom_fields",
    "owner",
    "team",
    "tags",
]


def _requests(count: int) -> str:
    return ngettext("%d request", "%d requests", count) % count


def _naming(ticket: Ticket, error: workflow.WorkflowError) -> str:
    text = str(error)
    return text if ticket.number in text else f"{ticket.number}: {text}"


@admin.register(Ticket)
class TicketAdmin(CategoryChoicesMixin, admin.ModelAdmin):
    form = TicketForm
    add_form = TicketAddForm
    list_display = [
        "number",
        "subject",
        "queue",
        "stage_name",
        "status",
        "priority",
        "owner",
        "contact",
        "created_at",
        "deadline",
    ]
    list_display_links = ["number", "subject"]
    list_filter = ["queue", "base_status", "priority", "channel"]
    list_select_related = ["queue", "stage", "status", "priority", "owner", "contact"]
    search_fields = ["number", "subject", "contact__email"]
    autocomplete_fields = ["contact", "tags"]
    readonly_fields = TICKET_READONLY_FIELDS
    inlines = [MessageInline, ActivityInline, EventInline]
    view_on_site = False  # get_absolute_url is this very page
    actions = [
        "progress",
        "regress",
        "close_resolved",
        "close_unresolved",
        "reactivate",
        "postpone",
        "merge",
        "soft_delete",
        "restore",
    ]
    add_fieldsets = [
        (None, {"fields": ["queue", "channel", "contact", "subject", "body"]}),
        ("Classification", {"fields": ["category", "tags", ("impact", "urgency"), "priority"]}),
        (
            "Assignment",
            {
                "fields": ["owner", "team"],
                "description": "Left empty, the category's rules assign it; a phone or "
                "internal request otherwise goes to you.",
            },
        ),
    ]
    fieldsets = [
        (None, {"fields": ["number", "subject", "queue", "contact", "channel", "seen_at"]}),
        ("Classification", {"fields": ["category", "tags", ("impact", "urgency"), "priority"]}),
        ("Assignment", {"fields": ["owner", "team", "collaborators", "is_unread"]}),
        (
            "Progress",
            {
                "fields": [
                    ("stage", "status"),
                    ("resolved", "postponed_until"),
                    "merged_into",
                    "related",
                ],
                "description": "Use the actions of the request list to progress, close, "
                "postpone or merge requests.",
            },
        ),
        (
            "Times",
            {
                "fields": [
                    ("created_at", "updated_at"),
                    ("replied_at", "closed_at"),
                    ("alert_at", "deadline"),
                    ("escalation_level", "next_escalation_at"),
                ]
            },
        ),
        ("More", {"fields": ["related_address", "custom_fields"], "classes": ["collapse"]}),
    ]

    @admin.display(description="stage", ordering="stage__state")
    def stage_name(self, ticket):
        return ticket.stage.name

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj else self.add_fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_inlines(self, request, obj):
        # Messages and history exist only once the workflow has created the request.
        return self.inlines if obj else []

    def get_changeform_initial_data(self, request):
        # Requests typed in by hand are mostly calls; email comes in through the mailboxes.
        return {"channel": Channel.PHONE, **super().get_changeform_initial_data(request)}

    def has_change_permission(self, request, obj=None):
        # A merged or deleted request is read-only: its page is for viewing only.
        return super().has_change_permission(request, obj) and not (obj and obj.is_read_only)

    def has_delete_permission(self, request, obj=None):
        # Requests are soft-deleted (and restored) with the actions below.
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # A step the workflow refuses on save (someone changed the request between the
        # form's check and the save) is rolled back and told, not a server error.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except workflow.WorkflowError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            ticket = workflow.create_ticket(
                queue=data["queue"],
                subject=data["subject"],
                by=request.user,
                channel=data["channel"],
                contact=data["contact"],
                body=data["body"],
                category=data["category"],
                priority=data["priority"],
                impact=data["impact"] or None,
                urgency=data["urgency"] or None,
                owner=data["owner"],
                team=data["team"],
                tags=data["tags"],
            )
            # The admin logs and redirects to obj: make it the request just created.
            obj.pk = ticket.pk
            obj.refresh_from_db()
            return
        changes = {name: data[name] for name in EDITED_FIELDS if name in form.changed_data}
        workflow.edit_request(obj, by=request.user, seen_at=data.get("seen_at"), **changes)

    def save_related(self, request, form, formsets, change):
        # Not form.save_m2m(): the workflow sets the tags (create_ticket, edit_request).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # Actions -------------------------------------------------------------------------

    def _run(self, request, queryset, step, done: str) -> None:
        """Take a workflow step for each selected request. A refusal is reported and
        skips only that request; `done` tells the successes, e.g. "Closed {}."."""
        succeeded = 0
        for ticket in queryset:
            try:
                step(ticket)
            except workflow.WorkflowError as error:
                self.message_user(request, _naming(ticket, error), messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, done.format(_requests(succeeded)), messages.SUCCESS)

    def _ask(self, request, queryset, form, *, action: str, title: str, submit: str):
        """The page between choosing an action and taking it, for actions needing input.
        It posts back to the changelist with the selection and confirm=yes."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "queryset": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "submit_label": submit,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/tickets/ticket/action_form.html", context)

    def _bound(self, form_class, request):
        return form_class(request.POST if request.POST.get("confirm") else None)

    @admin.action(description="Progress to the next stage", permissions=["change"])
    def progress(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda ticket: workflow.progress_ticket(ticket, by=request.user),
            "Progressed {}.",
        )

    @admin.action(description="Regress to the previous stage…", permissions=["change"])
    def regress(self, request, queryset):
        form = self._bound(RegressForm, request)
        if not form.is_valid():
            return self._ask(
                request,
                queryset,
                form,
                action="regress",
                title="Regress to the previous stage",
                submit="Regress",
            )
        reason = form.cleaned_data["reason"]
        self._run(
            request,
            queryset,
            lambda ticket: workflow.regress_ticket(ticket, reason=reason, by=request.user),
            "Regressed {}.",
        )

    @admin.action(description="Close as resolved", permissions=["change"])
    def close_resolved(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda ticket: workflow.close_ticket(ticket, resolved=True, by=request.user),
            "Closed {}.",
        )

    @admin.action(description="Close as unresolved", permissions=["change"])
    def close_unresolved(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda ticket: workflow.close_ticket(ticket, resolved=False, by=request.user),
            "Closed {}.",
        )

    @admin.action(description="Reactivate (postponed or closed)", permissions=["change"])
    def reactivate(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda ticket: workflow.reactivate_ticket(ticket, by=request.user),
            "Reactivated {}.",
        )

    @admin.action(description="Postpone…", permissions=["change"])
    def postpone(self, request, queryset):
        form = self._bound(PostponeForm, request)
        if not form.is_valid():
            return self._ask(
                request, queryset, form, action="postpone", title="Postpone", submit="Postpone"
            )
        until, status = form.cleaned_data["until"], form.cleaned_data["status"]
        self._run(
            request,
            queryset,
            lambda ticket: workflow.postpone_ticket(
                ticket, until=until, status=status, by=request.user
            ),
            "Postponed {}.",
        )

    @admin.action(description="Merge into another request…", permissions=["change"])
    def merge(self, request, queryset):
        form = self._bound(MergeForm, request)
        if not form.is_valid():
            return self._ask(
                request,
                queryset,
                form,
                action="merge",
                title="Merge into another request",
                submit="Merge",
            )
        survivor = form.cleaned_data["into"]
        self._run(
            request,
            queryset,
            lambda ticket: workflow.merge_ticket(ticket, into=survivor, by=request.user),
            f"Merged {{}} into {survivor.number}.",
        )

    @admin.action(description="Delete (can be restored)", permissions=["change"])
    def soft_delete(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda ticket: workflow.delete_ticket(ticket, by=request.user),
            "Deleted {}.",
        )

    @admin.action(description="Restore deleted requests", permissions=["change"])
    def restore(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda ticket: workflow.restore_ticket(ticket, by=request.user),
            "Restored {}.",
        )
