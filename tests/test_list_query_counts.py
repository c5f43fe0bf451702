"""Every list's query count stays the same when its rows grow (issue "Speed", item 5).

These are the desk, portal and API lists no other test measured that way (the others
are in the tests of their apps). Each test reads its list with a few rows, adds many
more with what the rows show (owners, tags, attachments, charges...), reads it again,
and expects the same number of queries, and the rows on the page, so that it is not
measuring an empty one. A first read before measuring takes out what happens once (a
token's first use is written down, a cache filled).
"""

import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import tokens
from api.models import WebhookSubscription
from billing import charges, invoicing
from billing.models import Invoice
from escalation.models import Notification
from processes import runs
from processes.models import ProcessRun, ProcessStep
from reports import schedules
from reports.models import ReportRun
from tests.factories import (
    ApprovalFactory,
    AttachmentFactory,
    CategoryFactory,
    CompanyFactory,
    ContactFactory,
    CustomFieldFactory,
    EventFactory,
    ItemFactory,
    MacroFactory,
    MessageFactory,
    PortalContactFactory,
    PriorityFactory,
    ProcessFactory,
    ProcessStepFactory,
    QueueFactory,
    ReplyTemplateFactory,
    SavedViewFactory,
    StatusFactory,
    SubscriptionFactory,
    TagFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tickets import workflow
from tickets.models import Message, Status

pytestmark = pytest.mark.django_db

FEW, MORE = 2, 20
D = Decimal


# Measuring


def _shape(sql: str) -> str:
    """The query without its values: the same query for another row looks the same."""
    return re.sub(r"\(\?(, \?)*\)", "(…)", re.sub(r"'[^']*'|\b\d+\b", "?", sql))


def _growth(few: list[str], many: list[str]) -> str:
    extra = Counter(map(_shape, many)) - Counter(map(_shape, few))
    lines = [f"{len(few)} queries for a few rows, {len(many)} for many; run more often:"]
    lines += [f"  {count} × {sql}" for sql, count in extra.most_common()]
    return "\n".join(lines)


def _measured(fetch):
    with CaptureQueriesContext(connection) as captured:
        answer = fetch()
    assert answer.status_code == 200, answer.content[:500]
    return answer, [query["sql"] for query in captured.captured_queries]


def same_queries(fetch, make, *, few=FEW, more=MORE):
    """`make(few)` rows, the list read; `make(more)` rows more, read again: the two
    answers, after checking that the second read took as many queries as the first (and
    if not, saying which queries ran more often)."""
    make(few)
    fetch()
    small, few_queries = _measured(fetch)
    make(more)
    large, many_queries = _measured(fetch)
    assert len(many_queries) == len(few_queries), _growth(few_queries, many_queries)
    return small, large


def html(answer) -> str:
    return answer.content.decode()


def results(answer) -> list:
    data = answer.json()
    return data["results"] if isinstance(data, dict) else data


# Fixtures


@pytest.fixture
def reader(agent_client, agent):
    agent.user_permissions.add(Permission.objects.get(codename="view_reports"))
    return agent_client


@pytest.fixture
def bearer(agent):
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue(agent, name='t').plaintext}"}


@pytest.fixture
def ticket(queue, agent):
    return TicketFactory(queue=queue, by=agent, subject="Router broken")


@pytest.fixture
def customer(db):
    """A contact with a portal login, of a company (the company lists need one)."""
    return PortalContactFactory(
        name="Carla Customer", email="carla@example.test", company=CompanyFactory(name="Acme")
    )


@pytest.fixture
def customer_bearer(customer):
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue(customer.user, name='t').plaintext}"}


def invoiced(ticket, agent, *, cancelled=False) -> Invoice:
    charges.add_charge(ticket, by=agent, description="Repair", unit_price=D("120"), quantity=D(1))
    workflow.close_ticket(ticket, resolved=True, by=agent)
    invoice = Invoice.objects.get(ticket=ticket)
    if cancelled:
        invoicing.issue_credit_note(invoice, by=agent, reason="Mistake")
    return invoice


