"""Benchmark: the partner's customer list against the Django admin changelist (issue 4).

    .venv/bin/python bench/customer_list.py [--customers 100000] [--per-page 50] [--runs 7]

Builds (once) a SQLite database under var/ (or uses ``--database-url``) with
``seed_demo --customers N``, signs in as a
sales admin of the partner with most customers and as a superuser, and reports the median
wall time of each page request (in-process Django test client: URL routing, middleware,
queries and template rendering) — the customer list unfiltered, with each filter, sorted by
each column and on page 1,000 — side by side with the admin changelist of the same customers
at the same page size. If no Organization admin is registered, a minimal one is registered
here, for the benchmark only.
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
    parser.add_argument("--per-page", type=int, default=50, choices=(25, 50, 100))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", default=None, help="SQLite file (default var/bench_<N>.sqlite3)")
    parser.add_argument(
        "--database-url", default=None, help="another database (e.g. postgres://…) instead"
    )
    args = parser.parse_args()

    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        db = Path(args.db or ROOT / "var" / f"bench_{args.customers}.sqlite3")
        db.parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings.dev")
    os.environ["DEBUG"] = "false"  # no query log, cached templates: like production
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]

    from django.contrib import admin
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from partnerhub.accounts.choices import OrgKind, Role
    from partnerhub.accounts.models import Membership, Organization, User

    call_command("migrate", verbosity=0)
    if not Organization.objects.filter(kind=OrgKind.CUSTOMER).exists():
        started = time.perf_counter()
        call_command("seed_demo", customers=args.customers)
        print(f"seed_demo --customers {args.customers}: {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        # Give the planner its statistics (and PostgreSQL its visibility map, for index-only
        # scans), as production's autovacuum would.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

    if not admin.site.is_registered(Organization):

        @admin.register(Organization)
        class OrganizationAdmin(admin.ModelAdmin):  # benchmark only
            list_display = ("name", "kind", "country", "data_region", "created")
            list_filter = ("kind", "data_region")
            search_fields = ("name",)

    model_admin = admin.site.get_model_admin(Organization)
    model_admin.list_per_page = args.per_page

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
        seller = User.objects.create_user(email="bench-seller@example.com", org=partner)
        Membership.objects.create(user=seller, org=partner, role=Role.SALES_ADMIN)
    staff = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        email="bench-admin@example.com", password="x"
    )
    n_customers = partner.customer_relationships.count()
    n_all = Organization.objects.filter(kind=OrgKind.CUSTOMER).count()

    ours, theirs = Client(), Client()
    ours.force_login(seller)
    theirs.force_login(staff)
    list_url = reverse("customers:customer_list")
    admin_url = reverse("admin:accounts_organization_changelist")
    pp = {"per_page": args.per_page}
    base_admin = {"kind__exact": "customer"}
    admin_sorts = {  # admin ?o= index of the column nearest to ours, else its default order
        name: str(i + 1) for i, name in enumerate(model_admin.list_display) if isinstance(name, str)
    }

    def admin_sort(field: str) -> dict[str, str]:
        return {"o": admin_sorts[field]} if field in admin_sorts else {}

    cases: list[tuple[str, dict, dict]] = [
        ("unfiltered", {}, {}),
        ("filter: to be deleted", {"to_be_deleted": "true"}, {}),
        ("filter: provisioning failed", {"provisioning_status": "failed"}, {}),
        (
            "filter: prov. manual (partner)+awaiting",
            {"provisioning_status": ["manual_partner", "awaiting_details"]},
            {},
        ),
        ("filter: trial expiring 30 d", {"subscription_status": "trial_expiring_30"}, {}),
        (
            "filter: cancelled+expiring 60",
            {"subscription_status": ["cancelled", "expiring_60"]},
            {},
        ),
        ("filter: service calling", {"service": "calling"}, {}),
        ("filter: region emea", {"region": "emea"}, {"data_region__exact": "emea"}),
        ("search: name", {"q": "ab"}, {"q": "ab"}),
        ("search: admin email", {"q": "admin1"}, {"q": "admin1"}),
        (
            "filter: to be deleted + trial exp. 30",
            {"to_be_deleted": "true", "subscription_status": "trial_expiring_30"},
            {},
        ),
    ]
    for column, field in [
        ("name", "name"),
        ("provisioning_status", ""),
        ("subscription_status", ""),
        ("services", ""),
        ("data_region", "data_region"),
        ("admins", ""),
        ("created", "created"),
    ]:
        cases.append((f"sort: {column}", {"sort": column}, admin_sort(field)))
        cases.append((f"sort: -{column}", {"sort": f"-{column}"}, {**admin_sort(field)}))
    cases.append(("page 1,000", {"page": 1000}, {"p": 999}))  # the admin counts pages from 0
    last = max((n_customers + args.per_page - 1) // args.per_page, 1)
    admin_last = max((n_all + args.per_page - 1) // args.per_page, 1)
    cases.append(("last page", {"page": last}, {"p": admin_last - 1}))
    cases.append(("page 1,000 + service calling", {"page": 1000, "service": "calling"}, {"p": 999}))
    cases.append(("page 1,000 sort: -admins", {"page": 1000, "sort": "-admins"}, {"p": 999}))

    def once(client: Client, url: str, params: dict) -> float:
        started = time.perf_counter()
        response = client.get(url, params)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, params, response.status_code)
        return elapsed

    def timed_pair(our_params: dict, admin_params: dict) -> tuple[float, float]:
        """Median ms of each, the two requests alternating so machine noise hits both alike."""
        a, b = [], []
        for _ in range(args.runs):
            a.append(once(ours, list_url, {**pp, **our_params}))
            b.append(once(theirs, admin_url, {**base_admin, **admin_params}))
        return statistics.median(a) * 1000, statistics.median(b) * 1000

    for client, url in ((ours, list_url), (theirs, admin_url)):  # warm caches and templates
        client.get(url, {**pp} if client is ours else base_admin)

    print()
    print(
        f"Customer list of {partner.name} ({n_customers:,} customers; {n_all:,} customer orgs in "
        f"the database), {args.per_page} rows per page, median of {args.runs} runs, "
        f"{connection.vendor}"
    )
    print()
    header = f"| {'case':<40} | {'customer list ms':>16} | {'admin changelist ms':>19} | ratio |"
    print(header)
    print("|" + "-" * 42 + "|" + "-" * 18 + "|" + "-" * 21 + "|-------|")
    results = []
    for label, our_params, admin_params in cases:
        ours_ms, admin_ms = timed_pair(our_params, admin_params)
        results.append((ours_ms, admin_ms))
        print(
            f"| {label:<40} | {ours_ms:>16.1f} | {admin_ms:>19.1f} | {ours_ms / admin_ms:>5.2f} |"
        )
    ours_median = statistics.median(r[0] for r in results)
    admin_median = statistics.median(r[1] for r in results)
    print(
        f"| {'MEDIAN over all cases':<40} | {ours_median:>16.1f} | {admin_median:>19.1f} | "
        f"{ours_median / admin_median:>5.2f} |"
    )
    ratio_median = statistics.median(r[0] / r[1] for r in results)
    print(f"| {'median of the per-case ratios':<40} | {'':>16} | {'':>19} | {ratio_median:>5.2f} |")
    slower = [c[0] for c, r in zip(cases, results, strict=True) if r[0] > r[1]]
    print()
    print("Cases where the list is slower than the admin:", ", ".join(slower) or "none")
    page1 = results[0][0]
    print(
        "Slowest case / unfiltered page 1: "
        f"{max(r[0] for r in results) / page1:.2f}x "
        f"({cases[max(range(len(results)), key=lambda i: results[i][0])][0]})"
    )
    print("(The list reads its read model; the count band is recounted only after a change.)")


if __name__ == "__main__":
    main()
