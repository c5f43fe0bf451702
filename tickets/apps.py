from django.apps import AppConfig


class TicketsConfig(AppConfig):
    verbose_name = "Requests"
    name = "tickets"
