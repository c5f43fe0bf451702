from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Helpdesk administration"
admin.site.site_title = "Helpdesk admin"
admin.site.site_url = "/desk/"

urlpatterns = [
    path("", RedirectView.as_view(url="/desk/", permanent=False)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("desk/", include("tickets.urls")),
    path("portal/", include("tickets.views.portal")),
    path("admin/", admin.site.urls),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