def _process_run(queue, customer, agent) -> ProcessRun:
    """A run of a process long enough for every test: the customer's step and a team's
    (approved), in turn."""
    team = TeamFactory(name="IT")
    agent.groups.add(team)
    process = ProcessFactory(queue=queue)
    for position in range(1, 2 * (FEW + MORE) + 2):
        theirs = position % 2 == 0
        ProcessStepFactory(
            process=process,
            position=position,
            actor=ProcessStep.Actor.TEAM if theirs else ProcessStep.Actor.CUSTOMER,
            team=team if theirs else None,
            needs_approval=theirs,
        )
    return runs.start_process(process, contact=customer)


def _steps_done(run, customer, agent):
    """`make(count)`: count more rounds of the run: the customer's step done, the team's
    submitted, sent back, submitted again and approved: three rows more on the card."""

    def make(count):
        for n in range(count):
            runs.submit_step(run, _current(run), {"note": f"Answer {n}"}, contact=customer)
            runs.submit_step(run, _current(run), {"note": "Model X1"}, by=agent)
            runs.send_back_step(run, by=agent, reason=f"Wrong model {n}")
            runs.submit_step(run, _current(run), {"note": "Model X2"}, by=agent)
            runs.approve_step(run, by=agent)

    return make


def _current(run) -> ProcessStep:
    return ProcessRun.objects.get(pk=run.pk).current_step


# The desk


def test_the_saved_views_of_the_request_list(agent_client, agent, queue):
    team = TeamFactory()
    agent.groups.add(team)

    def make(count):
        for n in range(count):
            TicketFactory(queue=queue, owner=agent, tags=[f"t{n}"])
            SavedViewFactory(owner=agent)
            SavedViewFactory(owner=UserFactory(), team=team)  # a teammate's, shared

    small, large = same_queries(lambda: agent_client.get("/desk/requests/"), make)
    assert html(small).count('aria-label="Delete the view') == FEW
    assert html(large).count('aria-label="Delete the view') == FEW + MORE
    assert html(large).count('title="Shared with') == FEW + MORE
    assert len(large.context["page"]) == FEW + MORE


def _settings_grow(agent, queue):
    """`make(count)`: count more of every setting the desk's forms offer."""

    def make(count):
        for _ in range(count):
            other = QueueFactory(stages=["Doing", "Checking"])
            other.members.add(agent, UserFactory())
            queue.members.add(UserFactory())
            team = TeamFactory()
            agent.groups.add(team)
            StatusFactory(name=f"Waiting {other.pk}")
            StatusFactory(name=f"Done {other.pk}", base=Status.Base.CLOSED)
            PriorityFactory()
            CategoryFactory(parent=CategoryFactory())
            TagFactory()
            ReplyTemplateFactory(queue=queue)
            CustomFieldFactory(kind="choice", choices="Red\nBlue").queues.add(queue)
            CustomFieldFactory()  # on every queue

    return make


@pytest.mark.parametrize(
    "path",
    [
        "/desk/requests/filters/",
        *(f"/desk/requests/bulk/{action}/" for action in
          ("assign", "status", "priority", "queue")),
        "/desk/requests/new/",
        "/desk/views/fields/",
        "/desk/activities/",
        *(f"/desk/requests/{{number}}/fields/{name}/" for name in
          ("ask", "postpone", "close", "activity")),
        "/desk/requests/{number}/",
    ],
)  # fmt: skip
def test_the_choices_of_the_desks_forms(agent_client, agent, queue, ticket, path):
    url = path.format(number=ticket.number)
    small, large = same_queries(lambda: agent_client.get(url), _settings_grow(agent, queue))
    assert html(large).count("<option") > html(small).count("<option") >= FEW


