import json
from datetime import datetime, timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    ActivityFactory,
    AdminFactory,
    ApprovalFactory,
    AttachmentFactory,
    CategoryFactory,
    CompanyFactory,
    ContactFactory,
    CustomFieldFactory,
    EventFactory,
    MessageFactory,
    PriorityFactory,
    PriorityRuleFactory,
    QueueFactory,
    ReplyTemplateFactory,
    SavedViewFactory,
    StageFactory,
    StatusFactory,
    TagFactory,
    TicketFactory,
    UserFactory,
)
from tickets import events, workflow
from tickets.admin import TicketForm
from tickets.models import (
    Activity,
    Approval,
    Attachment,
    BusinessCalendar,
    Category,
    Company,
    Contact,
    CustomField,
    DomainEvent,
    EscalationLevel,
    Event,
    Holiday,
    Message,
    NumberCounter,
    OpeningHours,
    Priority,
    PriorityRule,
    Queue,
    QueuePriorityTime,
    ReplyTemplate,
    SavedView,
    SearchDocument,
    Stage,
    Status,
    Tag,
    Ticket,
)

pytestmark = pytest.mark.django_db

EXAMPLES = {
    Company: CompanyFactory,
    Contact: ContactFactory,
    Queue: QueueFactory,
    Stage: StageFactory,
    Status: StatusFactory,
    Category: CategoryFactory,
    Tag: TagFactory,
    Priority: PriorityFactory,
    PriorityRule: PriorityRuleFactory,
    Ticket: TicketFactory,
    Message: MessageFactory,
    Attachment: AttachmentFactory,
    Event: EventFactory,
    ReplyTemplate: ReplyTemplateFactory,
    CustomField: CustomFieldFactory,
    SavedView: SavedViewFactory,
    Approval: ApprovalFactory,
    Activity: ActivityFactory,
    NumberCounter: lambda: NumberCounter.objects.create(key="REQ-2026-{seq:06}", last_value=41),
    DomainEvent: lambda: events.publish([events.event(events.MESSAGE_SENT, TicketFactory())])[0],
}
# Written only by the workflow or the numbering: the admin shows them, nothing more.
READ_ONLY = {Message, Attachment, Event, NumberCounter, Approval, Activity, DomainEvent}
# Configured in escalation's admin, beside the hooks a level may run (tests/escalation).
CONFIGURED_IN_ESCALATION = {BusinessCalendar, OpeningHours, Holiday, EscalationLevel}


@pytest.fixture
def superuser():
    return AdminFactory()


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


def url(model_or_obj, view: str, *args) -> str:
    opts = model_or_obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def change_url(obj) -> str:
    return url(obj, "change", obj.pk)


def formset(prefix: str, rows=(), initial: int = 0) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": initial}
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def queue_data(queue: Queue, *, delete: Stage | None = None) -> dict:
    """The queue's change form as the browser posts it, optionally deleting a stage."""
    stages = [
        {"id": s.pk, "queue": queue.pk, "name": s.name, "position": s.position}
        | ({"DELETE": "on"} if s == delete else {})
        for s in queue.stages.all()
    ]
    return {
        "name": queue.name,
        "numbering_scheme": queue.numbering_scheme,
        "default_priority": queue.default_priority_id or "",
        **formset("stages", stages, initial=len(stages)),
        **formset("priority_times"),
    }


def ticket_data(ticket: Ticket, **changes) -> dict:
    """The ticket's change form as the browser posts it, with some fields changed."""
    return {
        "subject": ticket.subject,
        "category": ticket.category_id or "",
        "tags": [tag.pk for tag in ticket.tags.all()],
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "priority": ticket.priority_id,
        "owner": ticket.owner_id or "",
        "team": ticket.team_id or "",
        "related_address": ticket.related_address,
        "custom_fields": json.dumps(ticket.custom_fields),
        **formset("messages"),
        **formset("activities"),
        **formset("events"),
        **changes,
    }


