from django import forms
from django.db.models import Q
from django_filters import CharFilter, ChoiceFilter, DateFilter, FilterSet

from billing.models import Invoice


class InvoiceFilter(FilterSet):
    q = CharFilter(method="matching", label="Number, request or contact")
    issued_after = DateFilter(
        field_name="issued_at", lookup_expr="date__gte", label="Issued from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip
    issued_before = DateFilter(
        field_name="issued_at", lookup_expr="date__lte", label="Issued until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip
    state = ChoiceFilter(
        choices=[("issued", "Issued"), ("cancelled", "Cancelled")],
        method="in_state",
        empty_label="Any",
        label="State",
    )

    class Meta:
        model = Invoice
        fields = []

    def in_state(self, queryset, name, value):
        return queryset.filter(credit_note__isnull=value == "issued")

    def matching(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__icontains=value)
            | Q(ticket__number__icontains=value)
            | Q(contact__name__icontains=value)
            | Q(contact__email__icontains=value)
        )
