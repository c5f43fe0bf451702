from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower


class CompanyQuerySet(models.QuerySet):
    def matching(self, text: str):
        """The desk's and the API's search box: a part of the name or the domain."""
        return self.filter(models.Q(name__icontains=text) | models.Q(domain__icontains=text))


class Company(models.Model):
    name = models.CharField(max_length=200, unique=True)
    domain = models.CharField(
        max_length=200, blank=True, help_text="Mail domain of its people, e.g. example.com"
    )
    phone = models.CharField(max_length=50, blank=True)
    address = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"

    def __str__(self):
        return self.name


class ContactQuerySet(models.QuerySet):
    def matching(self, text: str):
        """The desk's and the API's search box: a part of the name, address, phone number
        or company name."""
        Q = models.Q
        return self.filter(
            Q(name__icontains=text)
            | Q(email__icontains=text)
            | Q(phone__icontains=text)
            | Q(company__name__icontains=text)
        )

    def with_email(self, address: str):
        """Case-insensitively, the way the lower(email) unique index can serve it (an
        iexact lookup compiles to UPPER(...) LIKE on PostgreSQL, which it cannot)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=address.strip().lower())

    def find_or_create(self, email: str, *, name: str = "") -> "Contact":
        """The contact with this address, or a new one; safe when two callers (two
        mails from the same new sender) make it at once."""
        contact = self.with_email(email).first()
        if contact is not None:
            return contact
        try:
            with transaction.atomic():
                return self.create(email=email.strip(), name=name[:200])
        except IntegrityError:
            return self.with_email(email).get()


class Contact(models.Model):
    """The person a request is for. Requests link to contacts, never to companies."""

    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=50, blank=True)
    # indexed: an incoming SMS finds its contact by it
    mobile = models.CharField(
        max_length=16,
        blank=True,
        db_index=True,
        help_text="For SMS, in international form (+49…); forms write it so.",
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    address = models.TextField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
        help_text="The portal login of this contact, if they have one.",
    )
    can_see_company_requests = models.BooleanField(
        default=False, help_text="May follow every request of their company on the portal."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["name", "email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="contact_email_unique_ci",
                violation_error_message="A contact with this email address already exists.",
            ),
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>" if self.name else self.email