def test_the_dashboards_queues_statuses_and_priorities(agent_client, agent, queue):
    def make(count):
        for _ in range(count):
            other = QueueFactory()
            other.members.add(agent)
            status = StatusFactory(name=f"Waiting {other.pk}")
            ticket = TicketFactory(queue=other, priority=PriorityFactory(), owner=agent)
            workflow.postpone_ticket(
                ticket, until=timezone.now() + timedelta(days=1), status=status, by=agent
            )

    small, large = same_queries(lambda: agent_client.get("/desk/dashboard/"), make)
    assert len(small.context["queues"]) == 1 + FEW
    assert len(large.context["queues"]) == 1 + FEW + MORE
    assert len(large.context["by_priority"]) == FEW + MORE


def test_the_lists_of_the_request_page(agent_client, agent, queue, ticket):
    """Beyond its conversation and activities (tests/tickets/test_desk_request_page.py):
    related and merged requests, approvals, collaborators, tags, reply templates, the
    customer's other requests, the regressions."""
    investigating = queue.stages.get(name="Investigating")

    def make(count):
        for n in range(count):
            other = TicketFactory(queue=queue, contact=ticket.contact)
            workflow.link_tickets(ticket, other, by=agent)
            workflow.merge_ticket(TicketFactory(queue=queue), into=ticket, by=agent)
            ticket.collaborators.add(UserFactory())
            workflow.set_tags(ticket, tags=[*ticket.tags.all(), f"tag{n}-{other.pk}"], by=agent)
            ReplyTemplateFactory(queue=queue)
            TicketFactory(queue=queue, contact=ContactFactory(company=ticket.contact.company))
            workflow.progress_ticket(ticket, by=agent)
            workflow.regress_ticket(ticket, reason=f"Back {n}", by=UserFactory())
            # Before the request may go on into Investigating: the customer's approval,
            # another agent's, and one this agent decides.
            for asked in (
                {},
                {"asks": "agents", "approver": UserFactory()},
                {"asks": "agents", "approver": agent},
            ):
                ApprovalFactory(ticket=ticket, stage=investigating, text=f"Quote {n}", **asked)

    url = f"/desk/requests/{ticket.number}/"
    small, large = same_queries(lambda: agent_client.get(url), make)
    assert len(small.context["related"]) == FEW
    assert len(large.context["related"]) == FEW + MORE
    assert len(large.context["merged_tickets"]) == FEW + MORE
    assert len(large.context["approvals"]) == 3 * (FEW + MORE)
    assert sum(may for _, may in large.context["approvals"]) == FEW + MORE
    assert len(large.context["collaborators"]) == FEW + MORE
    assert len(large.context["regressions"]) == FEW + MORE
    assert len(large.context["contact_tickets"]) == len(large.context["company_tickets"]) == 5


def test_the_approvals_asked_of_teams_on_the_request_page(agent_client, agent, queue, ticket):
    investigating = queue.stages.get(name="Investigating")
    mine = TeamFactory()
    agent.groups.add(mine)

    def make(count):
        for n in range(count):
            for team in (mine, TeamFactory()):
                ApprovalFactory(
                    ticket=ticket,
                    stage=investigating,
                    asks="agents",
                    approver_team=team,
                    text=f"Quote {n}",
                )

    url = f"/desk/requests/{ticket.number}/"
    small, large = same_queries(lambda: agent_client.get(url), make)
    assert len(small.context["approvals"]) == 2 * FEW
    assert len(large.context["approvals"]) == 2 * (FEW + MORE)
    assert sum(may for _, may in large.context["approvals"]) == FEW + MORE


def test_the_contact_lookup(agent_client):
    def make(count):
        for _ in range(count):
            ContactFactory(name="Smith", phone="+47 22 00 00 00")

    small, large = same_queries(
        lambda: agent_client.get("/desk/contacts/lookup/", {"q": "smith"}), make, more=10
    )
    assert len(small.context["contacts"]) == FEW
    assert len(large.context["contacts"]) == 12  # LOOKUP_LIMIT
    assert html(large).count("Company ") == 12


