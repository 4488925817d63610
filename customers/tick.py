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
owed) and nothing changes — no row, no email (deliveries are only queued after commit).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from licensing import sweeps as licensing_sweeps
from licensing.readmodel import customer_rows_advance
from partnerhub.core.sweeps import SweepResult
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


def _run(now: datetime) -> list[SweepResult]:
    results: list[SweepResult] = []
    results.append(trial_sweeps.consent_expire_due(now=now))
    results.append(trial_sweeps.trial_welcome_due(now=now))
    results.extend(trial_sweeps.trial_notices_due(now=now))
    results.append(licensing_sweeps.subscriptions_suspend_due(now=now))
    results.append(
        licensing_sweeps.subscriptions_end_due(
            now=now, on_ended=trial_sweeps.trial_services_removed_owe
        )
    )
    results.append(licensing_sweeps.trial_numbers_release_due(now=now))
    results.append(customer_sweeps.deletion_unmark_due(now=now))
    results.append(customer_sweeps.deletion_mark_due(now=now))
    results.append(customer_sweeps.deletion_warn_due(now=now))
    results.append(customer_sweeps.deletion_due(now=now))
    # P3: the customer list's read model crosses the 30/60-day boundaries of the new day.
    results.append(customer_rows_advance(today=timezone.localdate(now)))
    return results


def lifecycle_tick(*, now: datetime, dry_run: bool = False) -> TickReport:
    """Run every date-driven rule as of ``now`` (D1–D4, D6, S1–S2, T2, T3, T11–T13)."""
    report = TickReport(now=now, dry_run=dry_run)
    started = time.perf_counter()
    if dry_run:
        try:
            with transaction.atomic():
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
        customer_rows_advance(today=timezone.localdate(now)),
    ]
    report.seconds = time.perf_counter() - started
    return report
