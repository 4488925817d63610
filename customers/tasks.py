"""Beat tasks of the lifecycle: each calls the tick, the same code as `manage.py lifecycle_tick`.

The daily tick fans out (issue 11): ``lifecycle_tick`` plans the first phase into chunk tasks
(``customers.fanout``) that any number of workers share. ``LIFECYCLE_TICK_FANOUT = False`` runs
it in the worker's process instead, like the command.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .fanout import Chunk, tick_chunk_run, tick_fanout_start, tick_phase_plan
from .tick import consent_expiry_tick, lifecycle_tick


def _tick_instant() -> datetime:
    # Beat fires a few seconds after the scheduled minute; the countdown (D3/D4) compares
    # instants, so the marks and warnings it records are kept on the minute. Otherwise a tick
    # that fires 0.3 s earlier than yesterday's would find "30 days" not yet passed.
    return timezone.now().replace(second=0, microsecond=0)


def _queue_chunk(run_id: int, phase: int, chunk: Chunk) -> None:
    lifecycle_sweep_chunk.delay(run_id, phase, list(chunk))


@shared_task(name="customers.tasks.lifecycle_tick")
def lifecycle_tick_task() -> dict[str, Any]:
    """Daily: every date-driven rule (D, S, T), fanned out over the workers."""
    now = _tick_instant()
    if getattr(settings, "LIFECYCLE_TICK_FANOUT", True):
        run = tick_fanout_start(now=now, queue=_queue_chunk)
        return {"run": run.pk if run else None}
    report = lifecycle_tick(now=now)
    return {r.name: r.count for r in report.results}


@shared_task(name="customers.tasks.lifecycle_tick_phase")
def lifecycle_tick_phase(run_id: int, phase: int) -> None:
    tick_phase_plan(run_id=run_id, phase=phase, queue=_queue_chunk)


@shared_task(name="customers.tasks.lifecycle_sweep_chunk")
def lifecycle_sweep_chunk(run_id: int, phase: int, chunk: list[Any]) -> None:
    """One chunk of one due-sweep; the chunk that finishes its phase queues the next."""
    name, first, last, ids = chunk
    next_phase = tick_chunk_run(run_id=run_id, phase=phase, chunk=(name, first, last, ids))
    if next_phase is not None:
        lifecycle_tick_phase.delay(run_id, next_phase)


@shared_task(name="customers.tasks.consent_expiry_tick")
def consent_expiry_tick_task() -> dict[str, int]:
    """Hourly: T3 consent expiry and T2 welcome emails."""
    report = consent_expiry_tick(now=_tick_instant())
    return {r.name: r.count for r in report.results}
