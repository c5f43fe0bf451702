from celery import shared_task

from billing import invoicing
from billing.models import Invoice


@shared_task(autoretry_for=(Exception,), retry_backoff=60, max_retries=5)
def send_invoice(invoice_pk: int) -> None:
    """Render the invoice's PDF and email it; retried while the PDF or the mail fails."""
    invoicing.send_invoice(Invoice.objects.get(pk=invoice_pk))