def act(client, action: str, *tickets: Ticket, **form):
    """Choose an action on the ticket list; with form data, confirm its intermediate page."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [t.pk for t in tickets]}
    data |= {"confirm": "yes", **form} if form else {"index": 0}
    return client.post(url(Ticket, "changelist"), data, follow=True)


# Every model ---------------------------------------------------------------------------


def test_every_model_is_in_the_admin():
    models = set(apps.get_app_config("tickets").get_models())
    # Alert and completion times are edited inline on their queue; search documents are
    # derived from the requests and kept by the database.
    assert models - {QueuePriorityTime, SearchDocument} - CONFIGURED_IN_ESCALATION == set(EXAMPLES)
    assert all(admin.site.is_registered(model) for model in EXAMPLES)


@pytest.mark.parametrize("model", EXAMPLES, ids=lambda model: model.__name__)
def test_changelist_and_change_page_load(staff_client, model):
    obj = EXAMPLES[model]()

    assert staff_client.get(url(model, "changelist")).status_code == 200
    assert staff_client.get(change_url(obj)).status_code == 200


@pytest.mark.parametrize("model", EXAMPLES, ids=lambda model: model.__name__)
def test_add_page_loads_unless_the_model_is_read_only(staff_client, model):
    response = staff_client.get(url(model, "add"))

    assert response.status_code == (403 if model in READ_ONLY else 200)


@pytest.mark.parametrize("rows", [3, 30])
def test_ticket_changelist_queries_do_not_grow_with_rows(
    staff_client, django_assert_max_num_queries, rows
):
    queue = QueueFactory()
    owner = UserFactory()
    TicketFactory.create_batch(rows, queue=queue, owner=owner, tags=["vip"])

    with django_assert_max_num_queries(7):
        response = staff_client.get(url(Ticket, "changelist"))

    assert len(response.context["cl"].result_list) == rows


@pytest.mark.parametrize("children", [1, 10])
def test_category_changelist_queries_do_not_grow_with_rows(
    staff_client, django_assert_max_num_queries, children
):
    root = CategoryFactory(name="Hardware")
    CategoryFactory.create_batch(children, parent=root)

    with django_assert_max_num_queries(6):
        response = staff_client.get(url(Category, "changelist"))

    assert len(response.context["cl"].result_list) == children + 1


# Queues and stages -------------------------------------------------------------------


def test_adding_a_queue_creates_its_new_and_closed_stages(staff_client):
    stages = [{"name": "Investigating", "position": 1}]
    data = {"name": "Billing", "numbering_scheme": "BIL-{seq:04}", **formset("stages", stages)}
    data |= formset("priority_times")

    response = staff_client.post(url(Queue, "add"), data)

    assert response.status_code == 302
    queue = Queue.objects.get(name="Billing")
    assert [(s.name, s.state) for s in queue.stages.all()] == [
        ("New", Stage.State.NEW),
        ("Investigating", Stage.State.IN_PROGRESS),
        ("Closed", Stage.State.CLOSED),
    ]


def test_a_new_queue_cannot_name_a_stage_like_a_system_one(staff_client):
    data = {"name": "Billing", "numbering_scheme": "BIL-{seq:04}"}
    data |= formset("stages", [{"name": "Closed", "position": 1}]) | formset("priority_times")

    response = staff_client.post(url(Queue, "add"), data)

    assert response.status_code == 200
    assert "Every new queue gets its New and Closed stages." in response.text
    assert not Queue.objects.exists()


def test_queue_with_a_bad_numbering_scheme_is_refused(staff_client):
    data = {"name": "Billing", "numbering_scheme": "BIL-{year}"}
    data |= formset("stages") | formset("priority_times")

    response = staff_client.post(url(Queue, "add"), data)

    assert response.status_code == 200
    assert "The scheme needs exactly one {seq}" in response.text


def test_system_stage_cannot_be_deleted_in_the_queue_form(staff_client):
    queue = QueueFactory()
    new = queue.stage(Stage.State.NEW)

    response = staff_client.post(change_url(queue), queue_data(queue, delete=new))

    assert response.status_code == 200
    assert "“New” is a system stage: every queue keeps it." in response.text
    assert Stage.objects.filter(pk=new.pk).exists()


def test_system_stage_cannot_be_renamed_in_the_queue_form(staff_client):
    queue = QueueFactory()
    data = queue_data(queue) | {"stages-0-name": "Fresh"}

    response = staff_client.post(change_url(queue), data)

    assert response.status_code == 302
    assert queue.stage(Stage.State.NEW).name == "New"


def test_unused_in_progress_stage_can_be_deleted_in_the_queue_form(staff_client):
    queue = QueueFactory(stages=["Investigating", "Waiting"])
    waiting = queue.stages.get(name="Waiting")

    response = staff_client.post(change_url(queue), queue_data(queue, delete=waiting))

    assert response.status_code == 302
    assert list(queue.stages.values_list("name", flat=True)) == ["New", "Investigating", "Closed"]


def test_used_stage_cannot_be_deleted_in_the_queue_form(staff_client):
    ticket = workflow.progress_ticket(TicketFactory(), by=None)

    response = staff_client.post(
        change_url(ticket.queue), queue_data(ticket.queue, delete=ticket.stage)
    )

    assert response.status_code == 200
    assert "“Investigating” cannot be deleted: 1 request is at this stage." in response.text
    assert Stage.objects.filter(pk=ticket.stage.pk).exists()


def test_in_progress_stage_can_be_renamed_but_not_to_a_taken_name(staff_client):
    stage = QueueFactory(stages=["Investigating"]).stages.get(name="Investigating")
    data = {"name": "New", "position": 1}

    response = staff_client.post(change_url(stage), data)

    assert response.status_code == 200
    assert "The queue already has a stage with this name." in response.text
    response = staff_client.post(change_url(stage), data | {"name": "Diagnosing"})
    assert response.status_code == 302
    stage.refresh_from_db()
    assert stage.name == "Diagnosing"


def test_stage_admin_refuses_to_change_or_delete_system_stages(staff_client):
    closed = QueueFactory().stage(Stage.State.CLOSED)

    assert staff_client.get(url(Stage, "delete", closed.pk)).status_code == 403
    assert staff_client.post(change_url(closed), {"name": "Done"}).status_code == 403


def test_stage_admin_explains_why_a_used_stage_cannot_be_deleted(staff_client):
    ticket = workflow.progress_ticket(TicketFactory(), by=None)

    response = staff_client.post(url(Stage, "delete", ticket.stage.pk), {"post": "yes"})

    assert response.status_code == 200
    assert "protected related objects" in response.text
    assert Stage.objects.filter(pk=ticket.stage.pk).exists()


def test_unused_queue_can_be_deleted_with_its_system_stages(staff_client):
    queue = QueueFactory()

    response = staff_client.post(url(Queue, "delete", queue.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Stage.objects.filter(queue_id=queue.pk).exists()


# Statuses and history ----------------------------------------------------------------


@pytest.mark.parametrize("base", Status.Base.values)
def test_builtin_status_cannot_be_changed_or_deleted(staff_client, base):
    status = Status.builtin(base)

    assert staff_client.get(url(Status, "delete", status.pk)).status_code == 403
    assert staff_client.post(change_url(status), {"name": "Renamed"}).status_code == 403


def test_custom_status_can_be_deleted_while_unused(staff_client):
    status = StatusFactory()

    response = staff_client.post(url(Status, "delete", status.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Status.objects.filter(pk=status.pk).exists()


def test_status_in_use_cannot_be_deleted(staff_client):
    status = StatusFactory()
    workflow.postpone_ticket(
        TicketFactory(), until=timezone.now() + timedelta(days=1), status=status, by=None
    )

    response = staff_client.post(url(Status, "delete", status.pk), {"post": "yes"})

    assert response.status_code == 200
    assert "protected related objects" in response.text
    assert Status.objects.filter(pk=status.pk).exists()


def test_events_cannot_be_added_changed_or_deleted(staff_client):
    event = EventFactory()

    assert staff_client.get(url(Event, "add")).status_code == 403
    assert staff_client.post(change_url(event), {"action": "forged"}).status_code == 403
    assert staff_client.post(url(Event, "delete", event.pk), {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.action == "changed"


# Adding and changing tickets ---------------------------------------------------------


def test_adding_a_ticket_goes_through_the_workflow(staff_client, superuser):
    queue = QueueFactory(numbering_scheme="HD-{seq:04}")
    contact = ContactFactory()
    data = {
        "queue": queue.pk,
        "channel": "phone",
        "contact": contact.pk,
        "subject": "Printer on fire",
        "body": "It smokes since this morning.",
        "tags": [TagFactory(name="hardware").pk],
    }

    response = staff_client.post(url(Ticket, "add"), data)

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert ticket.number == "HD-0001"
    assert ticket.owner == superuser  # whoever registers a call handles it
    assert list(ticket.tags.values_list("name", flat=True)) == ["hardware"]
    assert ticket.events.filter(action="created", actor=superuser).exists()
    assert ticket.messages.get().body_text == "It smokes since this morning."


def test_ticket_from_a_customer_needs_a_contact(staff_client):
    data = {"queue": QueueFactory().pk, "channel": "email", "subject": "Help"}

    response = staff_client.post(url(Ticket, "add"), data)

    assert response.status_code == 200
    assert "A request from a customer needs a contact." in response.text
    assert not Ticket.objects.exists()


def test_changing_priority_owner_and_tags_writes_events(staff_client, superuser):
    ticket = TicketFactory()
    high, agent = PriorityFactory(name="High", rank=3), UserFactory()
    data = ticket_data(ticket, priority=high.pk, owner=agent.pk, tags=[TagFactory(name="vip").pk])

    response = staff_client.post(change_url(ticket), data)

    assert response.status_code == 302
    changes = ticket.events.filter(actor=superuser).values_list("field", "new_value")
    assert set(changes) == {("priority", "High"), ("owner", agent.username), ("tags", "vip")}


def test_unchanged_ticket_form_writes_no_events(staff_client):
    ticket = TicketFactory()

    response = staff_client.post(change_url(ticket), ticket_data(ticket))

    assert response.status_code == 302
    assert list(ticket.events.values_list("action", flat=True)) == ["created"]


def seen_at(client, ticket: Ticket) -> str:
    """The hidden "as opened" stamp of the ticket's change form."""
    return client.get(change_url(ticket)).context["adminform"].form["seen_at"].value()


