"""`manage.py record_activity --email … --kind … [--at ISO-8601] [--source …]`: report one user
activity from an outside system (D5)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from customers.choices import ActivityKind
from customers.management.commands.lifecycle_tick import parse_instant
from customers.services import activity_record
from partnerhub.accounts.models import User


class Command(BaseCommand):
    help = "Record a user activity (D5) that restarts the org's deletion countdown."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="the user's email address")
        parser.add_argument("--kind", required=True, choices=ActivityKind.values)
        parser.add_argument("--at", help="when it happened, ISO-8601 (default: now)")
        parser.add_argument("--source", default="command", help="the reporting system")

    def handle(self, *args: object, **options: object) -> None:
        email = str(options["email"]).strip().lower()
        user = User.objects.filter(email=email).first()
        if user is None:
            raise CommandError(f"No user with the email {email!r}.")
        at = parse_instant(str(options["at"])) if options.get("at") else timezone.now()
        if at > timezone.now() + timedelta(minutes=5):
            raise CommandError("--at is in the future.")
        event = activity_record(
            user=user, kind=str(options["kind"]), at=at, source=str(options["source"])[:64]
        )
        if event is None:
            self.stdout.write(f"{email} belongs to no organization: nothing to record.")
        else:
            self.stdout.write(
                f"Recorded {event.kind} of {email} at {at.isoformat()} (org {event.org_id})."
            )