def test_the_merge_candidates(agent_client, agent, queue, ticket):
    def make(count):
        for _ in range(count):
            status = StatusFactory(name=f"Working {Status.objects.count()}", base="active")
            TicketFactory(queue=queue, subject="Laptop broken", status=status)

    url = f"/desk/requests/{ticket.number}/merge-search/"
    small, large = same_queries(lambda: agent_client.get(url, {"q": "laptop"}), make, more=8)
    assert html(small).count("Merge into it") == FEW
    assert html(large).count("Merge into it") == 10  # the first ten


def test_the_printout_of_a_request(agent_client, agent, ticket):
    def make(count):
        for n in range(count):
            AttachmentFactory(message=MessageFactory(ticket=ticket, author=UserFactory()))
            AttachmentFactory(
                message=MessageFactory(ticket=ticket, author_contact=ContactFactory())
            )
            workflow.add_note(ticket, text=f"Internal {n}", by=agent)  # not printed

    url = f"/desk/requests/{ticket.number}/print/"
    small, large = same_queries(lambda: agent_client.get(url), make)
    assert html(small).count("<article") == 1 + 2 * FEW
    assert html(large).count("<article") == 1 + 2 * (FEW + MORE)
    assert html(large).count("invoice.pdf") == 2 * (FEW + MORE)


def test_the_notifications(agent_client, agent, queue):
    def make(count):
        now = timezone.now()
        for n in range(count):
            Notification.objects.create(
                recipient=agent,
                ticket=TicketFactory(queue=queue),
                kind=Notification.Kind.ASSIGNMENT,
                text=f"Assigned {n}",
                created_at=now,
                seen_at=now if n % 2 else None,
            )

    small, large = same_queries(lambda: agent_client.get("/desk/notifications/"), make)
    assert html(small).count('id="notification-') == FEW
    assert html(large).count('id="notification-') == FEW + MORE


def test_the_macro_panel_of_a_request(agent_client, queue, ticket):
    def make(count):
        for _ in range(count):
            MacroFactory()
            MacroFactory().queues.add(queue)
            MacroFactory().queues.add(QueueFactory())  # not offered here

    url = f"/desk/automations/requests/{ticket.number}/macros/"
    small, large = same_queries(lambda: agent_client.get(url), make)
    assert html(small).count("bi-lightning-charge") == 2 * FEW
    assert html(large).count("bi-lightning-charge") == 2 * (FEW + MORE)


def test_the_bulk_macro_panel(agent_client):
    def make(count):
        for _ in range(count):
            MacroFactory().queues.add(QueueFactory())

    small, large = same_queries(
        lambda: agent_client.get("/desk/automations/macros/bulk/panel/"), make
    )
    assert html(small).count("<option") == 1 + FEW
    assert html(large).count("<option") == 1 + FEW + MORE


def test_the_charges_card(agent_client, agent, ticket):
    def make(count):
        for n in range(count):
            charges.add_charge(ticket, by=agent, item=ItemFactory(), quantity=D(1))
            charges.add_charge(
                ticket, by=agent, description=f"Cable {n}", unit_price=D("5"), quantity=D(2)
            )
            SubscriptionFactory(contact=ticket.contact)  # offered as the affected service

    url = f"/desk/billing/requests/{ticket.number}/charges/"
    small, large = same_queries(lambda: agent_client.get(url), make)
    assert html(small).count('id="charge-') == 2 * FEW
    assert html(large).count('id="charge-') == 2 * (FEW + MORE)
    assert html(large).count("Fibre 500 (LINE-") == FEW + MORE


def test_the_subscriptions_of_a_contact(agent_client):
    contact = ContactFactory()

    def make(count):
        for n in range(count):
            SubscriptionFactory(contact=contact, service=ItemFactory(name=f"Line {n}"))

    url = f"/desk/billing/contacts/{contact.pk}/subscriptions/"
    small, large = same_queries(lambda: agent_client.get(url), make)
    assert html(small).count("list-group-item d-flex") == FEW
    assert html(large).count("list-group-item d-flex") == FEW + MORE


