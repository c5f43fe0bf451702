from django.contrib import admin

from integrations.models import TrustedTarget


@admin.register(TrustedTarget)
class TrustedTargetAdmin(admin.ModelAdmin):
    list_display = ["host", "allow_plain_http", "allow_internal_address", "note"]
    search_fields = ["host", "note"]
