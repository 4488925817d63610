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


@shared_task(bind=True)
def outbox_deliver_many(self, email_ids: list[int]) -> int:
    """Deliver a batch of owed emails over one SMTP connection (issue 3: a sweep owes hundreds at
    once; the tick queues one message per chunk instead of one per email). An email that fails
    gets its own ``outbox_deliver`` task with retries and backoff; the claim in
    ``outbox_deliver_one`` keeps every email from being sent twice."""
    from django.core.mail import get_connection

    sent = 0
    with get_connection() as connection:
        for email_id in email_ids:
            try:
                sent += outbox.outbox_deliver_one(email_id=email_id, connection=connection)
            except Exception:
                outbox_deliver.apply_async((email_id,), countdown=30)
    return sent
