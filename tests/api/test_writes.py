"""The back-office API's writes: registering a request, editing it with its ETag, and its
actions, each through the desk's checks and the workflow; bad input refused with a reason
and nothing saved."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from api import tokens
from tests.factories import ContactFactory, QueueFactory, TicketFactory, UserFactory
from tickets import workflow
from tickets.models import Message, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, agent):
    header = {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue(agent, name='tests').plaintext}"}

    class Api:
        def get(self, url, **extra):
            return client.get(url, **header, **extra)

        def post(self, url, data=None, **extra):
            return client.post(
                url, json.dumps(data or {}), content_type="application/json", **header, **extra
            )

        def patch(self, url, data, **extra):
            return client.patch(
                url, json.dumps(data), content_type="application/json", **header, **extra
            )

        def upload(self, url, data):
            return client.post(url, data, **header)

    return Api()


@pytest.fixture
def ticket(queue, agent):
    return TicketFactory(queue=queue, by=agent, subject="Printer jams")


def test_an_agent_registers_a_phone_call(api, queue):
    contact = ContactFactory()
    answer = api.post(
        "/api/v1/requests/",
        {"channel": "phone", "queue": queue.pk, "contact": contact.pk, "subject": "No VPN",
         "body": "Caller cannot connect.", "tags": ["vpn"]},
    )  # fmt: skip
    assert answer.status_code == 201, answer.json()
    created = Ticket.objects.get(number=answer.json()["number"])
    assert (created.channel, created.contact, created.subject) == ("phone", contact, "No VPN")
    assert answer["Location"] == f"/api/v1/requests/{created.number}/"
    assert [t.name for t in created.tags.all()] == ["vpn"]


def test_a_request_through_the_api_is_of_the_api_channel_by_default(api, queue):
    answer = api.post(
        "/api/v1/requests/",
        {"queue": queue.pk, "contact": ContactFactory().pk, "subject": "From the CRM"},
    )
    assert answer.status_code == 201
    assert answer.json()["channel"] == "api"


def test_a_queue_the_agent_does_not_work_is_a_field_error(api):
    answer = api.post(
        "/api/v1/requests/",
        {"queue": QueueFactory().pk, "contact": ContactFactory().pk, "subject": "Sneaky"},
    )
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    assert "queue" in answer.json()["errors"]
    assert not Ticket.objects.exists()


def test_bad_input_is_refused_with_its_fields_and_nothing_is_saved(api, queue):
    answer = api.post(
        "/api/v1/requests/",
        {"queue": "first", "subject": ["a list"], "colour": "red", "contact": None},
    )
    errors = answer.json()["errors"]
    assert answer.status_code == 400
    assert errors == {"colour": ["There is no such field."]}
    answer = api.post("/api/v1/requests/", {"queue": "first", "subject": ["a list"]})
    assert set(answer.json()["errors"]) == {"queue", "subject"}
    assert not Ticket.objects.exists()


def test_a_customer_request_needs_its_contact(api, queue):
    answer = api.post("/api/v1/requests/", {"queue": queue.pk, "subject": "Who?"})
    assert answer.status_code == 400
    assert "contact" in answer.json()["errors"]


def test_malformed_json_is_a_400_with_a_reason(client, agent):
    bearer = f"Bearer {tokens.issue(agent, name='t').plaintext}"
    answer = client.post(
        "/api/v1/requests/", "{not json", content_type="application/json",
        HTTP_AUTHORIZATION=bearer,
    )  # fmt: skip
    assert answer.status_code == 400
    assert "JSON" in answer.json()["detail"]


def test_an_oversized_body_is_a_413(client, agent, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    bearer = f"Bearer {tokens.issue(agent, name='t').plaintext}"
    body = json.dumps({"subject": "x" * 2000})
    answer = client.post(
        "/api/v1/requests/", body, content_type="application/json", HTTP_AUTHORIZATION=bearer
    )
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/problem+json"


def test_the_same_idempotency_key_gives_the_same_answer_and_one_request(api, queue):
    data = {"queue": queue.pk, "contact": ContactFactory().pk, "subject": "Once"}
    first = api.post("/api/v1/requests/", data, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/requests/", data, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1


def test_an_idempotency_key_reused_for_another_call_is_refused(api, queue):
    contact = ContactFactory()
    api.post("/api/v1/requests/", {"queue": queue.pk, "contact": contact.pk, "subject": "A"},
             HTTP_IDEMPOTENCY_KEY="k-2")  # fmt: skip
    answer = api.post(
        "/api/v1/requests/", {"queue": queue.pk, "contact": contact.pk, "subject": "B"},
        HTTP_IDEMPOTENCY_KEY="k-2",
    )  # fmt: skip
    assert answer.status_code == 422
    assert Ticket.objects.count() == 1


def test_a_refused_call_does_not_use_up_its_key(api, queue):
    data = {"queue": queue.pk, "subject": "No contact yet"}
    assert api.post("/api/v1/requests/", data, HTTP_IDEMPOTENCY_KEY="k-3").status_code == 400
    answer = api.post("/api/v1/requests/", data, HTTP_IDEMPOTENCY_KEY="k-3")
    assert answer.status_code == 400
    assert "Idempotent-Replayed" not in answer


def test_an_edit_with_the_etag_read_is_saved(api, ticket):
    read = api.get(f"/api/v1/requests/{ticket.number}/")
    answer = api.patch(
        f"/api/v1/requests/{ticket.number}/",
        {"subject": "Printer on fire", "urgency": "high", "tags": ["hardware"]},
        HTTP_IF_MATCH=read["ETag"],
    )
    assert answer.status_code == 200, answer.json()
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.urgency) == ("Printer on fire", "high")
    assert answer["ETag"] != read["ETag"]
    assert answer.json()["tags"] == ["hardware"]


def test_an_edit_with_a_stale_etag_is_412_and_changes_nothing(api, ticket, agent):
    read = api.get(f"/api/v1/requests/{ticket.number}/")
    workflow.update_ticket(ticket, urgency="low", by=agent)
    answer = api.patch(
        f"/api/v1/requests/{ticket.number}/", {"subject": "Mine"}, HTTP_IF_MATCH=read["ETag"]
    )
    assert answer.status_code == 412
    ticket.refresh_from_db()
    assert ticket.subject == "Printer jams"


def test_an_owner_who_does_not_work_the_queue_is_a_field_error(api, ticket):
    outsider = UserFactory()
    answer = api.patch(f"/api/v1/requests/{ticket.number}/", {"owner": outsider.pk})
    assert answer.status_code == 400
    assert "owner" in answer.json()["errors"]


def test_custom_fields_are_edited_by_key(api, ticket):
    from tests.factories import CustomFieldFactory

    CustomFieldFactory(key="asset", name="Asset tag")
    answer = api.patch(f"/api/v1/requests/{ticket.number}/", {"custom_fields": {"asset": "A-17"}})
    assert answer.json()["custom_fields"] == {"asset": "A-17"}
    answer = api.patch(f"/api/v1/requests/{ticket.number}/", {"custom_fields": {"colour": "red"}})
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"custom_fields.colour": ["There is no such custom field."]}


def test_a_reply_is_emailed_and_answered_with_the_message(api, ticket, mailoutbox, committed):
    with committed():
        answer = api.post(f"/api/v1/requests/{ticket.number}/reply/", {"body": "Try again now."})
    assert answer.status_code == 201, answer.json()
    assert answer.json()["kind"] == "email"
    assert [m.to for m in mailoutbox] == [[ticket.contact.email]]


def test_a_reply_with_attachments_in_multipart(api, ticket):
    upload = SimpleUploadedFile("log.txt", b"error 42", content_type="text/plain")
    answer = api.upload(
        f"/api/v1/requests/{ticket.number}/reply/", {"body": "The log.", "attachments": [upload]}
    )
    assert answer.status_code == 201, answer.json()
    [attachment] = answer.json()["attachments"]
    download = api.get(attachment["download"])
    assert (download.status_code, b"".join(download.streaming_content)) == (200, b"error 42")


def test_a_bad_cc_address_is_a_field_error_and_nothing_is_sent(api, ticket, mailoutbox):
    answer = api.post(
        f"/api/v1/requests/{ticket.number}/reply/", {"body": "Hi", "cc": "not an address"}
    )
    assert answer.status_code == 400
    assert "cc" in answer.json()["errors"]
    assert not ticket.messages.filter(kind=Message.Kind.EMAIL, direction="outbound").exists()


def test_a_note_stays_internal(api, ticket):
    answer = api.post(f"/api/v1/requests/{ticket.number}/note/", {"text": "Call back at 3"})
    assert answer.status_code == 201
    assert answer.json()["is_public"] is False


def test_the_author_corrects_a_notes_time_units_for_a_while(api, ticket, settings):
    note = api.post(
        f"/api/v1/requests/{ticket.number}/note/", {"text": "Called", "time_units": 2}
    ).json()
    url = f"/api/v1/requests/{ticket.number}/messages/{note['id']}/"
    answer = api.patch(url, {"time_units": 5})
    assert (answer.status_code, answer.json()["time_units"]) == (200, 5)
    assert ticket.events.filter(
        action="time_units_corrected", old_value="2", new_value="5"
    ).exists()
    assert api.patch(url, {}).json()["time_units"] == 5  # nothing asked, nothing changed
    negative = api.patch(url, {"time_units": -1})
    assert (negative.status_code, list(negative.json()["errors"])) == (400, ["time_units"])
    assert api.patch(url, {"time_units": 1, "body": "x"}).status_code == 400
    settings.TIME_UNITS_CORRECTABLE_MINUTES = 0
    late = api.patch(url, {"time_units": 1})
    assert late.status_code == 409
    assert "older" in late.json()["detail"]
    assert Message.objects.get(pk=note["id"]).time_units == 5


def test_only_its_author_corrects_an_articles_time_units(api, ticket, queue):
    colleague = UserFactory(is_staff=True)
    queue.members.add(colleague)
    note = workflow.add_note(ticket, text="Mine", by=colleague, time_units=3)
    url = f"/api/v1/requests/{ticket.number}/messages/{note.pk}/"
    answer = api.patch(url, {"time_units": 0})
    assert (answer.status_code, answer.json()["detail"]) == (
        409,
        "Only the article's author may correct its time units.",
    )
    assert api.patch(f"/api/v1/requests/{ticket.number}/messages/999999/", {}).status_code == 404


def test_progress_regress_postpone_and_close(api, ticket):
    url = f"/api/v1/requests/{ticket.number}"
    assert api.post(f"{url}/progress/").json()["stage"] != ticket.stage_id
    assert api.post(f"{url}/regress/", {"reason": "Wrong team"}).status_code == 200
    until = (timezone.now() + timedelta(days=2)).isoformat()
    assert api.post(f"{url}/postpone/", {"until": until}).json()["base_status"] == "postponed"
    assert api.post(f"{url}/reactivate/").json()["base_status"] == "active"
    closed = api.post(f"{url}/close/", {"resolved": False})
    assert (closed.json()["base_status"], closed.json()["resolved"]) == ("closed", False)


def test_regress_without_a_reason_is_a_field_error(api, ticket):
    answer = api.post(f"/api/v1/requests/{ticket.number}/regress/", {})
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["reason"])


def test_a_step_the_workflow_refuses_is_a_409_with_its_reason(api, ticket, agent):
    from tickets import workflow

    workflow.close_ticket(ticket, resolved=True, by=agent)
    answer = api.post(f"/api/v1/requests/{ticket.number}/progress/")
    assert answer.status_code == 409
    assert "closed" in answer.json()["detail"]


def test_merge_answers_with_the_survivor(api, ticket, queue, agent):
    survivor = TicketFactory(queue=queue, by=agent)
    answer = api.post(f"/api/v1/requests/{ticket.number}/merge/", {"number": survivor.number})
    assert (answer.status_code, answer.json()["number"]) == (200, survivor.number)
    ticket.refresh_from_db()
    assert ticket.base_status == Status.Base.MERGED


def test_a_request_the_agent_cannot_see_cannot_be_merged_into_or_linked(api, ticket, agent):
    hidden = TicketFactory(queue=QueueFactory(), by=agent)
    for action in ("merge", "link"):
        answer = api.post(f"/api/v1/requests/{ticket.number}/{action}/", {"number": hidden.number})
        assert answer.status_code == 400
        assert "number" in answer.json()["errors"]


def test_link_relates_both(api, ticket, queue, agent):
    other = TicketFactory(queue=queue, by=agent)
    assert (
        api.post(f"/api/v1/requests/{ticket.number}/link/", {"number": other.number}).status_code
        == 200
    )
    assert list(ticket.related.all()) == [other]


def test_actions_on_a_request_outside_the_agents_queues_are_404(api, agent):
    hidden = TicketFactory(queue=QueueFactory(), by=agent)
    assert api.post(f"/api/v1/requests/{hidden.number}/note/", {"text": "x"}).status_code == 404
    assert api.patch(f"/api/v1/requests/{hidden.number}/", {"subject": "x"}).status_code == 404
    assert not hidden.messages.filter(kind=Message.Kind.NOTE).exists()


def test_a_file_over_the_limit_is_refused_with_the_limit_and_nothing_is_sent(api, ticket, settings):
    settings.MAX_ATTACHMENT_BYTES = 2**20
    upload = SimpleUploadedFile("dump.bin", b"x" * (2**20 + 1))
    answer = api.upload(
        f"/api/v1/requests/{ticket.number}/reply/", {"body": "The dump.", "attachments": [upload]}
    )
    assert answer.status_code == 409
    assert "larger than 1 MB" in answer.json()["detail"]
    assert not ticket.messages.filter(direction="outbound").exists()
