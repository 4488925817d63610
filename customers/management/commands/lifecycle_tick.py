"""`manage.py lifecycle_tick [--now ISO-8601] [--dry-run]`: the same code Celery beat runs."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from customers.tick import lifecycle_tick


def parse_instant(value: str) -> datetime:
    """ISO-8601 date or date-time; without an offset it is read as UTC."""
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now: not an ISO-8601 date or date-time: {value!r}") from exc
    if timezone.is_naive(instant):
        instant = instant.replace(tzinfo=UTC)
    return instant


class Command(BaseCommand):
    help = (
        "Run every date-driven lifecycle rule (D1–D4, D6, S1–S2, T2, T3, T11–T13) as of an "
        "instant. --dry-run prints what would happen and changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            help="the instant to run as, ISO-8601 (e.g. 2027-03-01 or 2027-03-01T02:00:00+00:00); "
            "default: the current time",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would happen; change nothing"
        )
        parser.add_argument(
            "--quiet", action="store_true", help="print only the counts, not the items"
        )

    def handle(self, *args: object, **options: object) -> None:
        now = parse_instant(str(options["now"])) if options.get("now") else timezone.now()
        report = lifecycle_tick(now=now, dry_run=bool(options["dry_run"]))
        self.stdout.write(report.as_text(verbose=not options["quiet"]))
