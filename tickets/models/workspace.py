from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models


class SavedView(models.Model):
    """An agent's named request list: its filters and sort, as the list's query string."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=100)
    query = models.TextField(blank=True, help_text="The list's query string, sort included.")
    team = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="saved_views",
        help_text="Shared with this team.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_unique"),
        ]

    def __str__(self):
        return self.name
