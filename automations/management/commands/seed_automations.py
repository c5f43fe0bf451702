"""The demo's automations, after seed_demo: two rules and a macro written against the
demo's names. get_or_create'd by name, so a second run adds nothing; a name the demo
lacks (a database without seed_demo) leaves its rule out, said so."""

from django.core.management.base import BaseCommand
from django.db import transaction

from automations.models import Action, Condition, Macro, Rule, TimeBasis, Trigger
from tickets.models import Category, Priority, Queue, ReplyTemplate, Status, Tag

F, Op, K = Condition.Field, Condition.Operator, Action.Kind


class Command(BaseCommand):
    help = "Add the demo's automation rules and macro (after seed_demo)."

    @transaction.atomic
    def handle(self, *args, **options):
        critical = Priority.objects.filter(name="Critical").first()
        waiting = Status.objects.filter(base=Status.Base.POSTPONED).order_by("pk").first()
        refunds = Category.objects.filter(name="Refunds").first()
        refunded = ReplyTemplate.objects.filter(name="Refund issued").first()
        billing = Queue.objects.filter(name="Billing").first()
        if not all([critical, waiting, refunds, refunded, billing]):
            self.stdout.write("The demo's configuration is missing: run seed_demo first.")
            return
        outage, made = Rule.objects.get_or_create(
            name="An outage is critical",
            defaults={
                "trigger": Trigger.CREATED,
                "is_active": True,
                "order": 10,
                "description": "A new request about an outage becomes critical at once.",
            },
        )
        if made:
            Condition.objects.create(
                rule=outage, field=F.SUBJECT, operator=Op.CONTAINS, value="outage"
            )
            Action.objects.create(rule=outage, order=1, kind=K.SET_PRIORITY, priority=critical)
            tag, _ = Tag.objects.get_or_create(name="outage")
            Action.objects.create(rule=outage, order=2, kind=K.ADD_TAG, tag=tag)
        reminder, made = Rule.objects.get_or_create(
            name="Waiting three days: remind the owner",
            defaults={
                "trigger": Trigger.TIME,
                "time_basis": TimeBasis.IDLE,
                "hours": 72,
                "is_active": True,
                "order": 20,
            },
        )
        if made:
            Condition.objects.create(
                rule=reminder, field=F.BASE_STATUS, operator=Op.IS, value=Status.Base.POSTPONED
            )
            Action.objects.create(
                rule=reminder,
                kind=K.ADD_NOTE,
                value="This request has waited three days without a change: chase it up.",
            )
        refund, made = Macro.objects.get_or_create(
            name="Refund",
            defaults={"description": "Refunds category, the “Refund issued” reply, close."},
        )
        if made:
            refund.queues.add(billing)
            Action.objects.create(macro=refund, order=1, kind=K.SET_CATEGORY, category=refunds)
            Action.objects.create(
                macro=refund, order=2, kind=K.SEND_EMAIL, template=refunded, recipient="contact"
            )
            Action.objects.create(macro=refund, order=3, kind=K.CLOSE_RESOLVED)
        self.stdout.write(
            f"Automations: {Rule.objects.count()} rules, {Macro.objects.count()} macros."
        )
