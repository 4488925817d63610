"""Celery tasks of the platform: each takes ids, calls one function of outbox.py."""

from celery import shared_task

from . import outbox


@shared_task(
    bind=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=outbox.MAX_ATTEMPTS,
)
def outbox_deliver(self, email_id: int) -> bool:
    return outbox.outbox_deliver_one(email_id=email_id)


@shared_task
def outbox_relay() -> int:
    """Deliver whatever a crashed or unreachable worker left unsent for over a minute."""
    from datetime import timedelta

    count = 0
    for email_id in outbox.outbox_unsent_ids(older_than=timedelta(minutes=1)):
        outbox_deliver.delay(email_id)
        count += 1
    return count
