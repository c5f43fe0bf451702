"""How a mail looks on the agents' request page: quotes folded, inline images in place,
remote images not loaded."""

import re

import pytest

from mailgateway import ingest
from tests.mailgateway.conftest import fixture_mail, make_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(queue):
    return queue


def page_of(client, result):
    return client.get(f"/desk/requests/{result.ticket.number}/").content.decode()


def test_inline_images_show_from_their_attachment(agent_client, support):
    result = ingest.ingest(fixture_mail("inline-image.eml"), queue=support)
    attachment = result.message.attachments.get(content_id__contains="error-shot")
    page = page_of(agent_client, result)
    assert f'src="/attachments/{attachment.pk}/error.png"' in page
    assert "cid:error-shot" not in page


def test_quoted_history_and_signature_are_folded_but_kept(agent_client, support):
    body = "Still broken.\n\nOn Mon, 2 Nov 2026, Support wrote:\n> Please restart it.\n"
    result = ingest.ingest(make_mail(body=body), queue=support)
    page = page_of(agent_client, result)
    new, folded = page.split("Quoted text and signature", 1)
    assert "Still broken." in new and "&gt; Please restart it." in folded


def test_remote_images_are_not_loaded(agent_client, support):
    html = '<p>Hi</p><img src="https://tracker.example/pixel.gif">'
    result = ingest.ingest(make_mail(html=html), queue=support)
    page = page_of(agent_client, result)
    assert not re.search(r'[^-]src="https://tracker\.example', page)
    assert 'data-remote-src="https://tracker.example/pixel.gif"' in page
