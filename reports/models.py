from django.db import models


class Report(models.Model):
    """No table: the permission to read the reports hangs on it."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", "Can see the reports")]

    def __str__(self):
        return "Reports"
