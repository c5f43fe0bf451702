from django.apps import AppConfig


class MailgatewayConfig(AppConfig):
    name = "mailgateway"
    verbose_name = "Mail gateway"

    def ready(self):
        from mailgateway import subscribers

        subscribers.subscribe()