def test_the_desks_invoices_with_credit_notes(agent_client, agent, queue):
    """tests/billing/test_pages.py counts issued invoices; cancelled ones show their
    credit note too."""
    agent.user_permissions.add(Permission.objects.get(codename="add_creditnote"))

    def make(count):
        for n in range(count):
            invoiced(TicketFactory(queue=queue, by=agent), agent, cancelled=bool(n % 2))

    small, large = same_queries(lambda: agent_client.get("/desk/billing/invoices/"), make)
    assert html(small).count("/pdf/") == FEW
    assert html(large).count("/pdf/") == FEW + MORE
    assert html(large).count("cancelled by") == (FEW + MORE) // 2


def _report_rows(name, agent, queue):
    """`make(count)`: count more rows of the report `name`."""

    def make(count):
        for _ in range(count):
            if name in ("analysis", "backlog"):
                other = QueueFactory()
                other.members.add(agent)
                TicketFactory(queue=other, by=agent)
                closed = TicketFactory(queue=other, by=agent)
                charges.add_charge(
                    closed, by=agent, description="Fix", unit_price=D(9), quantity=D(1)
                )
                workflow.close_ticket(closed, resolved=True, by=agent)
            elif name in ("contacts", "companies"):
                contact = ContactFactory()
                ticket = TicketFactory(queue=queue, by=agent, contact=contact)
                charges.add_charge(
                    ticket, by=agent, description="Fix", unit_price=D(9), quantity=D(1)
                )
                workflow.close_ticket(ticket, resolved=True, by=agent)
                TicketFactory(queue=queue, by=agent, contact=contact)
            else:  # agents
                owner = UserFactory()
                queue.members.add(owner)
                ticket = TicketFactory(queue=queue, by=agent, owner=owner)
                workflow.reply_to_customer(ticket, by=owner, body="Done.")
                workflow.close_ticket(ticket, resolved=True, by=owner)

    return make


@pytest.mark.parametrize("name", ["analysis", "contacts", "companies", "agents", "backlog"])
def test_the_reports_tables(reader, agent, queue, name):
    url = f"/desk/reports/{name}/"
    small, large = same_queries(lambda: reader.get(url), _report_rows(name, agent, queue))
    assert len(small.context["shown"]) >= FEW
    assert len(large.context["shown"]) >= FEW + MORE
    assert html(large).count("<tr>") >= FEW + MORE


@pytest.mark.parametrize("name", ["analysis", "contacts", "companies", "agents", "backlog"])
def test_the_reports_exports(reader, agent, queue, name):
    """The exports have every row, not the page's first ones."""

    def fetch():
        answer = reader.get(f"/desk/reports/{name}/", {"format": "csv"})
        # Streamed: read while the queries are counted.
        answer.lines = b"".join(answer.streaming_content).decode().splitlines()
        return answer

    small, large = same_queries(fetch, _report_rows(name, agent, queue))
    assert len(small.lines) > FEW
    assert len(large.lines) > FEW + MORE


def test_the_choices_of_the_reports_filters(reader, agent, queue):
    """The default report, insights, has a row per day; its filters a choice per queue,
    category, custom field's option..."""
    small, large = same_queries(lambda: reader.get("/desk/reports/"), _settings_grow(agent, queue))
    assert len(large.context["shown"]) == len(small.context["shown"]) > 0
    assert html(large).count("<option") > html(small).count("<option") + MORE


