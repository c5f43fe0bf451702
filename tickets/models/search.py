from django.contrib.postgres.search import SearchVectorField
from django.db import models

from .ticket import Ticket


class SearchDocument(models.Model):
    """What full-text search looks in for one request: its number and subject (weight A)
    and its messages' text (weight B), as a PostgreSQL tsvector.

    Kept in a table of its own so that lists, which read many requests, never carry it.
    On PostgreSQL, triggers keep it current on every write, whichever code makes it
    (workflow, admin, mail gateway, COPY); migration 0008 creates them with its GIN index.
    On SQLite it stays empty and search falls back to plain substring matching.
    """

    # The foreign key is made by migration 0008, ON DELETE CASCADE, so that requests
    # deleted by plain SQL (bulk clean-ups) take their documents with them.
    ticket = models.OneToOneField(
        Ticket,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_document",
        db_constraint=False,
    )
    document = SearchVectorField()

    def __str__(self):
        return f"Search document of {self.ticket_id}"
