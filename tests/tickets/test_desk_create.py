"""Registering requests at the desk: phone calls (scenario 2), emails, internal ones."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import (
    CategoryFactory,
    ContactFactory,
    PriorityFactory,
    PriorityRuleFactory,
    QueueFactory,
    UserFactory,
)
from tickets.models import Channel, Contact, Message, Stage, Ticket

pytestmark = pytest.mark.django_db

URL = "/desk/requests/new/"


def form(queue, **fields):
    data = {
        "channel": Channel.PHONE,
        "queue": queue.pk,
        "subject": "Printer on fire",
        "body": "The customer says the printer is on fire.",
        "impact": "medium",
        "urgency": "medium",
    }
    return {**data, **fields}


def new_contact(email="dana@example.test", **fields):
    return {"new-email": email, "new-name": "Dana Customer", "new-phone": "+49 30 1234", **fields}


def test_phone_request_for_a_new_contact_creates_the_contact_and_sends_no_mail(
    agent_client, agent, queue, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(URL, form(queue, **new_contact()))
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == f"/desk/requests/{ticket.number}/"
    contact = Contact.objects.get(email="dana@example.test")
    assert (contact.name, contact.phone) == ("Dana Customer", "+49 30 1234")
    assert ticket.contact == contact and ticket.channel == Channel.PHONE
    assert ticket.owner == agent
    first = ticket.messages.get()
    assert first.kind == Message.Kind.PHONE and first.author_contact == contact
    assert first.direction == Message.Direction.INBOUND
    assert first.body_text == "The customer says the printer is on fire."
    assert mailoutbox == []


def test_phone_request_for_a_picked_contact_creates_no_contact(agent_client, queue):
    contact = ContactFactory()
    response = agent_client.post(URL, form(queue, contact=contact.pk))
    ticket = Ticket.objects.get()
    assert response.url == f"/desk/requests/{ticket.number}/"
    assert ticket.contact == contact and Contact.objects.count() == 1


def test_an_exact_address_typed_into_the_lookup_picks_the_contact_without_javascript(
    agent_client, queue
):
    contact = ContactFactory(email="dana@example.test")
    agent_client.post(URL, form(queue, contact_query="  DANA@example.test "))
    assert Ticket.objects.get().contact == contact


def test_email_request_sends_the_first_message_to_the_contact(
    agent_client, queue, mailoutbox, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email="dana@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(
            URL, form(queue, channel=Channel.EMAIL, contact=contact.pk, body="Your order shipped.")
        )
    ticket = Ticket.objects.get()
    (mail,) = mailoutbox
    assert mail.to == ["dana@example.test"] and ticket.number in mail.subject
    assert "Your order shipped." in mail.body
    first = ticket.messages.get()
    assert first.direction == Message.Direction.OUTBOUND and first.sent_at is not None


def test_internal_request_has_no_contact_and_starts_with_a_note(agent_client, agent, queue):
    contact = ContactFactory()
    agent_client.post(URL, form(queue, channel=Channel.INTERNAL, contact=contact.pk, body=""))
    ticket = Ticket.objects.get()
    assert ticket.contact is None and ticket.channel == Channel.INTERNAL
    note = ticket.messages.get()
    assert note.kind == Message.Kind.NOTE and note.author == agent


def test_tags_time_units_and_attachments_reach_the_request(agent_client, queue):
    upload = SimpleUploadedFile("photo.jpg", b"\xff\xd8 smoke", content_type="image/jpeg")
    fields = form(queue, tags="printer, fire , printer", time_units="15", attachments=[upload])
    agent_client.post(URL, {**fields, **new_contact()})
    ticket = Ticket.objects.get()
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["fire", "printer"]
    first = ticket.messages.get()
    assert first.time_units == 15
    assert [a.filename for a in first.attachments.all()] == ["photo.jpg"]


def test_priority_comes_from_impact_and_urgency_unless_overridden(agent_client, queue):
    critical = PriorityRuleFactory(
        impact="high", urgency="high", priority=PriorityFactory(name="Critical", rank=4)
    ).priority
    low = PriorityFactory(name="Low", rank=1)
    contact = ContactFactory()
    agent_client.post(URL, form(queue, contact=contact.pk, impact="high", urgency="high"))
    agent_client.post(
        URL, form(queue, contact=contact.pk, impact="high", urgency="high", priority=low.pk)
    )
    first, second = Ticket.objects.order_by("pk")
    assert (first.priority, first.impact, first.urgency) == (critical, "high", "high")
    assert second.priority == low


def test_category_rules_give_the_default_priority_and_owner(agent_client, queue):
    colleague = UserFactory()
    urgent = PriorityFactory(name="Urgent", rank=5)
    category = CategoryFactory(default_priority=urgent, default_owner=colleague)
    agent_client.post(URL, form(queue, contact=ContactFactory().pk, category=category.pk))
    ticket = Ticket.objects.get()
    assert (ticket.priority, ticket.owner, ticket.category) == (urgent, colleague, category)


def test_the_new_request_page_offers_only_my_queues_and_preselects_a_contact(agent_client, queue):
    other = QueueFactory(name="Billing elsewhere")
    contact = ContactFactory(name="Dana Customer")
    response = agent_client.get(URL, {"contact": contact.pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Support" in page and "Billing elsewhere" not in page
    assert f'name="contact" value="{contact.pk}"' in page and "Dana Customer" in page
    assert other.pk not in response.context["form"].fields["queue"].queryset.values_list(
        "pk", flat=True
    )


def test_an_unknown_contact_in_the_address_is_ignored(agent_client, queue):
    response = agent_client.get(URL, {"contact": "nobody"})
    assert response.status_code == 200 and response.context["picked"] is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"queue": ""}, "queue", "This field is required."),
        ({"subject": ""}, "subject", "This field is required."),
        ({"body": "  "}, "body", "Write what the customer said."),
        ({"channel": Channel.EMAIL, "body": ""}, "body", "Write the email to send."),
        ({"channel": "fax"}, "channel", "Select a valid choice."),
        ({"time_units": "-5"}, "time_units", "greater than or equal to 0"),
    ],
)
def test_bad_input_is_shown_next_to_the_field(agent_client, queue, fields, field, message):
    response = agent_client.post(URL, {**form(queue, **new_contact()), **fields})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Ticket.objects.exists() and not Contact.objects.exists()


def test_a_queue_i_do_not_work_is_refused(agent_client, queue):
    elsewhere = QueueFactory()
    response = agent_client.post(URL, form(elsewhere, contact=ContactFactory().pk))
    assert response.context["form"].errors["queue"] == ["Pick one of your queues."]
    assert not Ticket.objects.exists()


def test_a_category_the_queue_does_not_take_is_refused(agent_client, queue):
    hardware, billing = CategoryFactory(name="Hardware"), CategoryFactory(name="Billing")
    queue.categories.add(hardware)
    response = agent_client.post(URL, form(queue, contact=ContactFactory().pk, category=billing.pk))
    assert "does not take this category" in response.context["form"].errors["category"][0]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.EMAIL])
def test_a_customer_request_needs_a_picked_contact_or_a_new_address(agent_client, queue, channel):
    fields = form(queue, channel=channel, **new_contact(email=""))
    response = agent_client.post(URL, fields)
    page_form = response.context["form"]
    assert page_form.errors["contact_query"] == ["Pick a contact, or enter a new one below."]
    assert page_form.new_contact.errors["email"] == ["A new contact needs an email address."]
    assert not Ticket.objects.exists() and not Contact.objects.exists()


def test_a_new_contact_with_a_taken_address_offers_the_existing_one(agent_client, queue):
    dana = ContactFactory(name="Dana Customer", email="dana@example.test")
    response = agent_client.post(URL, form(queue, **new_contact(email="DANA@Example.test")))
    page_form = response.context["form"]
    assert page_form.new_contact.errors["email"] == [f"{dana} already has this address."]
    assert f'name="use_contact" value="{dana.pk}"' in response.content.decode()
    assert Contact.objects.count() == 1 and not Ticket.objects.exists()


def test_using_the_offered_contact_registers_the_request_for_them(agent_client, queue):
    dana = ContactFactory(email="dana@example.test")
    agent_client.post(
        URL, form(queue, use_contact=dana.pk, **new_contact(email="dana@example.test"))
    )
    assert Ticket.objects.get().contact == dana and Contact.objects.count() == 1


def test_a_new_contact_with_an_invalid_address_gets_a_field_error(agent_client, queue):
    response = agent_client.post(URL, form(queue, **new_contact(email="not-an-address")))
    assert response.context["form"].new_contact.errors["email"] == ["Enter a valid email address."]


def test_a_refused_request_leaves_no_new_contact_behind(agent_client, queue):
    Stage.objects.filter(queue=queue, state=Stage.State.NEW).delete()
    response = agent_client.post(URL, form(queue, **new_contact()))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["The queue Support has no New stage."]
    assert "has no New stage" in response.content.decode()
    assert not Contact.objects.exists() and not Ticket.objects.exists()


def test_the_new_request_page_is_for_agents_only(client, queue):
    portal_user = UserFactory()
    ContactFactory(user=portal_user)
    assert client.get(URL).status_code == 302
    client.force_login(portal_user)
    assert client.get(URL).status_code == 403
    assert client.post(URL, form(queue, **new_contact())).status_code == 403
    assert client.get("/desk/contacts/lookup/", {"q": "dana"}).status_code == 403
    assert client.get("/desk/contacts/pick/").status_code == 403
    assert not Ticket.objects.exists()


def test_a_picked_contact_that_no_longer_exists_is_reported_by_the_search_box(agent_client, queue):
    response = agent_client.post(URL, form(queue, contact=999))
    assert response.context["form"].errors["contact"] == [
        "That contact no longer exists; pick again."
    ]
    assert "That contact no longer exists; pick again." in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("typed", ["dana cust", "DANA@EXAMPLE", "30 1234"])
def test_lookup_finds_contacts_by_name_address_or_phone(agent_client, typed):
    dana = ContactFactory(name="Dana Customer", email="dana@example.test", phone="+49 30 1234")
    ContactFactory(name="Erik Other", email="erik@other.test", phone="555")
    response = agent_client.get("/desk/contacts/lookup/", {"q": typed})
    assert list(response.context["contacts"]) == [dana]
    assert f"/desk/contacts/pick/?contact={dana.pk}" in response.content.decode()


def test_lookup_lists_a_dozen_at_most(agent_client):
    ContactFactory.create_batch(15, name="Smith")
    response = agent_client.get("/desk/contacts/lookup/", {"q": "smith"})
    assert len(response.context["contacts"]) == 12


def test_lookup_waits_for_two_letters_and_says_when_nothing_matches(agent_client):
    ContactFactory(name="Dana")
    assert list(agent_client.get("/desk/contacts/lookup/", {"q": "d"}).context["contacts"]) == []
    response = agent_client.get("/desk/contacts/lookup/", {"q": "zz"})
    assert "No contact matches" in response.content.decode()


def test_picking_a_contact_fills_the_hidden_field(agent_client):
    dana = ContactFactory(name="Dana Customer")
    response = agent_client.get("/desk/contacts/pick/", {"contact": dana.pk})
    page = response.content.decode()
    assert f'name="contact" value="{dana.pk}"' in page and "Dana Customer" in page


def test_changing_the_picked_contact_shows_the_search_again(agent_client):
    response = agent_client.get("/desk/contacts/pick/")
    page = response.content.decode()
    assert 'name="contact_query"' in page and 'name="new-email"' in page
