from django.contrib import admin, messages

from billing import invoicing
from billing.models import CreditNote, Invoice, InvoiceLine, InvoiceTemplate, Item, Subscription


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "unit_price",
        "currency",
        "tax_rate",
        "is_traceable",
        "is_active",
    ]
    list_filter = ["kind", "currency", "is_traceable", "is_active"]
    search_fields = ["code", "name"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["contact", "service", "reference", "starts_on", "ends_on", "state"]
    list_filter = ["state", "service"]
    search_fields = ["contact__name", "contact__email", "reference"]
    autocomplete_fields = ["contact"]


class LineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in InvoiceLine._meta.fields if f.name != "id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """As issued: nothing here changes an invoice; a credit note cancels it."""

    list_display = ["number", "issued_at", "ticket", "contact", "total", "currency", "is_cancelled"]
    search_fields = ["number", "ticket__number", "contact__email"]
    date_hierarchy = "issued_at"
    inlines = [LineInline]
    actions = ["resend"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Invoice._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="cancelled")
    def is_cancelled(self, invoice):
        return invoice.is_cancelled

    @admin.action(description="Email the selected invoices to their contacts again")
    def resend(self, request, queryset):
        for invoice in queryset:
            invoice.emailed_at = None
            invoice.save(update_fields=["emailed_at"])
            invoicing.send_invoice(invoice)
        messages.success(request, f"{queryset.count()} invoice(s) are on their way.")


@admin.register(CreditNote)
class CreditNoteAdmin(admin.ModelAdmin):
    list_display = ["number", "issued_at", "invoice", "issued_by"]
    search_fields = ["number", "invoice__number"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in CreditNote._meta.fields]

    def has_add_permission(self, request):
        return False  # made from the desk's invoice list, which numbers them

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InvoiceTemplate)
class InvoiceTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "updated_at"]
