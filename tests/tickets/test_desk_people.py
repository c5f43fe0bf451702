"""Contacts and companies at the desk: lists, pages, create and edit."""

import pytest

from tests.factories import (
    AdminFactory,
    CompanyFactory,
    ContactFactory,
    QueueFactory,
    TicketFactory,
    UserFactory,
)
from tickets import workflow
from tickets.models import Company, Contact

pytestmark = pytest.mark.django_db


def test_contacts_list_searches_name_email_phone_and_company(agent_client):
    acme = CompanyFactory(name="Acme Rockets")
    dana = ContactFactory(name="Dana", email="dana@one.test", phone="111", company=None)
    erik = ContactFactory(name="Erik", email="erik@two.test", phone="222 333", company=None)
    fay = ContactFactory(name="Fay", email="fay@three.test", company=acme)
    for query, expected in [("dan", dana), ("TWO.TEST", erik), ("2 33", erik), ("rocket", fay)]:
        response = agent_client.get("/desk/contacts/", {"q": query})
        assert list(response.context["page"]) == [expected], query


def test_contacts_list_counts_only_open_requests_in_my_queues(agent_client, queue):
    dana = ContactFactory(name="Dana")
    TicketFactory.create_batch(2, queue=queue, contact=dana)
    closed = TicketFactory(queue=queue, contact=dana)
    workflow.close_ticket(closed, resolved=True, by=None)
    TicketFactory(queue=QueueFactory(), contact=dana)
    response = agent_client.get("/desk/contacts/")
    (row,) = response.context["page"]
    assert row.open_requests == 2


