"""Rebuild the customer list's read model from the source tables (issue 11).

    manage.py customer_rows_rebuild [--today YYYY-MM-DD]

Run after a restore, after loading data behind the services' back, or whenever
``customer_rows_check`` reports differences. Safe while the site runs: each id range is
replaced in its own transaction.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from licensing.readmodel import customer_rows_rebuild
from partnerhub.core.clock import business_today


class Command(BaseCommand):
    help = "Recompute every row of the customer list's read model from the source tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        rows = customer_rows_rebuild(today=options["today"] or business_today())
        self.stdout.write(f"{rows} customer rows rebuilt in {time.perf_counter() - started:.1f} s")
