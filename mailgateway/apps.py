from django.apps import AppConfig


class MailgatewayConfig(AppConfig):
    name = "mailgateway"
    verbose_name = "Mail gateway"
