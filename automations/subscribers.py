"""What the automations answer: every trigger's domain event runs the rules for it, and a
provisioning endpoint's answer is written on its request."""

from django.db import transaction

from automations import engine
from automations.actions import PROVISIONING
from automations.models import Action, Trigger, active_triggers
from integrations import webhooks
from tickets import events, workflow
from tickets.models import DomainEvent, Ticket


def run_rules(event: DomainEvent) -> None:
    engine.answer_event(event)


def _wanted(event: DomainEvent) -> bool:
    """An event some active rule answers; the message that opened a request is its
    CREATED trigger, not an inbound message."""
    if event.name == events.MESSAGE_RECEIVED and event.payload.get("first"):
        return False
    return event.name in active_triggers()


def record_provisioning_answer(delivery, attempt) -> None:
    """A provisioning call's answer, as an internal note on its request (the delivery's
    reference names both), each attempt's, so a failure is seen where the work is."""
    fields = dict(part.split(":", 1) for part in delivery.reference.split() if ":" in part)
    ticket = Ticket.objects.filter(pk=fields.get("ticket")).first()
    action = Action.objects.select_related("rule", "macro").filter(pk=fields.get("action")).first()
    if ticket is None or ticket.is_read_only:
        return
    source = action.rule or action.macro if action else None
    answer = f"HTTP {attempt.status}" if attempt.status else attempt.error
    text = f"Provisioning at {delivery.url} answered {answer}."
    if attempt.response_excerpt:
        text += f"\n\n{attempt.response_excerpt}"
    # named after its rule, whose rules then leave the note alone (no loop through notes)
    chain = [action.rule_id] if action and action.rule_id else []
    label = source.label if source else "provisioning"
    with transaction.atomic(), workflow.automated(label, rules=chain):
        workflow.add_note(ticket, text=text, by=None)


def subscribe() -> None:
    triggers = [value for value in Trigger.values if value != Trigger.TIME]
    events.subscribe(triggers, run_rules, key="automations.rules", when=_wanted)
    webhooks.on_attempt(PROVISIONING, record_provisioning_answer)
