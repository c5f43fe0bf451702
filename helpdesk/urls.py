from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path
from django.views.generic import RedirectView

from tickets.forms.accounts import AdminSignInForm, AgentAuthenticationForm

admin.site.site_header = "Helpdesk administration"
admin.site.site_title = "Helpdesk admin"
admin.site.site_url = "/desk/"
admin.site.login_form = AdminSignInForm

urlpatterns = [
    path("", RedirectView.as_view(url="/desk/", permanent=False)),
    path(
        "accounts/login/",
        LoginView.as_view(authentication_form=AgentAuthenticationForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("desk/notifications/", include("escalation.urls")),
    path("desk/automations/", include("automations.urls")),
    path("desk/billing/", include("billing.views")),
    path("desk/reports/", include("reports.views")),
    path("desk/processes/", include("processes.views")),
    path("desk/", include("tickets.urls")),
    path("portal/", include("tickets.views.portal")),
    # Stored files are not served from MEDIA_URL, not even under DEBUG: every download
    # goes through the access rules of tickets.views.attachments.
    path("", include("tickets.views.attachments")),
    path("api/v1/", include("api.urls")),
    # The SMS provider's webhooks (signed, no session).
    path("sms/", include("sms.urls")),
    path("", include("api.desk")),
    path("", include("billing.portal")),
    path("", include("processes.portal")),
    path("admin/", admin.site.urls),
]
