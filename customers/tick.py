"""The one entry point of the date-driven lifecycle: ``lifecycle_tick(now=...)``.

Celery beat (``customers.tasks``) and ``manage.py lifecycle_tick`` call the same function. The
order matters only within one tick, and every sweep is safe on its own:

1. T3 consent expiry — a cancelled trial may leave an org with no licenses (then D1);
2. T2 welcome emails;
3. T11 notices — before S1 suspends a trial whose end day was yesterday;
4. S1 suspension, 5. S2/T12/T13 removal at the end of the period, 6. T13 number release;
7. D6 unmark, 8. D1 mark — after the subscription sweeps, which change who holds licenses;
9. D3 warn, 10. D4 delete — last, so nothing marked or warned in this tick can go in it.

``dry_run=True`` runs the very same tick inside a transaction and rolls it back: the report says
exactly what would happen (orgs to mark, warn, delete; trials to notify, expire, end; emails
owed) and nothing changes — no row, no email (deliveries are only queued after commit). The
emails it owes are counted, not rendered (``outbox.emails_counted_only``): nobody reads them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from licensing import sweeps as licensing_sweeps
from licensing.readmodel import customer_rows_advance
from partnerhub.core.clock import business_date
from partnerhub.core.outbox import emails_counted_only
from partnerhub.core.sweeps import PkRange, SweepResult
from trials import sweeps as trial_sweeps

from . import sweeps as customer_sweeps

logger = logging.getLogger(__name__)


@dataclass
class TickReport:
    now: datetime
    dry_run: bool
    results: list[SweepResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def emails(self) -> int:
        return sum(r.emails for r in self.results)

    def result(self, name: str) -> SweepResult:
        return next(r for r in self.results if r.name == name)

    def as_text(self, *, verbose: bool = True) -> str:
        head = "DRY RUN — nothing was changed. " if self.dry_run else ""
        lines = [f"{head}Lifecycle tick as of {self.now.isoformat()} ({self.seconds:.2f}s)"]
        done, owed = ("to do", "emails to owe") if self.dry_run else ("done", "emails owed")
        for r in self.results:
            lines.append(f"  {r.rule:<4} {r.name:<24} {r.count:>6} {done}, {r.emails:>5} {owed}")
            if verbose:
                lines.extend(f"         · {item}" for item in r.items)
                if r.count > len(r.items):
                    lines.append(f"         · … and {r.count - len(r.items)} more")
        lines.append(f"  {owed} in total: {self.emails}")
        return "\n".join(lines)


class _Rollback(Exception):
    pass


@dataclass(frozen=True)
class Sweep:
    """One due-sweep of the tick.

    ``run(now=…, within=…)`` acts on what is due (``within``: only ids in that range, a fan-out
    chunk). ``due(now)`` selects what is due, so a fanned-out tick can split it into id ranges.
    D4 instead has ``decide(now, result)``: the safety limit decides once, up front, which org
    ids may go, and chunks get those ids (``run(now=…, org_ids=…)``) and re-check each.
    """

    name: str
    run: Callable[..., SweepResult]
    due: Callable[[datetime], QuerySet[Any]] | None = None
    decide: Callable[[datetime, SweepResult], list[int]] | None = None


def _subscriptions_end(*, now: datetime, within: PkRange | None = None) -> SweepResult:
    return licensing_sweeps.subscriptions_end_due(
        now=now, on_ended=trial_sweeps.trial_services_removed_owe, within=within
    )


def _customer_rows_advance(*, now: datetime, within: PkRange | None = None) -> SweepResult:
    return customer_rows_advance(today=business_date(now))


def _today(now: datetime) -> date:
    return now.date()


# The tick: phases run one after the other; the sweeps of a phase touch disjoint rows, so a
# fanned-out tick runs them (and their chunks) at the same time. To add a sweep, add it to the
# phase whose results it needs (or a new phase at the right place); that is all.
PHASES: tuple[tuple[Sweep, ...], ...] = (
    (
        Sweep(  # T3 — a cancelled trial may leave an org with no licenses (then D1)
            "consent_expire",
            trial_sweeps.consent_expire_due,
            lambda now: trial_sweeps.consent_requests_due_for_expiry(now=now),
        ),
        Sweep(  # T2
            "trial_welcome",
            trial_sweeps.trial_welcome_due,
            lambda now: trial_sweeps.trials_due_for_welcome(now=now),
        ),
        Sweep(  # T11 — before S1 suspends a trial whose end day was yesterday
            "trial_ending_soon",
            trial_sweeps.trial_ending_soon_notices_due,
            lambda now: trial_sweeps.trials_due_for_notice(kind="trial_ending_soon", now=now),
        ),
        Sweep(
            "trial_ends_today",
            trial_sweeps.trial_end_notices_due,
            lambda now: trial_sweeps.trials_due_for_notice(kind="trial_ends_today", now=now),
        ),
    ),
    (
        Sweep(  # S1
            "subscription_suspend",
            licensing_sweeps.subscriptions_suspend_due,
            lambda now: licensing_sweeps.subscriptions_due_for_suspension(today=_today(now)),
        ),
    ),
    (
        Sweep(  # S2/T12/T13 removal at the end of the period
            "subscription_end",
            _subscriptions_end,
            lambda now: licensing_sweeps.subscriptions_due_for_removal(today=_today(now)),
        ),
        Sweep(  # T13 number release (calling stopped 15+ days ago: never this tick's S2)
            "trial_numbers_release",
            licensing_sweeps.trial_numbers_release_due,
            lambda now: licensing_sweeps.trials_due_for_number_release(today=_today(now)),
        ),
    ),
    # D6, D1 after the subscription sweeps, which change who holds licenses.
    (
        Sweep(
            "deletion_unmark",
            customer_sweeps.deletion_unmark_due,
            lambda now: customer_sweeps.orgs_due_for_unmark(),
        ),
    ),
    (
        Sweep(
            "deletion_mark",
            customer_sweeps.deletion_mark_due,
            lambda now: customer_sweeps.orgs_due_for_mark_recheck(),
        ),
    ),
    (
        Sweep(  # D3
            "deletion_warn",
            customer_sweeps.deletion_warn_due,
            lambda now: customer_sweeps.orgs_due_for_deletion_warning(now=now),
        ),
    ),
    # D4 last, so nothing marked or warned in this tick can go in it.
    (
        Sweep(
            "deletion",
            customer_sweeps.deletion_due,
            decide=lambda now, result: customer_sweeps.deletion_batch_decide(
                now=now, result=result
            ),
        ),
    ),
    # P3: the customer list's read model crosses the 30/60-day boundaries of the new day (set-
    # based already; a sweep with neither ``due`` nor ``decide`` runs as one chunk).
    (Sweep("customer_rows_advance", _customer_rows_advance),),
)


def sweep_named(name: str) -> Sweep:
    return next(s for phase in PHASES for s in phase if s.name == name)


def _run(now: datetime) -> list[SweepResult]:
    return [sweep.run(now=now) for phase in PHASES for sweep in phase]


def lifecycle_tick(*, now: datetime, dry_run: bool = False) -> TickReport:
    """Run every date-driven rule as of ``now`` (D1–D4, D6, S1–S2, T2, T3, T11–T13)."""
    report = TickReport(now=now, dry_run=dry_run)
    started = time.perf_counter()
    if dry_run:
        try:
            with transaction.atomic(), emails_counted_only():
                report.results = _run(now)
                raise _Rollback
        except _Rollback:
            pass
    else:
        report.results = _run(now)
    report.seconds = time.perf_counter() - started
    logger.info(
        "Lifecycle tick %s%s: %s; %d emails owed",
        now.isoformat(),
        " (dry run)" if dry_run else "",
        ", ".join(f"{r.name}={r.count}" for r in report.results if r.count),
        report.emails,
    )
    return report


def consent_expiry_tick(*, now: datetime) -> TickReport:
    """T3 and T2 only, for the hourly beat entry: consent expires by the hour, and a welcome
    email should not wait a day for the next full tick."""
    report = TickReport(now=now, dry_run=False)
    started = time.perf_counter()
    report.results = [
        trial_sweeps.consent_expire_due(now=now),
        trial_sweeps.trial_welcome_due(now=now),
        # Hourly too, so the list's statuses move soon after midnight, not at the daily tick.
        customer_rows_advance(today=business_date(now)),
    ]
    report.seconds = time.perf_counter() - started
    return report
