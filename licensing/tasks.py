"""Celery tasks of licensing: each takes ids (or the instant) and calls one function of
``licensing.provisioning``."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import provisioning


@shared_task(name="licensing.tasks.service_provision", acks_late=True)
def service_provision_task(service_id: int) -> str:
    """P1: provision one service. A backend that raised is tried again later with exponential
    backoff (the engine counts the attempts on the row and says when); the claim in the engine
    makes a duplicate or a relayed task harmless."""
    run = provisioning.service_provision(service_id=service_id)
    if run.retry_in is not None:
        service_provision_task.apply_async((service_id,), countdown=run.retry_in)
    return run.outcome


@shared_task(name="licensing.tasks.provisioning_relay")
def provisioning_relay_task() -> int:
    """Every few minutes: services still *Provisioning* past their due time (a lost task, a
    broker outage, a dead worker) are queued again, like the outbox relay for emails."""
    ids = provisioning.services_due_for_provisioning(now=timezone.now())
    for service_id in ids:
        service_provision_task.delay(service_id)
    return len(ids)
