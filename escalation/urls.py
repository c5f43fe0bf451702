from django.urls import path

from escalation import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("seen/", views.notification_seen, name="seen"),
    path("<int:pk>/open/", views.notification_open, name="open"),
]
