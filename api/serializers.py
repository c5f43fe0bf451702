from rest_framework import serializers

from tickets.models import Ticket


class RequestSerializer(serializers.ModelSerializer):
    queue = serializers.CharField(source="queue.name")
    stage = serializers.CharField(source="stage.name")
    status = serializers.CharField(source="status.name")
    priority = serializers.CharField(source="priority.name")
    category = serializers.CharField(source="category.name", allow_null=True, default=None)
    owner = serializers.CharField(source="owner.username", allow_null=True, default=None)
    team = serializers.CharField(source="team.name", allow_null=True, default=None)
    contact = serializers.EmailField(source="contact.email", allow_null=True, default=None)

    class Meta:
        model = Ticket
        fields = [
            "number", "subject", "queue", "stage", "status", "base_status", "priority",
            "category", "owner", "team", "contact", "channel", "created_at", "updated_at",
            "closed_at", "deadline", "resolved",
        ]  # fmt: skip
        read_only_fields = fields
