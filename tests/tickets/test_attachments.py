"""The one attachment download: who may open a file, and how it is served."""

import importlib

import pytest
from django.urls import clear_url_caches

import helpdesk.urls
from tests.factories import AttachmentFactory, PortalContactFactory, TicketFactory, UserFactory
from tickets import workflow
from tickets.models import Channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(portal_queue, customer):
    return TicketFactory(queue=portal_queue, contact=customer, channel=Channel.PORTAL)


@pytest.fixture
def public_file(ticket):
    return AttachmentFactory(message=ticket.messages.get(), filename="invoice.pdf")


@pytest.fixture
def note_file(ticket, agent):
    note = workflow.add_note(ticket, text="Check the invoice", by=agent)
    return AttachmentFactory(message=note, filename="note.pdf")


def test_an_agent_of_the_queue_gets_the_file(agent_client, public_file, note_file):
    for attachment in (public_file, note_file):
        response = agent_client.get(attachment.get_absolute_url())
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"%PDF-1.4 demo"


def test_an_agent_outside_the_queue_gets_404(client, public_file):
    client.force_login(UserFactory())
    assert client.get(public_file.get_absolute_url()).status_code == 404


def test_the_contact_gets_a_public_messages_file(customer_client, public_file):
    response = customer_client.get(public_file.get_absolute_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="invoice.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_contact_gets_404_for_an_internal_notes_file(customer_client, note_file):
    assert customer_client.get(note_file.get_absolute_url()).status_code == 404


def test_another_companys_contact_gets_404(client, public_file):
    client.force_login(PortalContactFactory(can_see_company_requests=True).user)
    assert client.get(public_file.get_absolute_url()).status_code == 404


def test_a_visitor_is_sent_to_sign_in(client, public_file):
    response = client.get(public_file.get_absolute_url())
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=/attachments/")


def test_an_unknown_attachment_is_404(agent_client, public_file):
    assert agent_client.get(f"/attachments/{public_file.pk + 1}/invoice.pdf").status_code == 404


def test_a_safe_image_opens_in_the_browser_sandboxed(agent_client, ticket):
    image = AttachmentFactory(
        message=ticket.messages.get(), filename="shot.png", content_type="image/png"
    )
    response = agent_client.get(image.get_absolute_url())
    assert response["Content-Disposition"] == 'inline; filename="shot.png"'
    assert response["Content-Security-Policy"] == "sandbox"


def test_the_media_url_does_not_serve_the_file_even_under_debug(client, settings, public_file):
    settings.DEBUG = True
    importlib.reload(helpdesk.urls)  # the URLs are read once: under DEBUG, as in development
    clear_url_caches()
    try:
        response = client.get(public_file.file.url)  # /media/attachments/...
        assert response.status_code == 404
    finally:
        settings.DEBUG = False
        importlib.reload(helpdesk.urls)
        clear_url_caches()


def test_the_admin_links_to_the_download_not_to_the_media_url(admin_client, public_file):
    for url in (
        f"/admin/tickets/message/{public_file.message_id}/change/",
        f"/admin/tickets/attachment/{public_file.pk}/change/",
    ):
        page = admin_client.get(url).content.decode()
        assert f'href="{public_file.get_absolute_url()}"' in page
        assert "/media/" not in page