def test_a_save_over_someone_elses_change_is_refused_with_a_reason(staff_client):
    ticket = TicketFactory(subject="Printer")
    opened = seen_at(staff_client, ticket)
    workflow.update_ticket(ticket, by=None, subject="Printer on floor 3")  # a colleague
    high = PriorityFactory(name="High", rank=3)
    data = ticket_data(Ticket.objects.get(pk=ticket.pk), priority=high.pk, seen_at=opened)

    response = staff_client.post(change_url(ticket), data)

    assert response.status_code == 200
    assert "was changed by someone else since you opened it" in response.text
    assert Ticket.objects.get(pk=ticket.pk).priority != high


def test_a_save_from_a_fresh_form_goes_through(staff_client):
    ticket = TicketFactory(subject="Printer")
    data = ticket_data(ticket, subject="Printer jams", seen_at=seen_at(staff_client, ticket))

    assert staff_client.post(change_url(ticket), data).status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).subject == "Printer jams"


def test_a_change_landing_between_the_check_and_the_save_is_told_not_a_crash(
    staff_client, monkeypatch
):
    ticket = TicketFactory(subject="Printer")
    opened = seen_at(staff_client, ticket)
    workflow.update_ticket(ticket, by=None, subject="Printer on floor 3")  # a colleague
    # As if the colleague saved just after the form's check: only the workflow sees it.
    monkeypatch.setattr(TicketForm, "clean_seen_at", lambda form: datetime.fromisoformat(opened))
    data = ticket_data(Ticket.objects.get(pk=ticket.pk), subject="Printer jams", seen_at=opened)

    response = staff_client.post(change_url(ticket), data, follow=True)

    assert response.status_code == 200
    assert "was changed by someone else since you opened it" in response.text
    assert Ticket.objects.get(pk=ticket.pk).subject == "Printer on floor 3"