def test_the_scheduled_reports(reader, agent):
    def make(count):
        now = timezone.now()
        for n in range(count):
            schedule = schedules.schedule_report(
                owner=agent,
                report=["contacts", "agents", "backlog"][n % 3],
                filters=QueryDict("queue=1"),
                frequency="weekly",
                recipients="boss@example.test",
            )
            for days in range(3):
                ReportRun.objects.create(
                    schedule=schedule,
                    ran_at=now - timedelta(days=days),
                    period_start=now - timedelta(days=days + 7),
                    period_end=now - timedelta(days=days),
                    rows=n,
                    error="SMTP down" if days == 2 else "",
                )

    small, large = same_queries(lambda: reader.get("/desk/reports/scheduled/"), make)
    assert html(small).count('<section class="card') == FEW
    assert html(large).count('<section class="card') == FEW + MORE
    assert html(large).count("rows mailed") == 2 * (FEW + MORE)


def test_the_desks_api_tokens(agent_client, agent):
    def make(count):
        for n in range(count):
            token = tokens.issue(agent, name=f"Sync {n}").token
            if n % 2:
                tokens.revoke(token)

    small, large = same_queries(lambda: agent_client.get("/desk/api-tokens/"), make)
    assert html(small).count("<code>hd_") == FEW
    assert html(large).count("<code>hd_") == FEW + MORE


def test_the_desks_processes(agent_client, agent):
    def make(count):
        for _ in range(count):
            mine = QueueFactory()
            mine.members.add(agent)
            ProcessStepFactory(process=ProcessFactory(queue=mine, description="Step by step"))
            ProcessFactory()  # to a queue of others
            ProcessFactory(queue=mine, is_active=False)

    small, large = same_queries(lambda: agent_client.get("/desk/processes/"), make)
    assert html(small).count('aria-label="Start ') == FEW
    assert html(large).count('aria-label="Start ') == FEW + MORE
    assert html(large).count("Step by step") == FEW + MORE


def test_the_steps_done_on_the_desks_process_card(agent_client, agent, portal_queue, customer):
    """tests/processes/test_pages.py counts the card after one step; each step done is
    a row with who did, approved or sent it back."""
    run = _process_run(portal_queue, customer, agent)
    url = f"/desk/processes/requests/{run.ticket.number}/"
    small, large = same_queries(lambda: agent_client.get(url), _steps_done(run, customer, agent))
    assert html(small).count('id="submission-') == 3 * FEW
    assert html(large).count('id="submission-') == 3 * (FEW + MORE)
    assert html(large).count("sent back</span> by Alice Agent") == FEW + MORE


# The portal


def test_the_portals_invoices(customer_client, customer, portal_queue, agent):
    def make(count):
        for n in range(count):
            ticket = TicketFactory(queue=portal_queue, contact=customer, by=agent)
            invoiced(ticket, agent, cancelled=bool(n % 2))

    small, large = same_queries(lambda: customer_client.get("/portal/invoices/"), make)
    assert html(small).count("bi-file-earmark-pdf") == FEW
    assert html(large).count("bi-file-earmark-pdf") == FEW + MORE
    assert html(large).count("cancelled (") == (FEW + MORE) // 2


def test_the_portals_api_tokens(customer_client, customer):
    def make(count):
        for n in range(count):
            tokens.issue(customer.user, name=f"App {n}")

    small, large = same_queries(lambda: customer_client.get("/portal/api-tokens/"), make)
    assert html(small).count("<code>hd_") == FEW
    assert html(large).count("<code>hd_") == FEW + MORE


def test_the_portals_requests_found_by_a_search(customer_client, customer, portal_queue):
    """tests/tickets/test_portal_pages.py counts the list without a search; with one,
    the matches come with their snippets."""

    def make(count):
        for _ in range(count):
            TicketFactory(
                queue=portal_queue, contact=customer, subject="Printer jams", body="The printer"
            )

    small, large = same_queries(
        lambda: customer_client.get("/portal/requests/", {"q": "printer"}), make
    )
    assert len(small.context["page"].object_list) == FEW
    assert len(large.context["page"].object_list) == FEW + MORE


