"""The desk's settings, read-only: what a program needs to fill in a request's fields
(ids of queues, stages, statuses, priorities, categories, tags and custom fields)."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from api import serializers as answers
from api.views import Cursor, IsAgent
from tickets.access import queues_for
from tickets.models import Category, CustomField, Priority, Stage, Status, Tag


class Settings(viewsets.ReadOnlyModelViewSet):
    """Short lists, answered whole."""

    permission_classes = [IsAgent]
    pagination_class = None
    lookup_value_converter = "int"


@extend_schema_view(list=extend_schema(summary="The queues the agent works"))
class QueueViewSet(Settings):
    serializer_class = answers.QueueSerializer

    def get_queryset(self):
        return queues_for(self.request.user).order_by("name")


@extend_schema_view(list=extend_schema(summary="The stages of the agent's queues, in order"))
class StageViewSet(Settings):
    serializer_class = answers.StageSerializer

    def get_queryset(self):
        queues = queues_for(self.request.user)
        return Stage.objects.filter(queue__in=queues).order_by("queue_id", "position", "id")


@extend_schema_view(list=extend_schema(summary="Statuses, each of a base status"))
class StatusViewSet(Settings):
    serializer_class = answers.StatusSerializer
    queryset = Status.objects.order_by("base", "name")


@extend_schema_view(list=extend_schema(summary="Priorities, highest rank first"))
class PriorityViewSet(Settings):
    serializer_class = answers.PrioritySerializer
    queryset = Priority.objects.order_by("-rank", "name")


@extend_schema_view(list=extend_schema(summary="The category tree, parents before children"))
class CategoryViewSet(Settings):
    serializer_class = answers.CategorySerializer
    queryset = Category.objects.order_by("tree_id", "lft")


class ByName(Cursor):
    ordering = ("name", "id")


@extend_schema_view(list=extend_schema(summary="Tags, by name"))
class TagViewSet(Settings):
    # Tags are made as agents type them: they can be many, so they come in pages.
    pagination_class = ByName
    serializer_class = answers.TagSerializer
    queryset = Tag.objects.all()


@extend_schema_view(list=extend_schema(summary="Custom fields, and the queues they apply to"))
class CustomFieldViewSet(Settings):
    serializer_class = answers.CustomFieldSerializer

    def get_queryset(self):
        # Fields of no queue apply to all; the others only where the agent works.
        queues = queues_for(self.request.user)
        return (
            CustomField.objects.filter(Q(queues__in=queues) | Q(queues__isnull=True))
            .distinct()
            .prefetch_related("queues")
            .order_by("position", "name")
        )
