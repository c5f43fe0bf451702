from django.apps import AppConfig


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from django_filters import ModelChoiceFilter

        from billing import invoicing
        from billing.models import Item
        from tickets import events
        from tickets.filters import add_list_filter

        # Inside the close's own transaction: a resolved close and its invoice are saved
        # together or not at all, and the request's lock keeps a retried or raced close
        # from making a second one.
        events.subscribe_within(
            events.CLOSED, invoicing.invoice_resolved_close, key="billing.invoice"
        )
        add_list_filter(
            "service",
            ModelChoiceFilter(
                field_name="affected_service__subscription__service",
                queryset=Item.objects.filter(kind=Item.Kind.SERVICE),
                label="Affected service",
            ),
        )
