"""Invite contacts to the customer portal by address: each gets a one-time link by email
to set their password (a contact without a portal login gets one)."""

from django.core.management.base import BaseCommand, CommandError

from tickets.accounts import invite_contact
from tickets.models import Contact


class Command(BaseCommand):
    help = "Mail contacts a one-time link to set their portal password."

    def add_arguments(self, parser):
        parser.add_argument("emails", nargs="+", metavar="EMAIL")

    def handle(self, *args, emails, **options):
        for email in emails:
            contact = Contact.objects.with_email(email).select_related("user").first()
            if contact is None:
                raise CommandError(f"No contact has the address {email}.")
            try:
                invite_contact(contact)
            except ValueError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"Invited {contact.email}.")
