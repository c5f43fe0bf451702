"""Input validation for contacts and companies."""

from django import forms

from tickets import sms
from tickets.models import Company, Contact


class ContactForm(forms.ModelForm):
    """A contact's details. The new-request form embeds it (prefix "new") to create the
    caller inline, so its checks hold on both pages."""

    # longer than the stored E.164 form: people write spaces, dashes and 00
    mobile = forms.CharField(
        max_length=40,
        required=False,
        label="Mobile number",
        help_text="For SMS; with its country code, e.g. +49 151 2345678.",
    )

    class Meta:
        model = Contact
        fields = [
            "name",
            "email",
            "phone",
            "mobile",
            "company",
            "address",
            "can_see_company_requests",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = Company.objects.order_by("name")
        self.fields["company"].empty_label = "No company"
        # The contact whose address this one would duplicate: the page offers to use them.
        self.clashing_contact: Contact | None = None

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if not email:
            return email
        # The database compares addresses case-insensitively; say so before it refuses.
        clash = Contact.objects.with_email(email).exclude(pk=self.instance.pk).first()
        if clash is not None:
            self.clashing_contact = clash
            raise forms.ValidationError(
                "%(contact)s already has this address.",
                code="duplicate_email",
                params={"contact": clash},
            )
        return email

    def clean_mobile(self) -> str:
        if not self.cleaned_data["mobile"].strip():
            return ""
        try:
            return sms.normalise_number(self.cleaned_data["mobile"])
        except sms.InvalidNumber as error:
            raise forms.ValidationError(str(error), code="invalid_mobile") from error


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ["name", "domain", "phone", "address", "notes"]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        # "ACME" and "Acme" are the same company to a person, though not to the index.
        clash = Company.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).first()
        if clash is not None:
            raise forms.ValidationError(
                "There is already a company called %(name)s.",
                code="duplicate_name",
                params={"name": clash.name},
            )
        return name

    def clean_domain(self) -> str:
        return self.cleaned_data["domain"].strip().lower().removeprefix("@")
