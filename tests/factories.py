"""factory-boy factories for every model; tests build their world from these."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from automations.models import Action, Condition, Macro, Rule
from billing.models import Item, Subscription
from processes.models import Process, ProcessStep
from tickets import workflow
from tickets.models import (
    Activity,
    Approval,
    Attachment,
    Category,
    Channel,
    Company,
    Contact,
    CustomField,
    Event,
    Level,
    Message,
    Priority,
    PriorityRule,
    Queue,
    QueuePriorityTime,
    ReplyTemplate,
    SavedView,
    Stage,
    Status,
    Tag,
    Ticket,
)

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@helpdesk.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Team {n}")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.test")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.test")
    company = factory.SubFactory(CompanyFactory)


class PortalContactFactory(ContactFactory):
    """A contact with a portal login (password: PASSWORD)."""

    user = factory.SubFactory(
        UserFactory,
        username=factory.SelfAttribute("..email"),
        email=factory.SelfAttribute("..email"),
    )


class PriorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Priority
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Priority {n}")
    rank = factory.Sequence(lambda n: 10 + n)


class PriorityRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriorityRule
        django_get_or_create = ["impact", "urgency"]

    impact = Level.MEDIUM
    urgency = Level.MEDIUM
    priority = factory.SubFactory(PriorityFactory, name="Medium", rank=2)


class QueueFactory(factory.django.DjangoModelFactory):
    """A queue with its system stages and one in-progress stage, "Investigating"."""

    class Meta:
        model = Queue
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Queue {n}")
    email_address = factory.Sequence(lambda n: f"queue{n}@helpdesk.test")
    numbering_scheme = factory.Sequence(lambda n: f"Q{n}-{{seq:05}}")
    default_priority = factory.SubFactory(PriorityFactory, name="Medium", rank=2)

    @factory.post_generation
    def stages(queue, create, extracted, **kwargs):
        if not create:
            return
        queue.add_system_stages()
        for position, name in enumerate(extracted or ["Investigating"], start=1):
            Stage.objects.create(queue=queue, name=name, position=position)


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    queue = factory.SubFactory(QueueFactory)
    name = factory.Sequence(lambda n: f"Stage {n}")
    state = Stage.State.IN_PROGRESS
    position = factory.Sequence(lambda n: 10 + n)


class QueuePriorityTimeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QueuePriorityTime

    queue = factory.SubFactory(QueueFactory)
    priority = factory.SubFactory(PriorityFactory, name="Medium", rank=2)
    alert_minutes = 60
    completion_minutes = 8 * 60


class StatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Status
        django_get_or_create = ["name"]

    name = "Waiting for customer"
    base = Status.Base.POSTPONED


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"tag{n}")


class TicketFactory(factory.Factory):
    """Requests are born through the workflow, like in production."""

    class Meta:
        model = Ticket

    queue = factory.SubFactory(QueueFactory)
    subject = factory.Faker("sentence", nb_words=5)
    contact = factory.SubFactory(ContactFactory)
    channel = Channel.EMAIL
    body = factory.Faker("paragraph")
    by = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return workflow.create_ticket(**kwargs)

    @classmethod
    def _build(cls, model_class, **kwargs):
        raise TypeError("Requests exist only once created through the workflow.")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    kind = Message.Kind.EMAIL
    direction = Message.Direction.INBOUND
    body_text = factory.Faker("paragraph")
    created_at = factory.LazyFunction(timezone.now)


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    message = factory.SubFactory(MessageFactory)
    filename = "invoice.pdf"
    content_type = "application/pdf"
    file = factory.django.FileField(filename="invoice.pdf", data=b"%PDF-1.4 demo")
    size = 13


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    ticket = factory.SubFactory(TicketFactory)
    at = factory.LazyFunction(timezone.now)
    action = "changed"


class ReplyTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReplyTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    subject = "Re: {subject}"
    body = "Hello {contact_name},\n\nThank you for contacting us about {number}.\n\n{agent_name}"


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    name = factory.Sequence(lambda n: f"Field {n}")
    key = factory.Sequence(lambda n: f"field_{n}")


class SavedViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedView

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"View {n}")
    query = "status=active&sort=-created_at"


class ApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Approval

    ticket = factory.SubFactory(TicketFactory)
    stage = factory.LazyAttribute(lambda a: a.ticket.queue.stages.filter(state=1).first())
    text = "A quote: 300 EUR"
    requested_at = factory.LazyFunction(timezone.now)


class ActivityFactory(factory.django.DjangoModelFactory):
    """An open activity, written directly; tests of the history schedule through the
    workflow instead."""

    class Meta:
        model = Activity

    ticket = factory.SubFactory(TicketFactory)
    title = factory.Sequence(lambda n: f"Activity {n}")
    created_at = factory.LazyFunction(timezone.now)


class RuleFactory(factory.django.DjangoModelFactory):
    """An active rule on new requests, without conditions or actions until given some."""

    class Meta:
        model = Rule

    name = factory.Sequence(lambda n: f"Rule {n}")
    trigger = "created"
    is_active = True


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition

    rule = factory.SubFactory(RuleFactory)
    field = Condition.Field.SUBJECT
    operator = Condition.Operator.CONTAINS


class MacroFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Macro

    name = factory.Sequence(lambda n: f"Macro {n}")


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    kind = Action.Kind.ADD_NOTE


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    kind = Item.Kind.SERVICE
    code = factory.Sequence(lambda n: f"SRV-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    unit_price = Decimal("50.00")
    currency = "EUR"
    tax_rate = Decimal("20.00")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    contact = factory.SubFactory(ContactFactory)
    service = factory.SubFactory(ItemFactory, name="Fibre 500")
    reference = factory.Sequence(lambda n: f"LINE-{n}")
    starts_on = factory.LazyFunction(lambda: timezone.localdate())


class ProcessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Process

    name = factory.Sequence(lambda n: f"Process {n}")
    queue = factory.SubFactory(QueueFactory)
    available_on_portal = True


class ProcessStepFactory(factory.django.DjangoModelFactory):
    """A step with one required text field, "note"."""

    class Meta:
        model = ProcessStep

    process = factory.SubFactory(ProcessFactory)
    position = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Step {n}")
    actor = ProcessStep.Actor.AGENT
    fields = factory.LazyFunction(
        lambda: [{"name": "note", "label": "Note", "type": "text", "required": True}]
    )
