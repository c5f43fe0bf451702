from django.urls import path

from sms import views

app_name = "sms"

urlpatterns = [
    path("inbound/", views.receive_sms, name="inbound"),
    path("status/", views.sms_status, name="status"),
]
