import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The whole beat schedule lives here, one entry per periodic job, each with why it runs
# when it does. Later issues add the escalation sweep and mail polling.
app.conf.beat_schedule = {}
