"""Celery tasks of the platform: each takes ids, calls one function of outbox.py."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from . import outbox

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=outbox.MAX_ATTEMPTS,
)
def outbox_deliver(self, email_id: int) -> bool:
    return outbox.outbox_deliver_one(
        email_id=email_id, node=getattr(self.request, "hostname", None)
    )


@shared_task(bind=True)
def outbox_deliver_many(self, email_ids: list[int]) -> int:
    """Deliver a batch of owed emails: claimed in one transaction, sent over one SMTP
    connection, each marked sent as it is accepted (``outbox.outbox_deliver_batch``). An email
    that fails gets its own ``outbox_deliver`` task with retries and backoff; the claim keeps
    every email from being sent twice."""
    sent = 0
    node = getattr(self.request, "hostname", None)
    for start in range(0, len(email_ids), outbox.BATCH_SIZE):
        result = outbox.outbox_deliver_batch(
            ids=email_ids[start : start + outbox.BATCH_SIZE], node=node
        )
        sent += result.sent
        for email_id in result.failed:
            outbox_deliver.apply_async((email_id,), countdown=30)
    return sent


@shared_task
def outbox_relay(older_than_seconds: int = 60, restarted_node: str | None = None) -> int:
    """Queue whatever is owed and not being delivered: by beat every 5 minutes (rows a crashed
    worker or a broker outage left behind), and at once when a worker starts. ``restarted_node``
    first releases the claims of the killed process that ran under that node name (issue 9)."""
    if restarted_node:
        released = outbox.outbox_claims_release(node=restarted_node)
        if released:
            logger.warning(
                "Released %d owed emails claimed by a previous %s.", released, restarted_node
            )
    ids = outbox.outbox_unsent_ids(older_than=timedelta(seconds=older_than_seconds), limit=10_000)
    for start in range(0, len(ids), outbox.BATCH_SIZE):
        outbox_deliver_many.delay(ids[start : start + outbox.BATCH_SIZE])
    return len(ids)


@worker_ready.connect
def relay_on_worker_start(sender: Any = None, **_kwargs: Any) -> None:
    """Issue 9: a worker that starts (after a crash, a deploy) relays the outbox at once instead
    of waiting for beat; it releases its own node's stale claims first, so emails a killed
    worker had claimed go out within seconds. Claims of other nodes wait for CLAIM_TIMEOUT, and
    a second relay then picks them up."""
    from django.conf import settings

    if not settings.OUTBOX_RELAY_ON_WORKER_START:
        return
    node = getattr(sender, "hostname", None)
    try:
        outbox_relay.delay(older_than_seconds=0, restarted_node=node)
        outbox_relay.apply_async(
            kwargs={"older_than_seconds": 0},
            countdown=int(outbox.CLAIM_TIMEOUT.total_seconds()) + 5,
        )
    except Exception:
        logger.warning("Could not queue the start-up relay; beat's relay will deliver.")
