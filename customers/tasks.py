"""Beat tasks of the lifecycle: each calls the tick, the same code as `manage.py lifecycle_tick`."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .tick import consent_expiry_tick, lifecycle_tick


def _tick_instant():  # type: ignore[no-untyped-def]
    # Beat fires a few seconds after the scheduled minute; the countdown (D3/D4) compares
    # instants, so the marks and warnings it records are kept on the minute. Otherwise a tick
    # that fires 0.3 s earlier than yesterday's would find "30 days" not yet passed.
    return timezone.now().replace(second=0, microsecond=0)


@shared_task(name="customers.tasks.lifecycle_tick")
def lifecycle_tick_task() -> dict[str, int]:
    """Daily: every date-driven rule (D, S, T)."""
    report = lifecycle_tick(now=_tick_instant())
    return {r.name: r.count for r in report.results}


@shared_task(name="customers.tasks.consent_expiry_tick")
def consent_expiry_tick_task() -> dict[str, int]:
    """Hourly: T3 consent expiry and T2 welcome emails."""
    report = consent_expiry_tick(now=_tick_instant())
    return {r.name: r.count for r in report.results}
