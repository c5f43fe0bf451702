"""Full-text search: the query language, the documents the triggers keep, ranking,
snippets, and who may find what (desk and portal)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import MessageFactory, QueueFactory, TicketFactory
from tickets import search, workflow
from tickets.models import Message, SearchDocument, Ticket

URL = "/desk/requests/"


def numbers(response) -> list[str]:
    return [t.number for t in response.context["page"]]


def found(text: str, tickets=None) -> set[str]:
    tickets = Ticket.objects.all() if tickets is None else tickets
    return set(search.matching(tickets, text).values_list("subject", flat=True))


# The query language (no database)


@pytest.mark.parametrize(
    ("typed", "tsquery"),
    [
        ("printer", "'printer'"),
        ("printer jam", "'printer' & 'jam'"),
        ('"paper jam" tray', "'paper jam' & 'tray'"),
        ("print*", "'print':*"),
        ("printer OR scanner toner", "('printer' | 'scanner') & 'toner'"),
        ("printer -toner", "'printer' & !'toner'"),
        ('-"paper jam" printer', "!'paper jam' & 'printer'"),
        ('"unclosed phrase', "'unclosed phrase'"),
        ("it's C:\\temp", "'it''s' & 'C:\\\\temp'"),
        ("a & b | !c", "'a' & '&' & 'b' & '|' & '!c'"),
    ],
)
def test_what_people_type_becomes_a_safe_tsquery(typed, tsquery):
    assert search.tsquery(typed) == tsquery


@pytest.mark.parametrize("typed", ["", "   ", "-toner", '-"paper jam"', "* - *"])
def test_nothing_to_look_for_gives_an_empty_query(typed):
    assert search.tsquery(typed) == ""


def test_long_queries_are_cut_to_a_bounded_number_of_terms():
    assert search.tsquery(" ".join(f"w{n}" for n in range(100))).count("&") == 15


def test_a_huge_query_is_read_only_up_to_its_limit():
    phrase = '"' + "ab " * 5000 + '"'
    assert search.tsquery(phrase) == "'" + ("ab " * 5000)[: search.MAX_QUERY_LENGTH - 1] + "'"


def test_a_query_too_long_is_a_form_error_on_the_desk(agent_client, queue):
    TicketFactory(queue=queue, subject="Printer")
    response = agent_client.get(URL, {"q": "printer " * 40})
    assert "q" in response.context["filter"].errors
    assert "Ensure this value has at most 200 characters" in response.text
    assert numbers(response) == []


def test_marks_are_escaped_and_balanced_whatever_the_text_holds():
    start, stop = search.START, search.STOP
    assert search.marked(f"a {start}<b>{stop} c") == "a <mark>&lt;b&gt;</mark> c"
    assert search.marked(f"{stop}x{start}y{start}z") == "x<mark>yz</mark>"


# Any database: a search without words finds nothing rather than everything


def test_a_query_of_only_excluded_words_finds_nothing(db):
    TicketFactory(subject="Printer jammed")
    assert found("-toner") == set()


def test_the_substring_fallback_honours_or_and_exclusion(db):
    TicketFactory(subject="Printer jams", body="Toner is fine.")
    TicketFactory(subject="Scanner jams", body="No paper.")
    TicketFactory(subject="Printer offline", body="Cable.")

    def fallback(text):
        matched = search._containing_words(Ticket.objects.all(), text)
        return set(matched.values_list("subject", flat=True))

    assert fallback("printer -toner") == {"Printer offline"}
    assert fallback("printer OR scanner jams") == {"Printer jams", "Scanner jams"}
    assert fallback('"no paper"') == {"Scanner jams"}


# PostgreSQL: the stored documents


@pytest.fixture
def pg(postgres, db):
    return None


def test_documents_follow_every_write(pg):
    ticket = TicketFactory(subject="Laptop broken", body="The hinge cracked.")
    assert found("hinge") == {"Laptop broken"}

    workflow.add_message(
        ticket,
        by=None,
        contact=ticket.contact,
        kind=Message.Kind.EMAIL,
        direction=Message.Direction.INBOUND,
        body_text="Now the keyboard too.",
    )
    assert found("keyboard") == {"Laptop broken"}

    message = ticket.messages.get(body_text="The hinge cracked.")
    message.body_text = "The screen flickers."
    message.save()
    assert found("hinge") == set()
    assert found("flickers") == {"Laptop broken"}

    message.delete()
    assert found("flickers") == set()

    Ticket.objects.filter(pk=ticket.pk).update(subject="Notebook broken")
    assert found("notebook") == {"Notebook broken"}
    assert found(ticket.number) == {"Notebook broken"}


def test_saving_other_fields_leaves_the_document_alone(pg):
    ticket = TicketFactory(subject="Laptop broken", body="The hinge cracked.")
    SearchDocument.objects.filter(pk=ticket.pk).update(document="")
    ticket.is_unread = not ticket.is_unread
    ticket.save()
    assert found("laptop") == set()  # untouched: only subject or number changes redo it


def test_moving_a_message_moves_its_words(pg):
    first = TicketFactory(subject="First", body="zeppelin")
    second = TicketFactory(subject="Second", body="submarine")
    first.messages.update(ticket=second)
    assert found("zeppelin") == {"Second"}


def test_a_request_with_its_messages_can_be_deleted(pg):
    ticket = TicketFactory(subject="Gone soon", body="words")
    MessageFactory(ticket=ticket, body_text="more words")
    ticket.delete()
    assert not SearchDocument.objects.exists()


def test_a_huge_message_is_stored_and_its_start_is_searchable(pg):
    ticket = TicketFactory(subject="Log dump", body="short")
    words = " ".join(f"token{n:07d}" for n in range(200_000))  # 2.6 MB of distinct words
    for _ in range(3):
        MessageFactory(ticket=ticket, body_text=f"walrus {words}")
    assert ticket.messages.count() == 4
    assert found("walrus") == {"Log dump"}


def test_rebuild_makes_documents_for_rows_loaded_without_triggers(pg):
    TicketFactory(subject="Bulk loaded", body="quokka")
    SearchDocument.objects.all().delete()
    assert found("quokka") == set()
    assert search.rebuild_search_documents(chunk=1) == 1  # inside the test transaction
    assert found("quokka") == {"Bulk loaded"}


# PostgreSQL: what matches


def test_accents_are_folded_both_ways(pg):
    TicketFactory(subject="Call from Mr Müller", body="About the café's résumé.")
    TicketFactory(subject="Call from Mr Muller", body="Nothing else")
    assert found("muller") == {"Call from Mr Müller", "Call from Mr Muller"}
    assert found("Müller") == {"Call from Mr Müller", "Call from Mr Muller"}
    assert found("cafe resume") == {"Call from Mr Müller"}


def test_phrases_need_their_words_together_and_in_order(pg):
    TicketFactory(subject="Tray", body="There is a paper jam in tray 2.")
    TicketFactory(subject="Other", body="The jam is on paper only.")
    assert found('"paper jam"') == {"Tray"}
    assert found("paper jam") == {"Tray", "Other"}


def test_prefixes_stems_or_and_exclusion(pg):
    TicketFactory(subject="Printers offline", body="Both of them.")
    TicketFactory(subject="Scanner offline", body="Needs toner? No, a scanner.")
    TicketFactory(subject="Printing blank", body="Toner empty.")
    assert found("print*") == {"Printers offline", "Printing blank"}
    assert found("printer") == {"Printers offline"}
    assert found("printer OR scanner") == {"Printers offline", "Scanner offline"}
    assert found("print* -toner") == {"Printers offline"}


def test_the_subject_ranks_above_the_messages(pg, agent_client, queue):
    in_body = TicketFactory(queue=queue, subject="Question", body="The wombat escaped.")
    in_subject = TicketFactory(queue=queue, subject="Wombat escaped", body="Help.")
    response = agent_client.get(URL, {"q": "wombat"})
    assert numbers(response) == [in_subject.number, in_body.number]
    # An explicit sort wins over relevance.
    response = agent_client.get(URL, {"q": "wombat", "sort": "number"})
    assert numbers(response) == sorted([in_subject.number, in_body.number])


def test_ranking_looks_at_the_newest_matches_only(pg, agent_client, queue, monkeypatch):
    monkeypatch.setattr(search, "RANKED_LIMIT", 2)
    old = TicketFactory(queue=queue, subject="Otter otter otter", body="otter")
    TicketFactory(queue=queue, subject="A", body="otter")
    TicketFactory(queue=queue, subject="B", body="otter")
    response = agent_client.get(URL, {"q": "otter"})
    assert old.number not in numbers(response)
    assert len(numbers(response)) == 2


def test_results_show_marked_subjects_and_snippets_escaped(pg, agent_client, queue):
    TicketFactory(
        queue=queue,
        subject="Printer <b>jam</b>",
        body="Hello,\nthe printer in room 4 shows <script>alert(1)</script> \x02 again.",
    )
    response = agent_client.get(URL, {"q": "printer"})
    assert "Printer</mark>" in response.text
    assert "<mark>Printer</mark> &lt;b&gt;jam&lt;/b&gt;" in response.text
    snippet = response.context["page"][0].search_snippet
    assert "<mark>printer</mark> in room 4" in snippet
    assert "<script>" not in snippet  # PostgreSQL's parser drops tags; the rest is escaped
    assert snippet.count("<mark>") == snippet.count("</mark>")


def test_search_list_query_count_does_not_grow_with_matches(
    pg, agent_client, queue, django_assert_max_num_queries
):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert agent_client.get(URL, {"q": "kangaroo"}).status_code == 200
        return len(captured)

    TicketFactory(queue=queue, subject="Kangaroo", body="kangaroo")
    few = page_queries()
    for n in range(15):
        TicketFactory(queue=queue, subject=f"Kangaroo {n}", body="kangaroo jumps")
    with django_assert_max_num_queries(few):
        agent_client.get(URL, {"q": "kangaroo"})


# Who may find what


def test_agents_find_only_requests_in_their_queues(pg, agent_client, queue):
    mine = TicketFactory(queue=queue, subject="Capybara in the lobby")
    TicketFactory(queue=QueueFactory(name="Elsewhere"), subject="Capybara on the roof")
    assert numbers(agent_client.get(URL, {"q": "capybara"})) == [mine.number]


def test_customers_find_their_requests_by_public_words_only(
    pg, customer_client, customer, portal_queue, agent
):
    ticket = TicketFactory(queue=portal_queue, contact=customer, subject="Laptop", body="fan")
    workflow.add_note(ticket, text="Internal: the customer dropped it, narwhal.", by=agent)
    TicketFactory(queue=portal_queue, subject="Laptop fan too", body="fan")  # someone else's

    def portal_numbers(words):
        response = customer_client.get("/portal/requests/", {"q": words})
        assert response.status_code == 200
        return [t.number for t in response.context["page"].object_list]

    assert portal_numbers("fan") == [ticket.number]
    assert portal_numbers("narwhal") == []
    response = customer_client.get("/portal/requests/", {"q": "fan"})
    assert "<mark>fan</mark>" in response.text
    assert "narwhal" not in response.text


def test_requests_deleted_by_plain_sql_take_their_documents(pg):
    ticket = TicketFactory(subject="Raw delete", body="words")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tickets_message WHERE ticket_id = %s", [ticket.pk])
        cursor.execute("DELETE FROM tickets_event WHERE ticket_id = %s", [ticket.pk])
        cursor.execute("DELETE FROM tickets_domainevent WHERE ticket_id = %s", [ticket.pk])
        cursor.execute("DELETE FROM tickets_ticket WHERE id = %s", [ticket.pk])
    assert not SearchDocument.objects.filter(pk=ticket.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_big_rebuild_runs_in_parallel_and_makes_the_index_again(postgres):
    for n in range(12):
        TicketFactory(subject=f"Bulk {n}", body=f"quokka{n}")
    SearchDocument.objects.all().delete()
    assert search.rebuild_search_documents(chunk=1, workers=2) == 12
    assert found("quokka7") == {"Bulk 7"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [search.GIN_INDEX])
        assert "gin (document)" in cursor.fetchone()[0]
    first = Ticket.objects.order_by("pk")[10].pk
    assert search.rebuild_search_documents(first_id=first, chunk=1) == 2


def test_the_snippet_quotes_the_message_holding_most_of_the_words(pg, agent_client, queue):
    ticket = TicketFactory(queue=queue, subject="Printer", body="Jürgen Müller's printer jams.")
    MessageFactory(ticket=ticket, body_text="Restart the printer, please.")
    response = agent_client.get(URL, {"q": "muller print*"})
    snippet = response.context["page"][0].search_snippet
    assert "<mark>Müller</mark>" in snippet and "<mark>printer</mark>" in snippet
