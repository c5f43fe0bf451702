"""The approval request's mail and its one-time link.

The link carries the approval's id, signed; it works once because an approval is decided
once (workflow.decide_approval refuses a second answer)."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from tickets.models import Approval

SALT = "tickets.approvals"
LINK_DAYS = 30


def token_for(approval: Approval) -> str:
    return signing.dumps(approval.pk, salt=SALT)


def approval_for_token(token: str) -> Approval | None:
    try:
        pk = signing.loads(token, salt=SALT, max_age=LINK_DAYS * 24 * 3600)
    except signing.BadSignature:
        return None
    return (
        Approval.objects.for_customer()
        .select_related("ticket__contact", "stage")
        .filter(pk=pk)
        .first()
    )


def mail_context(approval: Approval) -> dict:
    """What the approval request's mail (emails/portal_approval.txt) says; the mail gateway
    sends it when the workflow tells of the request (events.APPROVAL_REQUESTED)."""
    url = f"{settings.SITE_URL}{reverse('portal:approval_link', args=[token_for(approval)])}"
    return {
        "approval": approval,
        "ticket": approval.ticket,
        "contact": approval.ticket.contact,
        "url": url,
    }
