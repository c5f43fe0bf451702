"""The back-office API's requests: who may see what (the desk's rules), tokens that no
longer work, cursor pages of a constant query count, and errors as problem details."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api import tokens
from tests.factories import (
    AdminFactory,
    PortalContactFactory,
    QueueFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer(agent):
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue(agent, name='tests').plaintext}"}


def test_an_agent_lists_the_requests_of_their_queues_only(client, queue, agent, bearer):
    mine = TicketFactory(queue=queue, by=agent, subject="Printer jams")
    TicketFactory(queue=QueueFactory(), by=agent, subject="Elsewhere")
    answer = client.get("/api/v1/requests/", **bearer)
    assert answer.status_code == 200
    assert [r["number"] for r in answer.json()["results"]] == [mine.number]
    assert answer.json()["results"][0]["queue"] == queue.pk


def test_a_request_outside_the_agents_queues_is_404(client, agent, bearer):
    other = TicketFactory(queue=QueueFactory(), by=agent)
    answer = client.get(f"/api/v1/requests/{other.number}/", **bearer)
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == 404


def test_one_request_by_its_number(client, queue, agent, bearer):
    ticket = TicketFactory(queue=queue, by=agent, subject="VPN down")
    answer = client.get(f"/api/v1/requests/{ticket.number}/", **bearer)
    assert (answer.status_code, answer.json()["subject"]) == (200, "VPN down")


@pytest.mark.parametrize("header", ["", "Bearer hd_nothing_here", "Bearer rubbish", "Basic eA=="])
def test_without_a_live_token_it_is_401(client, queue, agent, header):
    TicketFactory(queue=queue, by=agent)
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    answer = client.get("/api/v1/requests/", **extra)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Bearer"
    assert answer["Content-Type"] == "application/problem+json"


def test_a_revoked_or_expired_token_is_refused(client, agent, monkeypatch):
    revoked = tokens.issue(agent, name="old")
    tokens.revoke(revoked.token)
    expiring = tokens.issue(agent, name="short", expires_at=timezone.now() + timedelta(hours=1))
    for plaintext in (revoked.plaintext, expiring.plaintext):
        later = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
        if plaintext == expiring.plaintext:
            assert client.get("/api/v1/requests/", **later).status_code == 200
            two_hours_on = timezone.now() + timedelta(hours=2)
            monkeypatch.setattr(timezone, "now", lambda at=two_hours_on: at)
        answer = client.get("/api/v1/requests/", **later)
        assert answer.status_code == 401
        assert "unknown, revoked or expired" in answer.json()["detail"]


def test_a_token_used_before_is_not_read_again_but_revoking_it_counts_at_once(
    client, agent, queue, django_assert_num_queries
):
    issued = tokens.issue(agent, name="CRM")
    header = {"HTTP_AUTHORIZATION": f"Bearer {issued.plaintext}"}
    with django_assert_num_queries(5):  # the token, its last use (in a savepoint), the list
        assert client.get("/api/v1/requests/", **header).status_code == 200
    with django_assert_num_queries(1):  # the list
        assert client.get("/api/v1/requests/", **header).status_code == 200
    tokens.revoke(issued.token)
    assert client.get("/api/v1/requests/", **header).status_code == 401


def test_a_token_revoked_in_the_admin_stops_working_at_once(client, agent, queue):
    issued = tokens.issue(agent, name="CRM")
    header = {"HTTP_AUTHORIZATION": f"Bearer {issued.plaintext}"}
    assert client.get("/api/v1/requests/", **header).status_code == 200
    admin_client = Client()
    admin_client.force_login(AdminFactory())
    url = f"/admin/api/apitoken/{issued.token.pk}/change/"
    response = admin_client.post(url, {"revoked_at_0": "2026-01-01", "revoked_at_1": "10:00"})
    assert response.status_code == 302
    assert client.get("/api/v1/requests/", **header).status_code == 401


def test_a_portal_contacts_token_does_not_open_the_back_office(client):
    contact = PortalContactFactory()
    plaintext = tokens.issue(contact.user, name="mine").plaintext
    answer = client.get("/api/v1/requests/", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert answer.status_code == 403
    assert answer.json()["detail"] == "The back-office API is for agents."


def test_the_token_is_stored_hashed(agent):
    issued = tokens.issue(agent, name="CRM")
    assert issued.plaintext.startswith(f"hd_{issued.token.prefix}_")
    assert issued.plaintext not in issued.token.digest
    assert tokens.live_token(issued.plaintext).user == agent
    assert tokens.live_token(issued.plaintext[:-1] + "x") is None


def test_filters_are_the_desk_lists_and_a_bad_one_is_a_400_with_the_field(
    client, queue, agent, bearer
):
    TicketFactory(queue=queue, by=agent, channel="phone")
    TicketFactory(queue=queue, by=agent, channel="email")
    answer = client.get("/api/v1/requests/?channel=phone", **bearer)
    assert [r["channel"] for r in answer.json()["results"]] == ["phone"]
    bad = client.get("/api/v1/requests/?channel=pigeon&created_after=yesterday", **bearer)
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"channel", "created_after"}


def test_cursor_pages_walk_every_request_once_in_constant_queries(
    client, queue, agent, bearer, django_assert_max_num_queries
):
    made = {TicketFactory(queue=queue, by=agent).number for _ in range(7)}
    seen, url = [], "/api/v1/requests/?page_size=3"
    with django_assert_max_num_queries(12) as first:
        page = client.get(url, **bearer).json()
    while True:
        seen += [r["number"] for r in page["results"]]
        if not page["next"]:
            break
        with django_assert_max_num_queries(len(first.captured_queries)):
            page = client.get(page["next"], **bearer).json()
    assert sorted(seen) == sorted(made)
    for _ in range(30):
        TicketFactory(queue=queue, by=agent)
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get("/api/v1/requests/?page_size=50", **bearer)


def test_a_forged_cursor_is_a_404_not_a_500(client, bearer):
    answer = client.get("/api/v1/requests/?cursor=not-a-cursor", **bearer)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "Invalid cursor"


def test_the_schema_and_its_docs_are_served_from_the_app(client):
    # The schema describes the API, not its data: it is public, as the docs are.
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/requests/{number}/" in paths
    described = {p["name"] for p in paths["/api/v1/requests/"]["get"]["parameters"]}
    assert {"q", "queue", "channel", "created_after", "cursor"} <= described
    docs = client.get("/api/v1/docs/").content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in docs
    assert "cdn" not in docs.lower()


def test_an_agent_creates_and_revokes_a_token_in_the_desk(agent_client, agent):
    page = agent_client.post("/desk/api-tokens/", {"name": "CRM sync"}).content.decode()
    assert "shown only this once" in page
    token = agent.api_tokens.get()
    assert f"hd_{token.prefix}_" in page
    listing = agent_client.get("/desk/api-tokens/").content.decode()
    assert f"hd_{token.prefix}_" not in listing  # never again
    agent_client.post(f"/desk/api-tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_token_form_without_a_name_or_with_a_past_expiry_says_so(agent_client, agent):
    page = agent_client.post("/desk/api-tokens/", {"name": "", "expires_on": "2020-01-01"})
    text = page.content.decode()
    assert "This field is required." in text
    assert "Choose a day after today." in text
    assert not agent.api_tokens.exists()


def test_another_agents_token_cannot_be_revoked(agent_client):
    other = tokens.issue(UserFactory(), name="theirs").token
    assert agent_client.post(f"/desk/api-tokens/{other.pk}/revoke/").status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


def test_a_contact_creates_and_revokes_a_token_on_the_portal(client):
    contact = PortalContactFactory()
    client.force_login(contact.user)
    page = client.post("/portal/api-tokens/", {"name": "My app"}).content.decode()
    token = contact.user.api_tokens.get()
    assert f"hd_{token.prefix}_" in page
    assert "My requests" in page  # the portal's own page, not the desk's
    client.post(f"/portal/api-tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_an_agent_has_no_portal_token_page_nor_a_contact_a_desk_one(client, agent):
    client.force_login(agent)
    assert client.get("/portal/api-tokens/").status_code == 403
    client.force_login(PortalContactFactory().user)
    assert client.get("/desk/api-tokens/").status_code in (302, 403)


ENDPOINTS = [
    ("get", "/api/v1/requests/"),
    ("post", "/api/v1/requests/"),
    ("get", "/api/v1/requests/changes/"),
    ("get", "/api/v1/contacts/"),
    ("get", "/api/v1/queues/"),
    ("get", "/api/v1/webhooks/"),
    ("get", "/api/v1/portal/requests/"),
    ("post", "/api/v1/portal/requests/"),
]


@pytest.mark.parametrize("method,url", ENDPOINTS)
def test_a_revoked_token_or_none_is_401_everywhere(client, agent, method, url):
    issued = tokens.issue(agent, name="old")
    tokens.revoke(issued.token)
    revoked = getattr(client, method)(url, HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    assert revoked.status_code == 401
    assert revoked["WWW-Authenticate"] == "Bearer"
    assert getattr(client, method)(url).status_code == 401


def test_the_plain_list_hides_merged_and_deleted_requests_as_the_desk_does(
    client, queue, agent, bearer
):
    from tickets import workflow

    kept = TicketFactory(queue=queue, by=agent)
    workflow.delete_ticket(TicketFactory(queue=queue, by=agent), by=agent)
    plain = client.get("/api/v1/requests/?page_size=10", **bearer).json()["results"]
    assert [r["number"] for r in plain] == [kept.number]
    deleted = client.get("/api/v1/requests/?base_status=deleted", **bearer).json()["results"]
    assert len(deleted) == 1


def test_an_unknown_api_path_is_a_problem_not_a_page(client, bearer):
    answer = client.patch(
        "/api/v1/contacts/not-a-number/", {}, content_type="application/json", **bearer
    )
    assert (answer.status_code, answer["Content-Type"]) == (404, "application/problem+json")
    assert "/api/v1/docs/" in answer.json()["detail"]
