"""The customer portal's pages: signing in, the lists, the request page, new requests and
the profile."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import (
    PASSWORD,
    AttachmentFactory,
    CategoryFactory,
    MessageFactory,
    PortalContactFactory,
    QueueFactory,
    TagFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tickets import workflow
from tickets.models import Channel, Message, Status, Ticket

pytestmark = pytest.mark.django_db


def request_of(contact, queue, **kwargs):
    return TicketFactory(queue=queue, contact=contact, channel=Channel.PORTAL, **kwargs)


def upload(name="notes.txt", data=b"hello", content_type="text/plain"):
    return SimpleUploadedFile(name, data, content_type=content_type)


# Signing in and out


def test_sign_in_with_email_and_password_opens_my_requests(client, customer):
    response = client.post(
        "/portal/sign-in/", {"email": "CARLA@example.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == "/portal/requests/"
    assert client.get("/portal/requests/").status_code == 200


def test_sign_in_goes_on_to_a_local_next_page_only(client, customer):
    data = {"email": customer.email, "password": PASSWORD}
    assert client.post("/portal/sign-in/", data | {"next": "/portal/profile/"}).url == (
        "/portal/profile/"
    )
    client.post("/portal/sign-out/")
    evil = client.post("/portal/sign-in/", data | {"next": "https://evil.test/"})
    assert evil.url == "/portal/requests/"


def test_wrong_password_is_refused_next_to_the_form(client, customer):
    response = client.post("/portal/sign-in/", {"email": customer.email, "password": "nope"})
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_needs_both_fields(client, customer):
    response = client.post("/portal/sign-in/", {"email": "", "password": ""})
    assert response.context["form"].errors.keys() == {"email", "password"}


def test_anonymous_visitor_is_sent_to_the_portal_sign_in(client):
    response = client.get("/portal/requests/")
    assert response.status_code == 302
    assert response.url == "/portal/sign-in/?next=/portal/requests/"


def test_sign_out_ends_the_session(customer_client):
    response = customer_client.post("/portal/sign-out/")
    assert response.url == "/portal/sign-in/"
    assert customer_client.get("/portal/requests/").status_code == 302


def test_sign_out_needs_a_post(customer_client):
    assert customer_client.get("/portal/sign-out/").status_code == 405


# My requests


def test_my_requests_lists_open_ones_first(customer_client, customer, portal_queue):
    closed = request_of(customer, portal_queue, subject="Old printer")
    workflow.close_ticket(closed, resolved=True, by=None)
    open_one = request_of(customer, portal_queue, subject="New laptop")
    request_of(PortalContactFactory(company=customer.company), portal_queue, subject="Theirs")
    listed = list(customer_client.get("/portal/requests/").context["page"].object_list)
    assert listed == [open_one, closed]


@pytest.mark.parametrize(("state", "expected"), [("open", ["Open"]), ("closed", ["Shut"])])
def test_my_requests_filter_by_open_or_closed(
    customer_client, customer, portal_queue, state, expected
):
    request_of(customer, portal_queue, subject="Open")
    shut = request_of(customer, portal_queue, subject="Shut")
    workflow.close_ticket(shut, resolved=True, by=None)
    page = customer_client.get("/portal/requests/", {"state": state}).context["page"]
    assert [t.subject for t in page.object_list] == expected


def test_search_finds_words_of_the_subject_and_the_number(customer_client, customer, portal_queue):
    printer = request_of(customer, portal_queue, subject="Printer jams")
    request_of(customer, portal_queue, subject="Mail is slow")
    by_word = customer_client.get("/portal/requests/", {"q": "printer"}).context["page"]
    by_number = customer_client.get("/portal/requests/", {"q": printer.number}).context["page"]
    assert list(by_word.object_list) == list(by_number.object_list) == [printer]


def test_an_unknown_filter_value_is_ignored(customer_client, customer, portal_queue):
    request_of(customer, portal_queue)
    response = customer_client.get("/portal/requests/", {"state": "bogus"})
    assert len(response.context["page"].object_list) == 1


def test_the_htmx_refresh_renders_only_the_results(customer_client, customer, portal_queue):
    ticket = request_of(customer, portal_queue, subject="Printer jams")
    response = customer_client.get("/portal/requests/", {"q": "printer"}, HTTP_HX_REQUEST="true")
    assert response.templates[0].name == "portal/_results.html"
    assert ticket.number in response.content.decode()


def test_company_requests_are_listed_when_the_contact_may_see_them(client, customer, portal_queue):
    customer.can_see_company_requests = True
    customer.save()
    colleague = PortalContactFactory(company=customer.company)
    theirs = request_of(colleague, portal_queue, subject="Colleague's")
    request_of(PortalContactFactory(), portal_queue, subject="Other company")
    client.force_login(customer.user)
    page = client.get("/portal/requests/company/").context["page"]
    assert list(page.object_list) == [theirs]
    assert "requests/company/" in client.get("/portal/requests/").content.decode()


def test_company_requests_are_not_found_when_not_allowed(customer_client, customer):
    assert customer_client.get("/portal/requests/company/").status_code == 404


@pytest.mark.parametrize("path", ["/portal/requests/", "/portal/requests/company/"])
def test_lists_take_the_same_queries_for_3_or_30_requests(
    client, customer, portal_queue, django_assert_max_num_queries, path
):
    customer.can_see_company_requests = True
    customer.save()
    client.force_login(customer.user)
    for _ in range(3):
        request_of(customer, portal_queue)
    with django_assert_max_num_queries(8) as few:
        client.get(path)
    for _ in range(27):
        request_of(customer, portal_queue)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(path).context["page"].object_list) == 25


# The request page


def test_request_page_shows_status_and_the_stage_progress(customer_client, customer, portal_queue):
    ticket = request_of(customer, portal_queue, subject="Printer jams")
    workflow.progress_ticket(ticket, by=None)
    response = customer_client.get(f"/portal/requests/{ticket.number}/")
    progress = [(stage.name, state) for stage, state in response.context["stage_progress"]]
    assert progress == [("New", "done"), ("Triage", "current"), ("Investigating", "todo")] + [
        ("Closed", "todo")
    ]
    assert "Active" in response.content.decode()


def test_request_page_shows_the_conversation_with_attachments(
    customer_client, customer, portal_queue, agent
):
    ticket = request_of(customer, portal_queue, body="My printer jams.")
    workflow.reply_to_customer(
        ticket, by=agent, body="Try new paper.", attachments=[upload("guide.pdf")]
    )
    page = customer_client.get(f"/portal/requests/{ticket.number}/").content.decode()
    assert "My printer jams." in page
    assert "Try new paper." in page
    assert "guide.pdf" in page


def test_request_page_takes_the_same_queries_for_3_or_30_messages(
    customer_client, customer, portal_queue, django_assert_max_num_queries
):
    ticket = request_of(customer, portal_queue)
    url = f"/portal/requests/{ticket.number}/"
    for _ in range(2):
        AttachmentFactory(message=MessageFactory(ticket=ticket))
    with django_assert_max_num_queries(12) as few:
        customer_client.get(url)
    for _ in range(27):
        AttachmentFactory(message=MessageFactory(ticket=ticket))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(customer_client.get(url).context["timeline"]) == 30


def test_reply_adds_a_portal_message_and_marks_the_request_unread(
    customer_client, customer, portal_queue, agent
):
    ticket = request_of(customer, portal_queue)
    workflow.assign_ticket(ticket, owner=agent, by=agent)
    response = customer_client.post(
        f"/portal/requests/{ticket.number}/reply/",
        {"body": "Still broken.", "attachments": [upload("photo.png", b"png", "image/png")]},
    )
    assert response.url == f"/portal/requests/{ticket.number}/"
    message = ticket.messages.last()
    assert (message.kind, message.direction, message.body_text) == (
        Message.Kind.PORTAL,
        Message.Direction.INBOUND,
        "Still broken.",
    )
    assert message.author_contact == customer
    assert [a.filename for a in message.attachments.all()] == ["photo.png"]
    ticket.refresh_from_db()
    assert ticket.is_unread


def test_reply_needs_text(customer_client, customer, portal_queue):
    ticket = request_of(customer, portal_queue)
    response = customer_client.post(f"/portal/requests/{ticket.number}/reply/", {"body": ""})
    assert response.status_code == 200
    assert "body" in response.context["reply_form"].errors
    assert ticket.messages.count() == 1


def test_reply_to_a_closed_request_is_refused(customer_client, customer, portal_queue):
    ticket = request_of(customer, portal_queue)
    workflow.close_ticket(ticket, resolved=True, by=None)
    response = customer_client.post(f"/portal/requests/{ticket.number}/reply/", {"body": "Hi"})
    assert "is closed; open a new request" in str(response.context["reply_form"].errors["body"])


def test_too_many_attachments_are_refused(customer_client, customer, portal_queue, settings):
    settings.MAX_ATTACHMENTS_PER_MESSAGE = 2
    ticket = request_of(customer, portal_queue)
    files = [upload(f"{n}.txt") for n in range(3)]
    response = customer_client.post(
        f"/portal/requests/{ticket.number}/reply/", {"body": "Files", "attachments": files}
    )
    assert "at most 2 files" in str(response.context["reply_form"].errors["attachments"])


def test_too_large_an_attachment_is_refused(customer_client, customer, portal_queue, settings):
    settings.MAX_ATTACHMENT_BYTES = 4
    ticket = request_of(customer, portal_queue)
    response = customer_client.post(
        f"/portal/requests/{ticket.number}/reply/",
        {"body": "Files", "attachments": [upload("big.txt", b"too large")]},
    )
    assert "larger than" in str(response.context["reply_form"].errors["attachments"])
    assert ticket.messages.count() == 1


def test_close_as_resolved(customer_client, customer, portal_queue):
    ticket = request_of(customer, portal_queue)
    response = customer_client.post(f"/portal/requests/{ticket.number}/close/")
    assert response.url == f"/portal/requests/{ticket.number}/"
    ticket.refresh_from_db()
    assert (ticket.base_status, ticket.resolved) == (Status.Base.CLOSED, True)
    assert ticket.events.filter(action="closed", actor=customer.user).exists()


def test_closing_a_closed_request_again_says_so(customer_client, customer, portal_queue):
    ticket = request_of(customer, portal_queue)
    workflow.close_ticket(ticket, resolved=False, by=None)
    response = customer_client.post(f"/portal/requests/{ticket.number}/close/", follow=True)
    assert "already closed" in response.content.decode()


@pytest.mark.parametrize(
    ("stored", "served", "disposition"),
    [
        ("application/pdf", "application/pdf", "attachment"),
        ("text/html", "application/octet-stream", "attachment"),
        ("image/svg+xml", "application/octet-stream", "attachment"),
        ("image/png", "image/png", "inline"),
    ],
)
def test_attachment_downloads_with_a_safe_type_and_disposition(
    customer_client, customer, portal_queue, stored, served, disposition
):
    ticket = request_of(customer, portal_queue)
    attachment = AttachmentFactory(
        message=ticket.messages.first(), filename='../evil "name".html', content_type=stored
    )
    response = customer_client.get(attachment.get_absolute_url())
    assert response["Content-Type"] == served
    assert response["Content-Disposition"] == f'{disposition}; filename="evil_name.html"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 demo"


# A new request


def test_new_request_gets_the_queues_portal_defaults(customer_client, customer, portal_queue):
    owner, team, tag = UserFactory(), TeamFactory(), TagFactory(name="web")
    category = CategoryFactory(name="Printers")
    portal_queue.portal_owner, portal_queue.portal_team = owner, team
    portal_queue.portal_category = category
    portal_queue.save()
    portal_queue.portal_tags.add(tag)
    response = customer_client.post(
        "/portal/requests/new/",
        {
            "queue": portal_queue.pk,
            "subject": "Printer jams",
            "body": "Every page.",
            "attachments": [upload()],
        },
    )
    ticket = Ticket.objects.get(subject="Printer jams")
    assert response.url == f"/portal/requests/{ticket.number}/"
    assert (ticket.channel, ticket.contact, ticket.owner, ticket.team) == (
        Channel.PORTAL,
        customer,
        owner,
        team,
    )
    assert ticket.category == category
    assert list(ticket.tags.all()) == [tag]
    assert ticket.messages.get().attachments.count() == 1


def test_new_request_without_portal_owner_is_nobodys_not_the_customers(
    customer_client, customer, portal_queue
):
    customer_client.post(
        "/portal/requests/new/", {"queue": portal_queue.pk, "subject": "Hi", "body": "Help"}
    )
    ticket = Ticket.objects.get(subject="Hi")
    assert ticket.owner is None
    assert ticket.is_unread


def test_new_request_offers_only_queues_open_to_the_portal(customer_client, customer, portal_queue):
    closed_queue = QueueFactory(name="Internal IT")
    form = customer_client.get("/portal/requests/new/").context["form"]
    assert list(form.fields["queue"].queryset) == [portal_queue]
    response = customer_client.post(
        "/portal/requests/new/", {"queue": closed_queue.pk, "subject": "Hi", "body": "Help"}
    )
    assert "Pick one of the listed subjects." in str(response.context["form"].errors["queue"])
    assert not Ticket.objects.exists()


def test_new_request_refuses_a_category_the_queue_does_not_take(
    customer_client, customer, portal_queue
):
    printers, billing = CategoryFactory(name="Printers"), CategoryFactory(name="Billing")
    portal_queue.categories.add(printers)
    other = QueueFactory(is_open_to_portal=True)
    other.categories.add(billing)
    response = customer_client.post(
        "/portal/requests/new/",
        {"queue": portal_queue.pk, "category": billing.pk, "subject": "Hi", "body": "Help"},
    )
    assert "does not apply" in str(response.context["form"].errors["category"])
    assert not Ticket.objects.exists()


def test_new_request_needs_a_subject_and_text(customer_client, customer, portal_queue):
    response = customer_client.post("/portal/requests/new/", {"queue": portal_queue.pk})
    assert response.context["form"].errors.keys() == {"subject", "body"}


# The profile


def test_profile_saves_name_and_phone(customer_client, customer):
    response = customer_client.post("/portal/profile/", {"name": "Carla C.", "phone": "+1 555"})
    assert response.url == "/portal/profile/"
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Carla C.", "+1 555")


def test_profile_needs_a_name(customer_client, customer):
    response = customer_client.post("/portal/profile/", {"name": "", "phone": ""})
    assert "name" in response.context["form"].errors


def test_password_change_keeps_the_customer_signed_in(customer_client, customer):
    response = customer_client.post(
        "/portal/profile/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
    )
    assert response.url == "/portal/profile/"
    customer.user.refresh_from_db()
    assert customer.user.check_password("a-new-long-passphrase")
    assert customer_client.get("/portal/requests/").status_code == 200


def test_password_change_needs_the_old_password(customer_client, customer):
    response = customer_client.post(
        "/portal/profile/password/",
        {"old_password": "wrong", "new_password1": "x-y-z-1234", "new_password2": "x-y-z-1234"},
    )
    assert "old_password" in response.context["form"].errors
