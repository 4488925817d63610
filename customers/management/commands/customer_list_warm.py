"""Precompute the customer list's costly sort orders for every certified partner.

Run it from the periodic tick (every few minutes); until it has run, or after a change to a
partner's trials, that partner's list sorts those columns in SQL: slower, never wrong.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from customers.selectors import customer_sort_orders_build
from partnerhub.accounts.choices import OrgKind
from partnerhub.accounts.models import Organization


class Command(BaseCommand):
    help = "Precompute the customer list's sort orders for statuses, services and admins."

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        for partner in Organization.objects.filter(kind=OrgKind.PARTNER, partner_certified=True):
            started = time.perf_counter()
            built = customer_sort_orders_build(partner=partner, today=today)
            self.stdout.write(
                f"{partner.name}: {max(built.values(), default=0):,} customers, "
                f"{len(built)} orders in {time.perf_counter() - started:.1f} s"
            )