def test_the_approvals_and_merged_messages_on_the_portals_request_page(
    customer_client, customer, portal_queue, agent
):
    """tests/tickets/test_portal_pages.py counts its messages; what the customer is asked
    to approve, and the messages of requests merged into it, are listed too."""
    ticket = TicketFactory(queue=portal_queue, contact=customer)
    investigating = portal_queue.stages.get(name="Investigating")

    def make(count):
        for n in range(count):
            ApprovalFactory(ticket=ticket, stage=investigating, text=f"Quote {n}")
            merged = TicketFactory(queue=portal_queue, contact=customer)
            AttachmentFactory(message=MessageFactory(ticket=merged, author=UserFactory()))
            workflow.merge_ticket(merged, into=ticket, by=agent)

    url = f"/portal/requests/{ticket.number}/"
    small, large = same_queries(lambda: customer_client.get(url), make)
    assert len(small.context["approvals"]) == FEW
    assert len(large.context["approvals"]) == FEW + MORE
    assert len(large.context["timeline"]) > len(small.context["timeline"]) + MORE


def test_the_choices_of_the_portals_new_request(customer_client, portal_queue):
    def make(count):
        for _ in range(count):
            QueueFactory(is_open_to_portal=True)
            CategoryFactory(parent=CategoryFactory())

    small, large = same_queries(lambda: customer_client.get("/portal/requests/new/"), make)
    assert html(large).count("<option") > html(small).count("<option") >= FEW


def test_the_portals_processes(customer_client):
    def make(count):
        for _ in range(count):
            ProcessFactory(description="Step by step")
            ProcessFactory(available_on_portal=False)
            ProcessFactory(is_active=False)

    small, large = same_queries(lambda: customer_client.get("/portal/processes/"), make)
    assert html(small).count('aria-label="Start ') == FEW
    assert html(large).count('aria-label="Start ') == FEW + MORE
    assert html(large).count("Step by step") == FEW + MORE


def test_the_steps_done_on_the_portals_process_card(customer_client, customer, portal_queue, agent):
    run = _process_run(portal_queue, customer, agent)
    url = f"/portal/requests/{run.ticket.number}/process/"
    small, large = same_queries(lambda: customer_client.get(url), _steps_done(run, customer, agent))
    assert html(small).count('id="submission-') == 3 * FEW
    assert html(large).count('id="submission-') == 3 * (FEW + MORE)
    assert html(large).count("Answer ") == FEW + MORE  # the customer's; not the team's
    assert "Model X" not in html(large)


# The API


def _api_settings(agent, queue):
    def make(count):
        for _ in range(count):
            other = QueueFactory(stages=["Doing", "Checking"])
            other.members.add(agent)
            StatusFactory(name=f"Waiting {other.pk}")
            PriorityFactory()
            CategoryFactory(parent=CategoryFactory())
            TagFactory()
            CustomFieldFactory().queues.add(queue, other)
            CustomFieldFactory()  # on every queue

    return make


@pytest.mark.parametrize(
    "name", ["queues", "stages", "statuses", "priorities", "categories", "tags", "custom-fields"]
)
def test_the_apis_settings(client, agent, queue, bearer, name):
    url = f"/api/v1/{name}/"
    small, large = same_queries(lambda: client.get(url, **bearer), _api_settings(agent, queue))
    assert len(results(large)) >= len(results(small)) + MORE >= FEW + MORE


def test_the_apis_requests_filtered(client, agent, queue, bearer):
    """tests/api counts the list unfiltered and expanded; a filter goes through the
    desk's filter form."""
    team = TeamFactory()
    agent.groups.add(team)

    def make(count):
        for n in range(count):
            TicketFactory(queue=queue, by=agent, owner=agent, team=team, tags=["a", f"t{n}"])

    url = f"/api/v1/requests/?open=1&owner={agent.pk}&team={team.pk}&tag=a"
    small, large = same_queries(lambda: client.get(url, **bearer), make)
    assert len(results(small)) == FEW
    assert len(results(large)) == FEW + MORE
    assert {len(r["tags"]) for r in results(large)} == {2}