def test_a_mangled_stamp_asks_for_a_reload(staff_client):
    ticket = TicketFactory(subject="Printer")
    data = ticket_data(ticket, subject="Printer jams", seen_at="yesterday")

    response = staff_client.post(change_url(ticket), data)

    assert "Reload the page and make your change again." in response.text
    assert Ticket.objects.get(pk=ticket.pk).subject == "Printer"


def test_category_outside_the_queue_is_a_form_error(staff_client):
    queue = QueueFactory()
    queue.categories.add(CategoryFactory(name="Billing"))
    ticket = TicketFactory(queue=queue)
    elsewhere = CategoryFactory(name="Hardware")

    response = staff_client.post(change_url(ticket), ticket_data(ticket, category=elsewhere.pk))

    assert response.status_code == 200
    assert f"“Hardware” is not a category of the queue {queue}." in response.text
    ticket.refresh_from_db()
    assert ticket.category is None
    assert ticket.events.count() == 1


def test_deleted_ticket_is_view_only(staff_client):
    ticket = workflow.delete_ticket(TicketFactory(), by=None)

    page = staff_client.get(change_url(ticket))
    response = staff_client.post(change_url(ticket), ticket_data(ticket, subject="Edited"))

    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert response.status_code == 403


# Actions -----------------------------------------------------------------------------


