"""Benchmark (issue 16): the partner's dashboard and the deletion forecasts against the customer
list page, in the same run, with their query counts.

    nice -n 10 .venv/bin/python bench/dashboard_forecast.py [--customers 100000] [--runs 7]

Builds (once) a SQLite database with ``seed_demo --customers N`` (``--db`` to reuse one), signs
in as a sales admin of the partner with most customers and as a superuser, and reports the
median wall time of each page, the runs interleaved (in-process test client: routing,
middleware, queries, templates).
The target: dashboard and forecast each under 2x the customer list's median; exit status 1 if
one is not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", default=None, help="SQLite file (default var/bench16_<N>.sqlite3)")
    args = parser.parse_args()

    db = Path(args.db or ROOT / "var" / f"bench16_{args.customers}.sqlite3")
    db.parent.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings.dev")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from bench._setup import QueryCounter
    from partnerhub.accounts.choices import OrgKind, Role
    from partnerhub.accounts.models import Membership, Organization, User
    from partnerhub.core.listview import summary_cache_clear

    call_command("migrate", verbosity=0)
    from licensing.models import CustomerRow

    if (
        CustomerRow.objects.exists()
        and not CustomerRow.objects.filter(deletion_on__isnull=False).exists()
    ):  # a database from before the forecast columns
        call_command("customer_rows_rebuild")
    if not Organization.objects.filter(kind=OrgKind.CUSTOMER).exists():
        started = time.perf_counter()
        call_command("seed_demo", customers=args.customers)
        print(f"seed_demo --customers {args.customers}: {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    partner = (
        Organization.objects.filter(kind=OrgKind.PARTNER, partner_certified=True)
        .annotate(n=Count("customer_relationships"))
        .order_by("-n")
        .first()
    )
    assert partner is not None
    seller = User.objects.filter(
        memberships__org=partner, memberships__role__in=[Role.SALES_ADMIN, Role.SALES_FULL_ADMIN]
    ).first()
    if seller is None:
        seller = User.objects.create_user(email="bench16-seller@example.com", org=partner)
        Membership.objects.create(user=seller, org=partner, role=Role.SALES_ADMIN)
    staff = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        email="bench16-admin@example.com", password="x"
    )
    ours, support = Client(), Client()
    ours.force_login(seller)
    support.force_login(staff)

    cases = [
        ("customer list (baseline)", ours, reverse("customers:customer_list"), {}),
        ("dashboard", ours, reverse("customers:dashboard"), {}),
        ("dashboard, cold", ours, reverse("customers:dashboard"), {"cold": 1}),
        ("forecast, 30 days", ours, reverse("customers:deletion_forecast"), {"days": 30}),
        ("forecast, 90 days", ours, reverse("customers:deletion_forecast"), {"days": 90}),
        ("support forecast, 30 days", support, reverse("support:forecast"), {"days": 30}),
        ("support forecast, 90 days", support, reverse("support:forecast"), {"days": 90}),
    ]
    print(
        f"partner {partner.name!r}: {partner.customer_relationships.count()} customers; "
        f"{Organization.objects.count()} orgs in all; {args.runs} runs each"
    )
    counts: dict[str, int] = {}
    for name, client, url, params in cases:
        if params.get("cold"):
            summary_cache_clear("customers", partner.pk)
        else:
            client.get(url, params)  # warm
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            response = client.get(url, params)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = counter.count
    # Interleaved: each run requests every page once, so a busy moment costs every page alike.
    times: dict[str, list[float]] = {name: [] for name, *_ in cases}
    for _ in range(args.runs):
        for name, client, url, params in cases:
            if params.get("cold"):  # a change to the partner's rows just made its numbers stale
                summary_cache_clear("customers", partner.pk)
            started = time.perf_counter()
            client.get(url, params)
            times[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, m in medians.items():
        print(f"  {name:<28} median {m * 1000:8.1f} ms   {counts[name]:3d} queries")
    base = medians["customer list (baseline)"]
    slow = [n for n, m in medians.items() if m > 2 * base]
    for name, m in medians.items():
        print(f"  {name:<28} {m / base:5.2f}x the list")
    if slow:
        print("OVER 2x the customer list: " + ", ".join(slow))
        sys.exit(1)


if __name__ == "__main__":
    main()
