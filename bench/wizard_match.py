"""Benchmark of the setup wizard's matching (W2) on the `seed_demo --customers N` world.

    .venv/bin/python bench/wizard_match.py                 # 100,000 customers, ~1M users
    .venv/bin/python bench/wizard_match.py --customers 20000 --samples 200
    DATABASE_URL=postgres://... .venv/bin/python bench/wizard_match.py

Uses its own SQLite file (var/bench_wizard_match.sqlite3) unless DATABASE_URL is set, seeds it
once with ``seed_demo`` and reuses it afterwards. Times ``wizard_match`` for three kinds of
input — (a) an existing admin's email, (b) a company name and a new address at an existing
domain, and a miss — and reports the median and p95 time, the queries per call (must be fixed:
1 for (a), 2 otherwise) and the query plans, which must use the indexes.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings.dev")
    os.environ.setdefault("DEBUG", "false")
    if "DATABASE_URL" not in os.environ:
        (ROOT / "var").mkdir(exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench_wizard_match.sqlite3'}"
    import django

    django.setup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300, help="calls per kind of input")
    args = parser.parse_args()
    setup_django()

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from licensing.selectors import wizard_match
    from partnerhub.accounts.choices import OrgKind, Role
    from partnerhub.accounts.models import Membership, Organization, User

    call_command("migrate", verbosity=0)
    have = Organization.objects.filter(kind=OrgKind.CUSTOMER).count()
    if have < args.customers:
        print(f"Seeding: seed_demo --customers {args.customers - have} (once; reused later) …")
        started = time.perf_counter()
        call_command("seed_demo", customers=args.customers - have, stdout=io.StringIO())
        print(f"Seeded in {time.perf_counter() - started:.0f} s.")
    with connection.cursor() as cursor:
        # Planner statistics, which a production database keeps up to date by itself
        # (autovacuum); a freshly bulk-loaded one has none yet.
        cursor.execute("ANALYZE")
    n_orgs = Organization.objects.count()
    n_users = User.objects.count()
    print(f"World: {n_orgs:,} orgs, {n_users:,} users ({connection.vendor})")

    rng = random.Random(6)
    max_org = Organization.objects.order_by("-pk").values_list("pk", flat=True).first() or 1

    def random_org() -> Organization:
        while True:
            org = Organization.objects.filter(
                kind=OrgKind.CUSTOMER, pk__gte=rng.randint(1, max_org)
            ).first()
            if org is not None:
                return org

    def random_admin_email() -> str:
        while True:
            org = random_org()
            email = (
                Membership.objects.filter(org=org, role=Role.CUSTOMER_FULL_ADMIN)
                .values_list("user__email", flat=True)
                .first()
            )
            if email:
                return email

    def random_domain_case() -> tuple[str, str]:
        while True:
            org = random_org()
            domain = org.users.values_list("email_domain", flat=True).first()
            if domain:
                return f"  {org.name.upper()} ", f"new.person{rng.randint(1, 10**6)}@{domain}"

    cases = {
        "a_admin_email": [("Whatever", random_admin_email()) for _ in range(args.samples)],
        "b_prefix_and_domain": [random_domain_case() for _ in range(args.samples)],
        "miss": [
            (f"Zz{rng.randint(1, 10**6)} Corp", f"x@nowhere{rng.randint(1, 10**6)}.example")
            for _ in range(args.samples)
        ],
    }
    print()
    print(f"{'input':<22}{'calls':>7}{'median ms':>11}{'p95 ms':>9}{'queries':>9}{'listed':>8}")
    for label, inputs in cases.items():
        times, queries, listed = [], set(), []
        for company, email in inputs:
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                match = wizard_match(company_name=company, admin_email=email)
                times.append((time.perf_counter() - started) * 1000)
            queries.add(len(ctx.captured_queries))
            listed.append(len(match.orgs))
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(
            f"{label:<22}{len(times):>7}{statistics.median(times):>11.2f}{p95:>9.2f}"
            f"{'/'.join(map(str, sorted(queries))):>9}{statistics.mean(listed):>8.1f}"
        )

    print("\nQuery plans (indexes must be used, no full scan of orgs or users):")
    company, email = cases["b_prefix_and_domain"][0]
    with CaptureQueriesContext(connection) as ctx:
        wizard_match(company_name=company, admin_email=email)
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    for number, query in enumerate(ctx.captured_queries, 1):
        print(f"\n-- query {number}: {query['sql'][:160]}…")
        with connection.cursor() as cursor:
            cursor.execute(explain + query["sql"])
            for row in cursor.fetchall():
                print("   ", " | ".join(str(col) for col in row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