def test_contacts_search_as_you_type_returns_only_the_table(agent_client):
    ContactFactory(name="Dana")
    response = agent_client.get("/desk/contacts/", {"q": "dana"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="contact-table"') and "Dana" in page
    assert "<nav" not in page.split('id="contact-table"')[0]


def test_contacts_list_is_paginated_and_keeps_the_search(agent_client):
    ContactFactory.create_batch(30, name="Smith")
    response = agent_client.get("/desk/contacts/", {"q": "smith", "page": 2})
    assert len(response.context["page"]) == 5
    assert "?q=smith&amp;page=1" in response.content.decode()


@pytest.mark.parametrize("rows", [3, 30])
def test_contacts_list_query_count_does_not_grow_with_rows(
    agent_client, queue, rows, django_assert_max_num_queries
):
    for contact in ContactFactory.create_batch(rows):
        TicketFactory(queue=queue, contact=contact)
    with django_assert_max_num_queries(6):
        response = agent_client.get("/desk/contacts/")
    assert response.status_code == 200


def test_contact_page_lists_their_requests_in_my_queues_open_first(agent_client, queue):
    dana = ContactFactory(name="Dana")
    older_open = TicketFactory(queue=queue, contact=dana, subject="Older open")
    closed = TicketFactory(queue=queue, contact=dana, subject="Closed one")
    newer_open = TicketFactory(queue=queue, contact=dana, subject="Newer open")
    workflow.close_ticket(closed, resolved=True, by=None)
    TicketFactory(queue=QueueFactory(), contact=dana, subject="Someone else's queue")
    response = agent_client.get(f"/desk/contacts/{dana.pk}/")
    assert list(response.context["page"]) == [newer_open, older_open, closed]
    page = response.content.decode()
    assert "Someone else&#x27;s queue" not in page and "Someone else's queue" not in page
    assert f"/desk/requests/{newer_open.number}/" in page
    assert f"/desk/requests/new/?contact={dana.pk}" in page


def test_staff_see_a_contacts_requests_in_every_queue(client):
    dana = ContactFactory()
    TicketFactory(queue=QueueFactory(), contact=dana)
    client.force_login(AdminFactory())
    assert len(client.get(f"/desk/contacts/{dana.pk}/").context["page"]) == 1


@pytest.mark.parametrize("rows", [3, 30])
def test_contact_page_query_count_does_not_grow_with_requests(
    agent_client, queue, rows, django_assert_max_num_queries
):
    dana = ContactFactory()
    TicketFactory.create_batch(rows, queue=queue, contact=dana)
    with django_assert_max_num_queries(7):
        response = agent_client.get(f"/desk/contacts/{dana.pk}/")
    assert response.status_code == 200


def test_unknown_contact_or_company_is_a_404(agent_client):
    assert agent_client.get("/desk/contacts/999/").status_code == 404
    assert agent_client.get("/desk/contacts/999/edit/").status_code == 404
    assert agent_client.get("/desk/companies/999/").status_code == 404
    assert agent_client.get("/desk/companies/999/edit/").status_code == 404


def test_people_pages_are_for_agents_only(client):
    portal_user = UserFactory()
    dana = ContactFactory(user=portal_user)
    client.force_login(portal_user)
    for url in ["/desk/contacts/", f"/desk/contacts/{dana.pk}/", "/desk/companies/"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/desk/contacts/new/", {"email": "x@example.test"}).status_code == 403
    assert Contact.objects.count() == 1


def test_creating_a_contact_with_a_company(agent_client):
    acme = CompanyFactory()
    response = agent_client.post(
        "/desk/contacts/new/",
        {"name": "Dana", "email": " dana@example.test ", "phone": "111", "company": acme.pk},
    )
    dana = Contact.objects.get()
    assert response.url == f"/desk/contacts/{dana.pk}/"
    assert (dana.email, dana.company) == ("dana@example.test", acme)


def test_new_contact_form_preselects_the_company(agent_client):
    acme = CompanyFactory()
    response = agent_client.get("/desk/contacts/new/", {"company": acme.pk})
    assert response.context["form"]["company"].value() == str(acme.pk)


def test_an_empty_contact_form_says_what_is_missing(agent_client):
    response = agent_client.post("/desk/contacts/new/", {})
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["This field is required."]
    assert "This field is required." in response.content.decode()


def test_a_contact_address_must_be_unique_ignoring_case(agent_client):
    dana = ContactFactory(email="dana@example.test")
    response = agent_client.post("/desk/contacts/new/", {"email": "Dana@Example.TEST"})
    assert response.context["form"].errors["email"] == [f"{dana} already has this address."]
    assert f"/desk/contacts/{dana.pk}/" in response.content.decode()
    assert Contact.objects.count() == 1


def test_editing_a_contact_keeps_its_own_address_and_links_a_company(agent_client):
    dana = ContactFactory(email="dana@example.test", company=None)
    acme = CompanyFactory()
    response = agent_client.post(
        f"/desk/contacts/{dana.pk}/edit/",
        {"name": "Dana Renamed", "email": "DANA@example.test", "company": acme.pk},
    )
    dana.refresh_from_db()
    assert response.url == f"/desk/contacts/{dana.pk}/"
    assert (dana.name, dana.company) == ("Dana Renamed", acme)


def test_editing_a_contact_to_someone_elses_address_is_refused(agent_client):
    ContactFactory(email="erik@example.test")
    dana = ContactFactory(email="dana@example.test")
    response = agent_client.post(f"/desk/contacts/{dana.pk}/edit/", {"email": "erik@example.test"})
    assert "already has this address" in response.context["form"].errors["email"][0]
    dana.refresh_from_db()
    assert dana.email == "dana@example.test"


def test_companies_list_searches_name_and_domain(agent_client):
    acme = CompanyFactory(name="Acme Rockets", domain="acme.test")
    globex = CompanyFactory(name="Globex", domain="globex.test")
    assert list(agent_client.get("/desk/companies/", {"q": "rock"}).context["page"]) == [acme]
    assert list(agent_client.get("/desk/companies/", {"q": "GLOBEX.T"}).context["page"]) == [globex]


def test_companies_list_counts_contacts_and_open_requests_in_my_queues(agent_client, queue):
    acme = CompanyFactory()
    dana, erik = ContactFactory.create_batch(2, company=acme)
    TicketFactory.create_batch(2, queue=queue, contact=dana)
    TicketFactory(queue=queue, contact=erik)
    TicketFactory(queue=QueueFactory(), contact=erik)
    (row,) = agent_client.get("/desk/companies/").context["page"]
    assert (row.contact_count, row.open_requests) == (2, 3)


@pytest.mark.parametrize("rows", [3, 30])
def test_companies_list_query_count_does_not_grow_with_rows(
    agent_client, queue, rows, django_assert_max_num_queries
):
    for contact in ContactFactory.create_batch(rows):
        TicketFactory(queue=queue, contact=contact)
    with django_assert_max_num_queries(6):
        response = agent_client.get("/desk/companies/")
    assert response.status_code == 200


def test_company_page_shows_its_contacts_and_their_requests_open_first(agent_client, queue):
    acme = CompanyFactory(name="Acme")
    dana, erik = (
        ContactFactory(company=acme, name="Dana"),
        ContactFactory(company=acme, name="Erik"),
    )
    closed = TicketFactory(queue=queue, contact=dana)
    workflow.close_ticket(closed, resolved=False, by=None)
    open_one = TicketFactory(queue=queue, contact=erik)
    TicketFactory(queue=QueueFactory(), contact=erik, subject="Hidden from me")
    TicketFactory(queue=queue, contact=ContactFactory())
    response = agent_client.get(f"/desk/companies/{acme.pk}/")
    assert list(response.context["contacts"]) == [dana, erik]
    assert list(response.context["page"]) == [open_one, closed]
    assert "Hidden from me" not in response.content.decode()


@pytest.mark.parametrize("rows", [3, 30])
def test_company_page_query_count_does_not_grow_with_rows(
    agent_client, queue, rows, django_assert_max_num_queries
):
    acme = CompanyFactory()
    for contact in ContactFactory.create_batch(rows, company=acme):
        TicketFactory(queue=queue, contact=contact)
    with django_assert_max_num_queries(8):
        response = agent_client.get(f"/desk/companies/{acme.pk}/")
    assert response.status_code == 200


def test_creating_and_editing_a_company(agent_client):
    response = agent_client.post("/desk/companies/new/", {"name": "Acme", "domain": "@ACME.test"})
    acme = Company.objects.get()
    assert response.url == f"/desk/companies/{acme.pk}/" and acme.domain == "acme.test"
    agent_client.post(f"/desk/companies/{acme.pk}/edit/", {"name": "Acme Rockets"})
    acme.refresh_from_db()
    assert acme.name == "Acme Rockets"


def test_a_company_needs_a_name_unique_ignoring_case(agent_client):
    CompanyFactory(name="Acme")
    empty = agent_client.post("/desk/companies/new/", {})
    assert empty.context["form"].errors["name"] == ["This field is required."]
    clash = agent_client.post("/desk/companies/new/", {"name": "ACME"})
    assert clash.context["form"].errors["name"] == ["There is already a company called Acme."]
    assert Company.objects.count() == 1


def test_an_agent_invites_a_contact_to_the_portal(
    agent_client, mailoutbox, django_capture_on_commit_callbacks
):
    person = ContactFactory(email="nina@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(f"/desk/contacts/{person.pk}/invite/")
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.user is not None
    (invitation,) = mailoutbox
    assert invitation.to == ["nina@example.test"] and "/portal/" in invitation.body


def test_inviting_needs_a_post(agent_client):
    person = ContactFactory()
    assert agent_client.get(f"/desk/contacts/{person.pk}/invite/").status_code == 405
