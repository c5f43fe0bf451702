# Full-text search: one tsvector per request, kept current by triggers (PostgreSQL only).

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

# A request's document: number and subject weigh A, messages B. Each message counts with
# its first 20,000 characters, and a document stops growing near 1 MB, the most a
# tsvector can hold, so that no mail can ever fail to be stored because of search.
CREATE_SEARCH = r"""
CREATE EXTENSION IF NOT EXISTS unaccent;

DO $$ BEGIN
    CREATE TEXT SEARCH CONFIGURATION helpdesk (COPY = english);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
-- Accents folded: "Müller" finds "Muller" and the other way round.
ALTER TEXT SEARCH CONFIGURATION helpdesk
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;

-- Requests deleted by plain SQL (bulk clean-ups) take their documents with them.
ALTER TABLE tickets_searchdocument ADD CONSTRAINT search_document_ticket_fk
    FOREIGN KEY (ticket_id) REFERENCES tickets_ticket (id)
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

CREATE OR REPLACE FUNCTION tickets_subject_vector(number text, subject text)
RETURNS tsvector LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('helpdesk', number || ' ' || subject), 'A')
$$;

CREATE OR REPLACE FUNCTION tickets_message_vector(body text)
RETURNS tsvector LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('helpdesk', left(body, 20000)), 'B')
$$;

CREATE OR REPLACE FUNCTION tickets_vector_append(document tsvector, more tsvector)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN pg_column_size(document) + pg_column_size(more) < 900000
                THEN document || more ELSE document END
$$;

CREATE OR REPLACE AGGREGATE tickets_vector_agg(tsvector) (
    SFUNC = tickets_vector_append, STYPE = tsvector, INITCOND = ''
);

-- Documents of the requests with ids first..last, made anew from their text (bulk
-- loads, this migration, `manage.py rebuild_search`).
CREATE OR REPLACE FUNCTION tickets_search_rebuild(first_id bigint, last_id bigint)
RETURNS integer LANGUAGE sql AS $$
    WITH rebuilt AS (
        INSERT INTO tickets_searchdocument (ticket_id, document)
        SELECT t.id, tickets_vector_append(
                   tickets_subject_vector(t.number, t.subject), coalesce(m.document, ''))
        FROM tickets_ticket t
        LEFT JOIN (
            SELECT ticket_id,
                   tickets_vector_agg(tickets_message_vector(body_text) ORDER BY created_at, id)
                       AS document
            FROM tickets_message
            WHERE ticket_id BETWEEN first_id AND last_id
            GROUP BY ticket_id
        ) m ON m.ticket_id = t.id
        WHERE t.id BETWEEN first_id AND last_id
        ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document
        RETURNING 1
    )
    SELECT count(*)::integer FROM rebuilt
$$;

-- One request's document made anew; only updates, so a request being deleted (its
-- document first, then its messages) is never given a document again.
CREATE OR REPLACE FUNCTION tickets_search_refresh(request_id bigint)
RETURNS void LANGUAGE sql AS $$
    UPDATE tickets_searchdocument d
    SET document = tickets_vector_append(
        tickets_subject_vector(t.number, t.subject),
        coalesce((SELECT tickets_vector_agg(tickets_message_vector(m.body_text)
                                            ORDER BY m.created_at, m.id)
                  FROM tickets_message m WHERE m.ticket_id = t.id), ''))
    FROM tickets_ticket t
    WHERE t.id = request_id AND d.ticket_id = t.id
$$;

CREATE OR REPLACE FUNCTION tickets_ticket_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tickets_searchdocument (ticket_id, document)
    VALUES (NEW.id, tickets_subject_vector(NEW.number, NEW.subject))
    ON CONFLICT (ticket_id) DO NOTHING;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tickets_ticket_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tickets_search_refresh(NEW.id);
    RETURN NULL;
END $$;

-- A new message is appended (the common write, kept cheap); an edited, moved or
-- deleted one makes its requests' documents anew.
CREATE OR REPLACE FUNCTION tickets_message_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets_searchdocument
    SET document = tickets_vector_append(document, tickets_message_vector(NEW.body_text))
    WHERE ticket_id = NEW.ticket_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tickets_message_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM tickets_search_refresh(NEW.ticket_id);
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM tickets_search_refresh(OLD.ticket_id);
    ELSIF OLD.ticket_id <> NEW.ticket_id THEN
        PERFORM tickets_search_refresh(OLD.ticket_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tickets_ticket_search_insert AFTER INSERT ON tickets_ticket
    FOR EACH ROW EXECUTE FUNCTION tickets_ticket_created();
-- Django's save() sets every column; WHEN keeps the other saves free.
CREATE TRIGGER tickets_ticket_search_update AFTER UPDATE ON tickets_ticket
    FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject
                       OR OLD.number IS DISTINCT FROM NEW.number)
    EXECUTE FUNCTION tickets_ticket_renamed();
CREATE TRIGGER tickets_message_search_insert AFTER INSERT ON tickets_message
    FOR EACH ROW EXECUTE FUNCTION tickets_message_added();
CREATE TRIGGER tickets_message_search_update AFTER UPDATE ON tickets_message
    FOR EACH ROW WHEN (OLD.body_text IS DISTINCT FROM NEW.body_text
                       OR OLD.ticket_id IS DISTINCT FROM NEW.ticket_id)
    EXECUTE FUNCTION tickets_message_changed();
CREATE TRIGGER tickets_message_search_delete AFTER DELETE ON tickets_message
    FOR EACH ROW EXECUTE FUNCTION tickets_message_changed();

CREATE INDEX IF NOT EXISTS search_document_gin ON tickets_searchdocument USING gin (document);
"""

DROP_SEARCH = r"""
DROP TRIGGER IF EXISTS tickets_ticket_search_insert ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_ticket_search_update ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_message_search_insert ON tickets_message;
DROP TRIGGER IF EXISTS tickets_message_search_update ON tickets_message;
DROP TRIGGER IF EXISTS tickets_message_search_delete ON tickets_message;
DROP FUNCTION IF EXISTS tickets_ticket_created, tickets_ticket_renamed,
    tickets_message_added, tickets_message_changed, tickets_search_refresh,
    tickets_search_rebuild;
DROP AGGREGATE IF EXISTS tickets_vector_agg(tsvector);
DROP FUNCTION IF EXISTS tickets_vector_append, tickets_message_vector, tickets_subject_vector;
DROP TEXT SEARCH CONFIGURATION IF EXISTS helpdesk;
"""


def create_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_SEARCH)
    # Documents for the requests already there, in chunks (a big database takes minutes).
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(min(id), 0), coalesce(max(id), -1) FROM tickets_ticket")
        first, last = cursor.fetchone()
        for start in range(first, last + 1, 20_000):
            cursor.execute("SELECT tickets_search_rebuild(%s, %s)", [start, start + 19_999])


def drop_search(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SEARCH)


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0007_list_and_dashboard_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='SearchDocument',
            fields=[
                ('ticket', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search_document', serialize=False, to='tickets.ticket')),
                ('document', django.contrib.postgres.search.SearchVectorField()),
            ],
        ),
        migrations.RunPython(create_search, drop_search),
    ]
