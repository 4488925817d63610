"""Precompute the customer list's costly sort orders for every certified partner.

Run it from the periodic tick (every few minutes); until it has run, or after a change to a
partner's trials, that partner's list sorts those columns in SQL: slower, never wrong.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from customers.selectors import customer_sort_orders_warm


class Command(BaseCommand):
    help = "Precompute the customer list's sort orders for statuses, services and admins."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        for name, count in customer_sort_orders_warm(today=timezone.localdate()).items():
            self.stdout.write(f"{name}: {count:,} customers")
        self.stdout.write(f"Done in {time.perf_counter() - started:.1f} s")
