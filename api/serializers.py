"""What the API answers: requests, their messages and history, people and the settings.

Related rows are ids; `?expand=queue,contact` puts the row itself in their place (they are
loaded with the request anyway), and `?fields=number,subject` keeps only those fields.
"""

from datetime import datetime, tzinfo

from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.inputs import RefusesUnknownFields
from tickets.models import (
    Approval,
    Attachment,
    Category,
    Company,
    Contact,
    CustomField,
    Event,
    Message,
    Priority,
    Queue,
    Stage,
    Status,
    Tag,
    Ticket,
)


class Named(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class Person(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class ContactBrief(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class Shaped(serializers.ModelSerializer):
    """`fields=` and `expand=` from the query string (on the top-level answer only)."""

    # field name -> the serializer of the row it names, when expanded
    expandable: dict[str, type[serializers.Serializer]] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None or self.parent is not None or request.method != "GET":
            return
        for name in _listed(request.query_params.get("expand")) & set(self.expandable):
            self.fields[name] = self.expandable[name](allow_null=True, read_only=True)
        wanted = _listed(request.query_params.get("fields"))
        if wanted:
            for name in set(self.fields) - wanted:
                self.fields.pop(name)


def _listed(value: str | None) -> set[str]:
    return {name.strip() for name in (value or "").split(",") if name.strip()}


class RequestSerializer(Shaped):
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    contact_email = serializers.EmailField(
        source="contact.email", default=None, read_only=True, allow_null=True
    )

    expandable = {
        "queue": Named,
        "stage": Named,
        "status": Named,
        "priority": Named,
        "category": Named,
        "team": Named,
        "owner": Person,
        "contact": ContactBrief,
    }

    class Meta:
        model = Ticket
        fields = [
            "number", "subject", "queue", "stage", "status", "base_status", "priority",
            "category", "impact", "urgency", "owner", "team", "contact", "contact_email",
            "channel", "tags", "custom_fields", "related_address", "created_at", "updated_at",
            "replied_at", "closed_at", "deadline", "alert_at", "postponed_until", "resolved",
            "merged_into",
        ]  # fmt: skip
        read_only_fields = fields

    def build_relational_field(self, field_name, relation_info):
        if field_name == "merged_into":
            return serializers.SlugRelatedField, {
                "slug_field": "number",
                "read_only": True,
                "allow_null": True,
            }
        return super().build_relational_field(field_name, relation_info)


class TagNames(Subquery):
    """A request's tag names in name order, as a JSON array in the request's own row."""

    template = (
        "(SELECT COALESCE(jsonb_agg(tag.name ORDER BY tag.name), '[]'::jsonb) "
        "FROM (%(subquery)s) tag)"
    )
    output_field = models.JSONField()

    def __init__(self):
        super().__init__(Tag.objects.filter(tickets=OuterRef("pk")).order_by("name").values("name"))

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite's aggregates take no ORDER BY before 3.44: the subquery's order holds.
        template = "(SELECT json_group_array(tag.name) FROM (%(subquery)s) tag)"
        return self.as_sql(compiler, connection, template=template, **extra)


# A list's rows are read as plain values and given RequestSerializer's shape without it:
# DRF's field-by-field calls on fifty model instances, and their tags prefetched, cost
# 12 ms of a 17 ms page. These are the columns its fields read where the name differs.
ROW_COLUMNS = {
    **{name: f"{name}_id" for name in RequestSerializer.expandable},
    "contact_email": "contact__email",
    "merged_into": "merged_into__number",
    "tags": "tag_names",
}
_DATETIMES = {f.name for f in Ticket._meta.fields if isinstance(f, models.DateTimeField)}


def request_rows(requests: QuerySet[Ticket]) -> QuerySet:
    """`requests` as the values a list shows, and their ids: the contact's email and the
    merged-into number joined, the tags in the same row (one query in all)."""
    columns = [ROW_COLUMNS.get(name, name) for name in RequestSerializer.Meta.fields]
    return requests.annotate(tag_names=TagNames()).values("id", *columns)


def request_answers(rows, fields: list[str], zone: tzinfo) -> list[dict]:
    """The rows of `request_rows`, as RequestSerializer would give their `fields`."""
    columns = [(name, ROW_COLUMNS.get(name, name), name in _DATETIMES) for name in fields]
    answers = []
    for values in rows:
        answer = {}
        for name, column, moment in columns:
            value = values[column]
            answer[name] = iso_8601(value, zone) if moment and value is not None else value
        answers.append(answer)
    return answers


def iso_8601(moment: datetime, zone: tzinfo) -> str:
    """DRF's DateTimeField output (`zone` is its current time zone, read once per answer:
    reading it for each value through asgiref cost 2 ms a page)."""
    text = moment.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def shown_fields(request) -> list[str]:
    """RequestSerializer's fields that `fields=` keeps (all when it names none)."""
    wanted = _listed(request.query_params.get("fields"))
    return [name for name in RequestSerializer.Meta.fields if not wanted or name in wanted]


def expands(request) -> bool:
    return bool(_listed(request.query_params.get("expand")) & set(RequestSerializer.expandable))


class AttachmentSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "download"]
        read_only_fields = fields

    def get_download(self, attachment) -> str:
        return reverse("api:attachment", args=[attachment.pk])


class MessageSerializer(serializers.ModelSerializer):
    author = Person(read_only=True, allow_null=True)
    author_contact = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id", "kind", "direction", "is_public", "author", "author_contact",
            "from_address", "to", "cc", "subject", "body_text", "body_html", "time_units",
            "is_pinned", "created_at", "sent_at", "attachments",
        ]  # fmt: skip
        read_only_fields = fields


class CustomerMessageSerializer(MessageSerializer):
    """A message as the portal shows it: no copies to others, no internal fields."""

    class Meta(MessageSerializer.Meta):
        fields = [
            "id", "kind", "direction", "author", "subject", "body_text", "body_html",
            "created_at", "attachments",
        ]  # fmt: skip
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    actor = Person(read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = ["id", "at", "actor", "action", "field", "old_value", "new_value", "reason", "via"]
        read_only_fields = fields


class CompanySerializer(RefusesUnknownFields, serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name", "domain", "phone", "address", "notes", "created_at"]
        read_only_fields = ["id", "created_at"]


class ContactSerializer(RefusesUnknownFields, serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id", "name", "email", "phone", "company", "address", "can_see_company_requests",
            "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at"]


class QueueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Queue
        fields = ["id", "name", "email_address", "is_open_to_portal", "default_priority"]
        read_only_fields = fields


class PortalQueueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Queue
        fields = ["id", "name"]
        read_only_fields = fields


class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "queue", "name", "state", "position"]
        read_only_fields = fields


class StatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = Status
        fields = ["id", "name", "base"]
        read_only_fields = fields


class PrioritySerializer(serializers.ModelSerializer):
    class Meta:
        model = Priority
        fields = ["id", "name", "rank"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "parent"]
        read_only_fields = fields


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]
        read_only_fields = fields


class CustomFieldSerializer(serializers.ModelSerializer):
    options = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = CustomField
        fields = ["id", "key", "name", "kind", "options", "queues"]
        read_only_fields = fields


@extend_schema_field({"type": "string", "format": "binary"})
class FileField(serializers.FileField):
    pass


class CustomerRequestSerializer(serializers.ModelSerializer):
    """A request as its customer sees it on the portal."""

    queue = Named(read_only=True)
    status = serializers.CharField(source="status.name", read_only=True)
    contact_email = serializers.EmailField(
        source="contact.email", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = Ticket
        fields = [
            "number", "subject", "queue", "status", "base_status", "contact_email",
            "created_at", "updated_at", "closed_at", "resolved",
        ]  # fmt: skip
        read_only_fields = fields


class ApprovalSerializer(serializers.ModelSerializer):
    stage = serializers.CharField(source="stage.name", read_only=True)

    class Meta:
        model = Approval
        fields = ["id", "stage", "text", "requested_at", "decided_at", "approved"]
        read_only_fields = fields
