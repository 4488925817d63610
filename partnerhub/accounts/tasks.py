"""Celery tasks of accounts: webhook delivery (issue 15). Each takes ids, calls one function."""

from celery import shared_task

from . import webhooks


@shared_task
def webhook_deliver(delivery_id: int) -> bool | None:
    """One try of one delivery; a failure schedules its own retry (backoff in webhooks.py)."""
    return webhooks.webhook_deliver_one(delivery_id=delivery_id)


@shared_task
def webhook_relay() -> int:
    """Queue deliveries that are due but whose task was lost (a dead worker, a broker outage)."""
    ids = webhooks.webhook_due_ids()
    for delivery_id in ids:
        webhook_deliver.delay(delivery_id)
    return len(ids)
