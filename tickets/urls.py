from django.urls import path
from django.views.generic import RedirectView

from tickets.views.desk import activities, create, dashboard, lists, people, request

app_name = "desk"

urlpatterns = [
    path("", RedirectView.as_view(url="/desk/requests/?owner=me&open=1"), name="home"),
    *lists.urlpatterns,
    *create.urlpatterns,
    *request.urlpatterns,
    *people.urlpatterns,
    *dashboard.urlpatterns,
    *activities.urlpatterns,
]
