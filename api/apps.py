from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "API"

    def ready(self):
        from api import subscriptions
        from tickets import events

        events.subscribe(
            events.NAMES,
            subscriptions.tell_subscribers,
            key="api.webhook_subscriptions",
            when=subscriptions.wanted,
        )
