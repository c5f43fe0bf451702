import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The whole beat schedule lives here, one entry per periodic job, each with why it runs
# when it does. Every job is a bounded, idempotent step: running one twice, or two at
# once, does no harm.
app.conf.beat_schedule = {
    # Escalations, New-stage alerts, passed deadlines and postponed requests waking up are
    # all minute-grained clocks; one sweep a minute keeps each within a minute of due.
    "escalation-sweep": {"task": "escalation.tasks.sweep", "schedule": 60.0},
    # Each mailbox has its own poll interval; this tick only starts the polls that are
    # due, so it can run often without polling anything too often.
    "mail-poll": {"task": "mailgateway.tasks.poll_mailboxes", "schedule": 30.0},
    # Mail that could not be sent waits at least a minute before its next try (the outbox's
    # backoff), and mail whose task was lost is due at once: a minute's tick serves both.
    "mail-deliver": {"task": "mailgateway.tasks.deliver_due_mail", "schedule": 60.0},
    # SMS the provider refused wait at least a minute before their next try (the SMS
    # outbox's backoff, as mail's), and SMS whose task was lost are due at once.
    "sms-deliver": {"task": "sms.tasks.deliver_due_sms", "schedule": 60.0},
    # An event whose after-commit dispatch failed or never ran is a minute old before it is
    # dispatched again, so the tick need not be finer.
    "domain-events": {"task": "tickets.tasks.redispatch_events", "schedule": 60.0},
    # A webhook's first retry is due a minute after it failed (webhooks.BACKOFF).
    "webhook-retries": {"task": "integrations.tasks.retry_webhooks", "schedule": 60.0},
    # Time-based rules count in hours; a minute's tick runs each within a minute of due.
    "time-rules": {"task": "automations.tasks.run_time_rules", "schedule": 60.0},
    # Scheduled reports are due at 06:00 local; five minutes late is early enough.
    "scheduled-reports": {"task": "reports.tasks.run_scheduled_reports", "schedule": 300.0},
}
