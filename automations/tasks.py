from celery import shared_task

from automations import engine


@shared_task(acks_late=True, max_retries=0)
def run_time_rules() -> int:
    """Beat's tick for the time-based rules. Not retried: the next tick is the retry, and
    a request is judged once per occasion however many ticks overlap (TimerMark)."""
    return engine.sweep_timers()
