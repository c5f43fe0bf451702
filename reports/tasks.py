from celery import shared_task

from reports import schedules


@shared_task
def run_scheduled_reports() -> int:
    return schedules.run_due()
