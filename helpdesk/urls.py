from django.conf import settings
from django.conf.urls.static import static
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
    path("desk/", include("tickets.urls")),
    path("portal/", include("tickets.views.portal")),
    path("admin/", admin.site.urls),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
