from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EscalationConfig(AppConfig):
    name = "escalation"

    def ready(self):
        # Hooks register themselves on import; every app's hooks.py is imported, as
        # admin.py is, so an escalation level can name any of them.
        autodiscover_modules("hooks")
        from escalation import subscribers

        subscribers.subscribe()