def test_the_apis_change_feed(client, agent, queue, bearer):
    def make(count):
        past = timezone.now() - timedelta(minutes=10)
        for n in range(count):
            TicketFactory(queue=queue, by=agent, owner=agent, tags=[f"t{n}"], now=past)

    small, large = same_queries(lambda: client.get("/api/v1/requests/changes/", **bearer), make)
    assert len(results(small)) == FEW
    assert len(results(large)) == FEW + MORE


def test_the_history_of_a_request(client, ticket, bearer):
    def make(count):
        for _ in range(count):
            EventFactory(ticket=ticket, actor=UserFactory(), field="urgency", new_value="high")

    url = f"/api/v1/requests/{ticket.number}/history/"
    small, large = same_queries(lambda: client.get(url, **bearer), make)
    assert len(results(small)) == 1 + FEW  # and its creation
    assert len(results(large)) == 1 + FEW + MORE
    assert all(event["actor"] for event in results(large)[1:])


def test_the_webhook_subscriptions(client, agent):
    agent.user_permissions.add(Permission.objects.get(codename="add_webhooksubscription"))
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue(agent, name='t').plaintext}"}

    def make(count):
        for n in range(count):
            WebhookSubscription.objects.create(
                user=agent,
                url=f"https://hooks.example/{n}",
                events=["closed", "created"],
                secret="s",
                created_at=timezone.now(),
            )

    small, large = same_queries(lambda: client.get("/api/v1/webhooks/", **bearer), make)
    assert len(results(small)) == FEW
    assert len(results(large)) == FEW + MORE


def test_the_apis_company_requests_for_a_customer(client, customer, customer_bearer, portal_queue):
    """tests/api/test_portal.py counts the customer's own; their company's list the
    colleagues' too."""
    customer.can_see_company_requests = True
    customer.save()

    def make(count):
        for _ in range(count):
            colleague = PortalContactFactory(company=customer.company)
            TicketFactory(queue=portal_queue, contact=colleague)

    url = "/api/v1/portal/requests/?scope=company"
    small, large = same_queries(lambda: client.get(url, **customer_bearer), make)
    assert len(results(small)) == FEW
    assert len(results(large)) == FEW + MORE
    assert len({r["contact_email"] for r in results(large)}) == FEW + MORE


def test_the_portal_messages_of_a_request(client, customer, customer_bearer, portal_queue):
    ticket = TicketFactory(queue=portal_queue, contact=customer)

    def make(count):
        for _ in range(count):
            AttachmentFactory(message=MessageFactory(ticket=ticket, author=UserFactory()))
            MessageFactory(ticket=ticket, kind=Message.Kind.NOTE, is_public=False)  # hidden

    url = f"/api/v1/portal/requests/{ticket.number}/messages/"
    small, large = same_queries(lambda: client.get(url, **customer_bearer), make)
    assert len(results(small)) == 1 + FEW
    assert len(results(large)) == 1 + FEW + MORE
    assert all(m["attachments"] for m in results(large)[1:])


def test_the_approvals_a_customer_is_asked(client, customer, customer_bearer, portal_queue):
    ticket = TicketFactory(queue=portal_queue, contact=customer)

    def make(count):
        for _ in range(count):
            ApprovalFactory(ticket=ticket)

    url = f"/api/v1/portal/requests/{ticket.number}/approvals/"
    small, large = same_queries(lambda: client.get(url, **customer_bearer), make)
    assert len(results(small)) == FEW
    assert len(results(large)) == FEW + MORE


def test_the_portal_queues(client, customer_bearer, portal_queue):
    def make(count):
        for _ in range(count):
            QueueFactory(is_open_to_portal=True)
            QueueFactory()  # not open to customers

    small, large = same_queries(
        lambda: client.get("/api/v1/portal/queues/", **customer_bearer), make
    )
    assert len(results(small)) == 1 + FEW
    assert len(results(large)) == 1 + FEW + MORE
