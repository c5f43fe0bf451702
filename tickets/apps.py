from django.apps import AppConfig


class TicketsConfig(AppConfig):
    verbose_name = "Requests"
    name = "tickets"

    def ready(self):
        from tickets import acknowledgement

        acknowledgement.subscribe()
