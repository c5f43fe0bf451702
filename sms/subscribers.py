"""What the sms app does when something happens to a request (tickets.events)."""

from sms import outbox
from tickets import events
from tickets.models import DomainEvent, Message


def send_outbound_sms(event: DomainEvent) -> None:
    """An agent texted the customer (workflow.send_sms): put it in the outbox."""
    message = Message.objects.filter(
        pk=event.payload["message"], kind=Message.Kind.SMS, direction=Message.Direction.OUTBOUND
    ).first()
    if message is None:  # deleted since; nothing to send
        return
    outbox.enqueue(message)


def subscribe() -> None:
    events.subscribe(
        events.MESSAGE_SENT, send_outbound_sms, key="sms.send", when=events.sent_by_sms
    )
