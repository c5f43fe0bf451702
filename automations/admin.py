"""Rules and macros are configured here; their runs are read here. A rule whose
conditions or actions name a deleted row is listed as broken (it is skipped until fixed)."""

from django.contrib import admin, messages
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.template.response import TemplateResponse
from django.utils.html import format_html

from automations import engine
from automations.forms import ActionForm, ConditionForm
from automations.models import Action, Condition, Macro, Rule, RuleRun


class PlainChoices:
    """Plain selects for the rows a condition or action names: the add/change/view icons
    beside each of ten of them, on every row, hid the form."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(formfield.widget, RelatedFieldWidgetWrapper):
            formfield.widget = formfield.widget.widget
        return formfield


class ConditionInline(PlainChoices, admin.TabularInline):
    model = Condition
    form = ConditionForm
    extra = 0


class RuleActionInline(PlainChoices, admin.StackedInline):
    model = Action
    form = ActionForm
    fk_name = "rule"
    extra = 0
    fieldsets = [
        (None, {"fields": [("order", "kind"), "value"]}),
        (
            "The row it sets or names",
            {
                "classes": ["collapse"],
                "fields": [
                    ("user", "team"),
                    ("priority", "category", "status"),
                    ("tag", "custom_field", "stage"),
                ],
            },
        ),
        ("Email", {"classes": ["collapse"], "fields": [("template", "recipient")]}),
        ("Webhook or provisioning", {"classes": ["collapse"], "fields": [("url", "secret")]}),
        ("Hours", {"classes": ["collapse"], "fields": ["hours"]}),
    ]


class MacroActionInline(RuleActionInline):
    fk_name = "macro"


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["name", "trigger", "is_active", "order", "health", "runs_link"]
    list_filter = ["is_active", "trigger"]
    list_editable = ["order"]
    search_fields = ["name", "description"]
    fieldsets = [
        (None, {"fields": ["name", "is_active", "order", "description"]}),
        ("When", {"fields": ["trigger", "time_basis", "hours", "match_all"]}),
    ]
    inlines = [ConditionInline, RuleActionInline]
    actions = ["dry_run", "switch_on", "switch_off"]

    def get_queryset(self, request):
        return engine.with_parts(super().get_queryset(request))

    @admin.display(description="health")
    def health(self, rule):
        found = engine.problems(rule)
        if not found:
            return "OK"
        return format_html('<strong style="color:#b02a37">Broken</strong>: {}', " ".join(found))

    @admin.display(description="runs")
    def runs_link(self, rule):
        return format_html('<a href="../rulerun/?rule__id__exact={}">log</a>', rule.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        rule = engine.with_parts(Rule.objects.filter(pk=object_id)).first()
        if rule is not None and request.method == "GET":
            for text in engine.problems(rule):
                messages.warning(request, f"Broken, skipped until fixed: {text}")
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Dry run: which open requests match now")
    def dry_run(self, request, queryset):
        results = [(rule, engine.problems(rule), engine.dry_run(rule)) for rule in queryset]
        return TemplateResponse(
            request,
            "admin/automations/dry_run.html",
            {**self.admin_site.each_context(request), "results": results, "title": "Dry run"},
        )

    @admin.action(description="Switch on", permissions=["change"])
    def switch_on(self, request, queryset):
        broken = [rule.name for rule in queryset if engine.problems(rule)]
        if broken:
            self.message_user(
                request, f"Fix these first, they are broken: {', '.join(broken)}.", messages.ERROR
            )
            return
        switched = queryset.update(is_active=True)
        self.message_user(request, f"{switched} rule(s) switched on.")

    @admin.action(description="Switch off", permissions=["change"])
    def switch_off(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=False)} rule(s) switched off.")


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    filter_horizontal = ["queues"]
    inlines = [MacroActionInline]


@admin.register(RuleRun)
class RuleRunAdmin(admin.ModelAdmin):
    list_display = ["at", "rule", "ticket_number", "outcome", "because", "duration_ms"]
    list_filter = ["outcome", "rule"]
    search_fields = ["ticket__number", "rule__name"]
    list_select_related = ["rule", "ticket"]
    date_hierarchy = "at"

    @admin.display(description="request", ordering="ticket__number")
    def ticket_number(self, run):
        return run.ticket.number

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
