"""Benchmark: the partner's customer list against the Django admin changelist (issues 4, 11).

    .venv/bin/python bench/customer_list.py [--customers 100000] [--per-page 50] [--runs 7]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_1m \\
        .venv/bin/python bench/customer_list.py --customers 1000000 --runs 5

Without DATABASE_URL it builds (once) a SQLite database under var/ with
``seed_demo --customers N``; with it, it uses that database (seeding it only when it has no
customers yet: on PostgreSQL the bulk loader's COPY path makes a million in minutes). It signs
in as a sales admin of the partner with most customers and as a superuser, and reports the
median wall time of each page request (in-process Django test client: URL routing, middleware,
queries and template rendering), the two requests of a case alternating so machine noise hits
both alike: the list unfiltered, with each filter, sorted by each column, on page 1,000 and on
its last page — side by side with the admin changelist of the same customers at the same page
size. Per case: the list's median, the admin's, their ratio, the list's ratio to its own
unfiltered page 1, and the list's query count. ``--budget`` bounds each case's time (at least
one run of each side always happens), so a slow "before" figure still finishes.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMPUTED_SORTS = ("provisioning_status", "subscription_status", "services", "admins")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--per-page", type=int, default=50, choices=(25, 50, 100))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--budget", type=float, default=90.0, help="seconds per case at most (after one run)"
    )
    parser.add_argument("--cases", default="", help="only the cases whose label contains this")
    parser.add_argument("--db", default=None, help="SQLite file (default var/bench_<N>.sqlite3)")
    parser.add_argument("--no-warm", action="store_true", help="skip the tick's precomputation")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
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
    from django.utils import timezone

    from bench._setup import QueryCounter
    from partnerhub.accounts.choices import OrgKind, Role
    from partnerhub.accounts.models import Membership, Organization, User

    vendor = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(connection.vendor, "?")
    from django.core.cache import cache

    # Without REDIS_URL the cache is one folder per worktree, shared by every benchmark
    # database: a count band another database left there (same partner id) must not be read.
    cache.clear()
    call_command("migrate", verbosity=0)
    if not Organization.objects.filter(kind=OrgKind.CUSTOMER).exists():
        started = time.perf_counter()
        call_command("seed_demo", customers=args.customers)
        print(f"seed_demo --customers {args.customers}: {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        # The planner's statistics, and on PostgreSQL the visibility map (index-only scans) of
        # freshly loaded tables, as production's autovacuum would have them. Cheap once done.
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")

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
    last_page = max(math.ceil(n_customers / args.per_page), 1)
    admin_last = max(math.ceil(n_all / args.per_page), 1) - 1  # the admin counts from 0

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

    def admin_sort(field: str, descending: bool = False) -> dict[str, str]:
        if field not in admin_sorts:
            return {}
        return {"o": ("-" if descending else "") + admin_sorts[field]}

    cases: list[tuple[str, dict, dict]] = [
        ("unfiltered page 1", {}, {}),
        ("filter: to be deleted", {"to_be_deleted": "true"}, {}),
        ("filter: provisioning failed", {"provisioning_status": "failed"}, {}),
        (
            "filter: manual (partner)+awaiting",
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
        cases.append((f"sort: -{column}", {"sort": f"-{column}"}, admin_sort(field, True)))
    cases += [
        ("page 1,000", {"page": 1000}, {"p": 999}),
        (f"last page ({last_page:,})", {"page": last_page}, {"p": admin_last}),
        ("page 1,000 + service calling", {"page": 1000, "service": "calling"}, {"p": 999}),
    ]
    if args.cases:
        cases = [c for c in cases if args.cases in c[0] or c[0] == "unfiltered page 1"]

    counter = QueryCounter()

    def once(client: Client, url: str, params: dict) -> float:
        started = time.perf_counter()
        response = client.get(url, params)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, params, response.status_code)
        return elapsed

    def queries(params: dict) -> int:
        counter.count = 0
        with connection.execute_wrapper(counter):
            once(ours, list_url, {**pp, **params})
        return counter.count

    def timed_pair(our_params: dict, admin_params: dict) -> tuple[float, float, int]:
        """Median ms of each side (alternating) and how many runs fitted the budget."""
        a, b = [], []
        started = time.perf_counter()
        while len(a) < args.runs and (not a or time.perf_counter() - started < args.budget):
            a.append(once(ours, list_url, {**pp, **our_params}))
            b.append(once(theirs, admin_url, {**base_admin, **admin_params}))
        return statistics.median(a) * 1000, statistics.median(b) * 1000, len(a)

    # What the periodic tick does: precompute the orders of the computed sort keys (if the
    # list still has them).
    warm_note = ""
    try:
        from customers.selectors import customer_sort_orders_build
    except ImportError:
        customer_sort_orders_build = None  # type: ignore[assignment]
    if customer_sort_orders_build is not None and not args.no_warm:
        started = time.perf_counter()
        customer_sort_orders_build(partner=partner, today=timezone.localdate())
        warm_note = "computed sort orders precomputed as the tick does, in "
        warm_note += f"{time.perf_counter() - started:.1f} s; "

    # The first request after a change: nothing cached yet.
    try:
        from partnerhub.core.listview import summary_cache_clear

        summary_cache_clear("customers", partner.pk)
    except ImportError:
        pass
    cold_ms = once(ours, list_url, pp) * 1000
    once(theirs, admin_url, base_admin)  # warm the admin's templates too

    print()
    print(
        f"Customer list of {partner.name} ({n_customers:,} customers; {n_all:,} customer orgs in "
        f"the database), {args.per_page} rows per page, median of up to {args.runs} runs "
        f"(≤ {args.budget:.0f} s a case), {vendor}"
    )
    print()
    header = (
        f"| {'case':<36} | {'list ms':>9} | {'admin ms':>9} | {'list/admin':>10} "
        f"| {'list/page 1':>11} | {'queries':>7} | {'runs':>4} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    results = []
    page1_ms = None
    for label, our_params, admin_params in cases:
        ours_ms, admin_ms, runs = timed_pair(our_params, admin_params)
        n_queries = queries(our_params)
        if page1_ms is None:
            page1_ms = ours_ms
        results.append((label, ours_ms, admin_ms, n_queries))
        print(
            f"| {label:<36} | {ours_ms:>9.1f} | {admin_ms:>9.1f} | {ours_ms / admin_ms:>9.2f}× "
            f"| {ours_ms / page1_ms:>10.2f}× | {n_queries:>7} | {runs:>4} |",
            flush=True,
        )
    ours_median = statistics.median(r[1] for r in results)
    admin_median = statistics.median(r[2] for r in results)
    assert page1_ms is not None
    print(
        f"| {'MEDIAN over all cases':<36} | {ours_median:>9.1f} | {admin_median:>9.1f} "
        f"| {ours_median / admin_median:>9.2f}× | {ours_median / page1_ms:>10.2f}× "
        f"| {'':>7} | {'':>4} |"
    )
    print()
    worst = max(results, key=lambda r: r[1] / page1_ms)
    slower = [r[0] for r in results if r[1] > r[2]]
    print(
        f"list median / admin median: {ours_median / admin_median:.2f}× (target ≤ 0.5×); "
        f"worst case / page 1: {worst[1] / page1_ms:.2f}× ({worst[0]}; target ≤ 2×); "
        f"most queries: {max(r[3] for r in results)} (target ≤ 6)"
    )
    print("Cases where the list is slower than the admin:", ", ".join(slower) or "none")
    print(
        f"({warm_note}first request with nothing cached: {cold_ms:.0f} ms; "
        f"the count band is cached afterwards.)"
    )

    if customer_sort_orders_build is None or args.no_warm:
        return
    # The same computed sorts without the precomputed orders: sorted in SQL.
    summary_cache_clear("customers", partner.pk)
    print()
    print("Without the precomputed orders (computed columns sorted in SQL):")
    print()
    print(header)
    for label, our_params, admin_params in cases:
        if our_params.get("sort", "").lstrip("-") not in COMPUTED_SORTS:
            continue
        ours_ms, admin_ms, runs = timed_pair(our_params, admin_params)
        print(
            f"| {label + ' (SQL)':<36} | {ours_ms:>9.1f} | {admin_ms:>9.1f} "
            f"| {ours_ms / admin_ms:>9.2f}× | {ours_ms / page1_ms:>10.2f}× | {'':>7} "
            f"| {runs:>4} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