def test_ticket_list_has_no_hard_delete_action(staff_client):
    response = staff_client.get(url(Ticket, "changelist"))

    actions = dict(response.context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions
    assert "soft_delete" in actions


def test_progress_action_moves_to_the_next_stage(staff_client, superuser):
    ticket = TicketFactory()

    response = act(staff_client, "progress", ticket)

    assert "Progressed 1 request." in response.text
    ticket.refresh_from_db()
    assert ticket.stage.name == "Investigating"
    assert ticket.events.filter(action="progressed", actor=superuser).exists()


def test_progressing_a_closed_ticket_reports_the_refusal(staff_client):
    closed = workflow.close_ticket(TicketFactory(), resolved=True, by=None)
    active = TicketFactory()

    response = act(staff_client, "progress", closed, active)

    assert response.status_code == 200
    assert f"{closed.number} is closed; reactivate it before you progress it." in response.text
    assert "Progressed 1 request." in response.text


def test_regress_without_a_reason_asks_again(staff_client):
    ticket = workflow.progress_ticket(TicketFactory(), by=None)

    first = act(staff_client, "regress", ticket)
    response = act(staff_client, "regress", ticket, reason="")

    assert 'name="reason"' in first.text
    assert "Say why the requests go back a stage." in response.text
    ticket.refresh_from_db()
    assert ticket.stage.name == "Investigating"


def test_regress_with_a_reason_moves_back_and_keeps_the_reason(staff_client):
    ticket = workflow.progress_ticket(TicketFactory(), by=None)

    response = act(staff_client, "regress", ticket, reason="Customer sent new logs")

    assert "Regressed 1 request." in response.text
    ticket.refresh_from_db()
    assert ticket.stage.state == Stage.State.NEW
    assert ticket.events.get(action="regressed").reason == "Customer sent new logs"


def test_postpone_action_sets_the_wake_up_time(staff_client):
    ticket = TicketFactory()
    until = timezone.localtime() + timedelta(days=2)

    act(
        staff_client,
        "postpone",
        ticket,
        until_0=until.strftime("%Y-%m-%d"),
        until_1=until.strftime("%H:%M:%S"),
    )

    ticket.refresh_from_db()
    assert ticket.base_status == Status.Base.POSTPONED
    assert ticket.postponed_until == until.replace(microsecond=0)


def test_postponing_into_the_past_is_a_form_error(staff_client):
    ticket = TicketFactory()

    response = act(staff_client, "postpone", ticket, until_0="2020-01-01", until_1="09:00")

    assert "Postpone until a time in the future." in response.text
    ticket.refresh_from_db()
    assert ticket.base_status == Status.Base.ACTIVE


def test_merge_into_an_unknown_number_is_a_form_error(staff_client):
    ticket = TicketFactory()

    response = act(staff_client, "merge", ticket, into="NOPE-1")

    assert "No request has the number NOPE-1." in response.text
    ticket.refresh_from_db()
    assert ticket.base_status == Status.Base.ACTIVE


def test_merge_action_merges_into_the_survivor(staff_client):
    survivor, duplicate = TicketFactory(), TicketFactory()

    response = act(staff_client, "merge", duplicate, into=survivor.number)

    assert f"Merged 1 request into {survivor.number}." in response.text
    duplicate.refresh_from_db()
    assert duplicate.base_status == Status.Base.MERGED
    assert duplicate.merged_into == survivor


def test_close_as_resolved_action(staff_client):
    ticket = TicketFactory()

    act(staff_client, "close_resolved", ticket)

    ticket.refresh_from_db()
    assert (ticket.base_status, ticket.resolved) == (Status.Base.CLOSED, True)
    assert ticket.stage.state == Stage.State.CLOSED


def test_delete_then_restore_actions(staff_client):
    ticket = TicketFactory()

    act(staff_client, "soft_delete", ticket)
    ticket.refresh_from_db()
    assert ticket.base_status == Status.Base.DELETED

    response = act(staff_client, "restore", ticket)
    ticket.refresh_from_db()
    assert ticket.base_status == Status.Base.ACTIVE
    assert "Restored 1 request." in response.text


def test_restoring_a_ticket_that_is_not_deleted_reports_the_refusal(staff_client):
    ticket = TicketFactory()

    response = act(staff_client, "restore", ticket)

    assert f"{ticket.number} is not deleted." in response.text
