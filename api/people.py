"""Contacts and companies in the API: found, read, added and edited as in the desk (its
forms check the input, so an address another contact has is refused here too)."""

from django import forms
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, viewsets

from api.config import ByName
from api.inputs import checked, form_data
from api.serializers import CompanySerializer, ContactSerializer
from api.views import IsAgent
from tickets.forms.people import CompanyForm, ContactForm
from tickets.models import Company, Contact

SEARCH = [OpenApiParameter("q", str, description="A part of the name, address or phone.")]


class Editable(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Writes go through the desk's ModelForm; the serializer only checks the shape."""

    permission_classes = [IsAgent]
    lookup_value_converter = "int"
    pagination_class = ByName
    form_class: type
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        found = self.queryset
        # Checked as a form checks it: a NUL byte, which PostgreSQL cannot compare, is a 400.
        box = forms.CharField(required=False, max_length=200)
        try:
            query = box.clean(self.request.query_params.get("q", ""))
        except forms.ValidationError as error:
            raise exceptions.ValidationError({"q": error.messages}) from error
        return found.matching(query) if query else found

    def perform_create(self, serializer):
        serializer.instance = self._saved(self.form_class(form_data(serializer.validated_data)))

    def perform_update(self, serializer):
        instance = serializer.instance
        # A PATCH names some fields; the form checks the whole row, so it gets the rest.
        current = {name: instance.serializable_value(name) for name in self.form_class._meta.fields}
        data = form_data(serializer.validated_data, base=current)
        serializer.instance = self._saved(self.form_class(data, instance=instance))

    def _saved(self, form):
        checked(form)
        return form.save()


@extend_schema_view(list=extend_schema(summary="Contacts", parameters=SEARCH))
class ContactViewSet(Editable):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    form_class = ContactForm


@extend_schema_view(list=extend_schema(summary="Companies", parameters=SEARCH))
class CompanyViewSet(Editable):
    queryset = Company.objects.all()
    serializer_class = CompanySerializer
    form_class = CompanyForm
