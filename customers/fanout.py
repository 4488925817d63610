"""The lifecycle tick fanned out over Celery workers (issue 11).

Beat's task calls ``tick_fanout_start(now)``. Each phase of ``customers.tick.PHASES`` is
*planned*: for every sweep of the phase, the ids of what is due are read (indexed selections)
and split into ranges of ``FANOUT_CHUNK`` due rows; one ``lifecycle_sweep_chunk`` task per range
is queued, and ``TickRun.pending`` counts them. Any worker (on any machine, one database) runs a
chunk: the sweep itself, restricted to that id range (``within``), so chunks of one sweep never
wait for each other's row locks and every chunk re-selects what is still due. The chunk that
brings ``pending`` to zero plans the next phase, so the order of the in-process tick holds.

D4's safety limit is decided once, when its phase is planned (``deletion_batch_decide`` under its
advisory lock, holding the batch or letting ids through); chunks get those ids and re-check each
org in their own transaction. A chunk that fails is logged and counted done; what it left is
still due and the next tick does it (every sweep is a due-sweep).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from partnerhub.core.sweeps import SweepResult

from .models import TickRun
from .tick import PHASES, sweep_named

logger = logging.getLogger(__name__)

FANOUT_CHUNK = 500  # due rows per chunk task, at most
# A sweep is split into at least this many chunks of equal size (each of at least
# FANOUT_CHUNK_MIN rows), so the workers of a phase finish together: 1,500 due rows in chunks of
# 500 left one of two workers idle for a third of the phase.
FANOUT_CHUNKS_MIN = 8
FANOUT_CHUNK_MIN = 50

# A chunk: (sweep name, first id, last id, explicit ids or None).
Chunk = tuple[str, int, int, list[int] | None]
Queue = Callable[[int, int, Chunk], None]


def _split(ids: list[int]) -> list[tuple[int, int, list[int]]]:
    """``ids`` in id order as chunks of equal size (first id, last id, the ids)."""
    ids = sorted(ids)
    if not ids:
        return []
    parts = max(
        -(-len(ids) // FANOUT_CHUNK),  # ceil: no chunk over FANOUT_CHUNK rows
        min(FANOUT_CHUNKS_MIN, len(ids) // FANOUT_CHUNK_MIN),
        1,
    )
    bounds = [len(ids) * k // parts for k in range(parts + 1)]
    return [(ids[lo], ids[hi - 1], ids[lo:hi]) for lo, hi in itertools.pairwise(bounds)]


def tick_fanout_start(*, now: datetime, queue: Queue) -> TickRun | None:
    """Start the run of the tick at ``now``; None if that tick was started already."""
    run, created = TickRun.objects.get_or_create(now=now)
    if not created:
        return None
    tick_phase_plan(run_id=run.pk, phase=0, queue=queue)
    return run


def tick_phase_plan(*, run_id: int, phase: int, queue: Queue) -> None:
    """Queue the chunks of ``phase`` (or of the next phase with anything due)."""
    run = TickRun.objects.get(pk=run_id)
    while phase < len(PHASES):
        planned: list[Chunk] = []
        counts: dict[str, int] = {}
        for sweep in PHASES[phase]:
            if sweep.decide is not None:
                result = SweepResult(name=sweep.name, rule="")
                ids = sweep.decide(run.now, result)
                counts[f"{sweep.name}_emails"] = result.emails
                planned.extend((sweep.name, lo, hi, part) for lo, hi, part in _split(ids))
            elif sweep.due is not None:
                ids = list(sweep.due(run.now).order_by().values_list("pk", flat=True))
                planned.extend((sweep.name, lo, hi, None) for lo, hi, _part in _split(ids))
            else:  # not split: one chunk runs the whole sweep
                planned.append((sweep.name, 0, 0, None))
        with transaction.atomic():
            locked = TickRun.objects.select_for_update().get(pk=run_id)
            locked.phase = phase
            locked.pending = len(planned)
            for name, count in counts.items():
                locked.counts[name] = locked.counts.get(name, 0) + count
            locked.save(update_fields=["phase", "pending", "counts"])
        if planned:
            for chunk in planned:
                queue(run_id, phase, chunk)
            return
        phase += 1
    TickRun.objects.filter(pk=run_id, finished_at__isnull=True).update(finished_at=timezone.now())


def tick_chunk_run(*, run_id: int, phase: int, chunk: Chunk) -> int | None:
    """Run one chunk; returns the next phase to plan when this chunk finished its phase."""
    name, first, last, ids = chunk
    run = TickRun.objects.get(pk=run_id)
    sweep = sweep_named(name)
    result: SweepResult | None = None
    try:
        if ids is not None:
            result = sweep.run(now=run.now, org_ids=ids)
        elif sweep.due is None:
            result = sweep.run(now=run.now)
        else:
            result = sweep.run(now=run.now, within=(first, last))
    except Exception:
        logger.exception(
            "Tick chunk %s [%s, %s] failed; the next tick does what it left.", *chunk[:3]
        )
    with transaction.atomic():
        locked = TickRun.objects.select_for_update().get(pk=run_id)
        if result is not None:
            locked.counts[name] = locked.counts.get(name, 0) + result.count
            emails = f"{name}_emails"
            locked.counts[emails] = locked.counts.get(emails, 0) + result.emails
        if locked.phase == phase and locked.pending > 0:
            locked.pending -= 1
        locked.save(update_fields=["counts", "pending"])
        done = locked.phase == phase and locked.pending == 0
    return phase + 1 if done else None
