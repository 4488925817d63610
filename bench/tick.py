"""Benchmark of the lifecycle tick (issue 3).

    .venv/bin/python bench/tick.py                # 10,000 and 100,000 customers
    .venv/bin/python bench/tick.py --sizes 20000  # other sizes

For each size, in a fresh SQLite file, a world of N customers is built with a FIXED set of about
1,000 items due (1% of 100,000): orgs to mark (D1), unmark (D6), warn (D3) and delete (D4),
trials to notify (T11), subscriptions to suspend (S1) and end (S2). Everything else is not due:
customers with a long paid subscription, and marked orgs still inside their 30 quiet days —
in the steady state an earlier tick left them, their D1 re-check flag cleared (``--cold``
flags every org, as a first tick after a bulk load finds them).

Then, in the same run, it times a naive loop that loads and saves every org (checking its
licenses and countdown one by one; rolled back) and the real `lifecycle_tick`, and counts the
SQL statements of both. The tick's count must not grow with the not-due customers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DUE = {
    "mark": 200,  # D1: no licenses, not marked yet
    "unmark": 100,  # D6: marked, but holds an active subscription
    "warn": 200,  # D3: marked 31 days ago, quiet
    "delete": 100,  # D4: warned 31 days ago, quiet
    "trial_notice": 150,  # T11: trial ends in 7 days
    "suspend": 150,  # S1: paid subscription ended yesterday
    "end": 100,  # S2: renewal period over
}
CHUNK = 5000


COLD = False  # --cold: every org flagged for the D1 re-check (the first tick after a load)


def build_world(n: int) -> dict[str, int]:
    """Bulk-build n customers (rows created directly, as a seed would)."""
    from django.db import transaction
    from django.utils import timezone

    from licensing.choices import ServiceType, SubscriptionKind, SubscriptionState
    from licensing.models import Service, Subscription
    from partnerhub.accounts.choices import OrgKind, PartnerTier, Role
    from partnerhub.accounts.models import CustomerRelationship, Membership, Organization, User

    now = timezone.now()
    today = now.date()
    due_total = sum(DUE.values())
    assert n > due_total
    plan: list[str] = []
    for kind, count in DUE.items():
        plan.extend([kind] * count)
    not_due = n - due_total
    quiet_marked = not_due // 20  # 5%: marked recently, inside their quiet 30 days
    plan.extend(["quiet"] * quiet_marked)
    plan.extend(["live"] * (not_due - quiet_marked))

    with transaction.atomic():
        partners = Organization.objects.bulk_create(
            Organization(
                kind=OrgKind.PARTNER,
                name=f"Partner {i}",
                name_prefix="partn",
                country="US",
                data_region="amer",
                partner_tier=PartnerTier.TIER_1,
                partner_certified=True,
            )
            for i in range(20)
        )
        padmins = User.objects.bulk_create(
            User(
                email=f"admin{i}@partner{i}.example",
                email_domain=f"partner{i}.example",
                password="!",
                org=p,
            )
            for i, p in enumerate(partners)
        )
        Membership.objects.bulk_create(
            Membership(user=u, org=p, role=Role.PARTNER_FULL_ADMIN)
            for u, p in zip(padmins, partners, strict=True)
        )
    marks = {
        "unmark": now - timedelta(days=5),
        "warn": now - timedelta(days=31),
        "delete": now - timedelta(days=62),
        "quiet": now - timedelta(days=10),
    }
    for start in range(0, n, CHUNK):
        kinds = plan[start : start + CHUNK]
        with transaction.atomic():
            orgs = Organization.objects.bulk_create(
                [
                    Organization(
                        kind=OrgKind.CUSTOMER,
                        name=f"Customer {start + i:06d}",
                        name_prefix="custo",
                        country="DK",
                        data_region="emea",
                        vertical="technology",
                        created=now - timedelta(days=400),
                        deletion_marked_at=marks.get(kind),
                        deletion_warned_at=(now - timedelta(days=31)) if kind == "delete" else None,
                        # The steady state: an earlier tick decided D1 for the orgs nothing
                        # happened to since (their flag is cleared); the due ones are flagged.
                        deletion_recheck=COLD or kind not in ("live", "quiet"),
                    )
                    for i, kind in enumerate(kinds)
                ],
                batch_size=1000,
            )
            users = User.objects.bulk_create(
                [
                    User(
                        email=f"admin@c{start + i}.example",
                        email_domain=f"c{start + i}.example",
                        password="!",
                        org=org,
                    )
                    for i, org in enumerate(orgs)
                ],
                batch_size=1000,
            )
            Membership.objects.bulk_create(
                [
                    Membership(user=u, org=o, role=Role.CUSTOMER_FULL_ADMIN)
                    for u, o in zip(users, orgs, strict=True)
                ],
                batch_size=1000,
            )
            CustomerRelationship.objects.bulk_create(
                [
                    CustomerRelationship(partner=partners[(start + i) % 20], customer=o)
                    for i, o in enumerate(orgs)
                ],
                batch_size=1000,
            )
            subs = []
            for org, kind in zip(orgs, kinds, strict=True):
                partner = partners[org.pk % 20]
                if kind in ("live", "unmark"):
                    subs.append(
                        Subscription(
                            customer=org,
                            partner=partner,
                            kind=SubscriptionKind.PAID,
                            start_date=today - timedelta(days=100),
                            end_date=today + timedelta(days=200 + org.pk % 300),
                        )
                    )
                elif kind == "trial_notice":
                    subs.append(
                        Subscription(
                            customer=org,
                            partner=partner,
                            kind=SubscriptionKind.TRIAL,
                            start_date=today - timedelta(days=23),
                            end_date=today + timedelta(days=7),
                            created=now - timedelta(days=40),
                        )
                    )
                elif kind == "suspend":
                    subs.append(
                        Subscription(
                            customer=org,
                            partner=partner,
                            kind=SubscriptionKind.PAID,
                            start_date=today - timedelta(days=366),
                            end_date=today - timedelta(days=1),
                        )
                    )
                elif kind == "end":
                    subs.append(
                        Subscription(
                            customer=org,
                            partner=partner,
                            kind=SubscriptionKind.PAID,
                            state=SubscriptionState.SUSPENDED,
                            start_date=today - timedelta(days=426),
                            end_date=today - timedelta(days=61),
                            period_end_date=today - timedelta(days=1),
                        )
                    )
            subs = Subscription.objects.bulk_create(subs, batch_size=1000)
            Service.objects.bulk_create(
                [
                    Service(
                        subscription=s,
                        type=ServiceType.MESSAGING,
                        quantity=10,
                        provisioning_status="provisioned",
                    )
                    for s in subs
                ],
                batch_size=1000,
            )
    return {"customers": n, "due": due_total}


def naive_loop() -> tuple[float, int]:
    """Load and save every org, deciding its countdown one by one, each save committed on its
    own (what a first version of the beat task would do). Runs after the real tick, so it finds
    nothing due: what it costs is the loading and saving of every org."""
    from django.db import connection
    from django.utils import timezone

    from bench._setup import QueryCounter
    from customers.choices import DeletionStage
    from customers.lifecycle import deletion_stage, is_markable
    from licensing.choices import LICENSE_HOLDING_STATES
    from licensing.models import Subscription
    from partnerhub.accounts.models import CustomerRelationship, Organization

    now = timezone.now()
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        for org in Organization.objects.all().iterator(chunk_size=2000):
            holds = Subscription.objects.filter(
                customer=org, state__in=LICENSE_HOLDING_STATES
            ).exists()
            manages = org.is_partner and CustomerRelationship.objects.filter(partner=org).exists()
            markable = is_markable(
                holds_licenses=holds, is_partner=org.is_partner, manages_customers=manages
            )
            if markable and org.deletion_marked_at is None:
                org.deletion_marked_at = now
            elif not markable:
                org.deletion_marked_at = org.deletion_warned_at = None
            stage = deletion_stage(
                marked_at=org.deletion_marked_at,
                warned_at=org.deletion_warned_at,
                last_activity_at=org.last_activity_at,
                now=now,
            )
            if stage == DeletionStage.WARNING_DUE:
                org.deletion_warned_at = now
            org.save()
    return time.perf_counter() - started, counter.count


def real_tick() -> tuple[float, int, dict[str, int]]:
    from django.db import connection
    from django.utils import timezone

    from bench._setup import QueryCounter
    from customers.tick import lifecycle_tick

    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        report = lifecycle_tick(now=timezone.now())
    return time.perf_counter() - started, counter.count, {r.name: r.count for r in report.results}


def explain_idle() -> list[dict]:
    """The plan of every statement of an idle tick: the tick's SQL is captured, then each
    SELECT/UPDATE/DELETE is explained. A statement reading a whole table (SQLite ``SCAN t``
    without an index, PostgreSQL ``Seq Scan``) is flagged; an idle tick should have none."""
    import re

    from django.db import connection, transaction
    from django.utils import timezone

    from customers.tick import lifecycle_tick

    captured: list[tuple[str, tuple]] = []

    def capture(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if not many and sql.lstrip().split(" ", 1)[0].upper() in ("SELECT", "UPDATE", "DELETE"):
            captured.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        lifecycle_tick(now=timezone.now())
    plans = []
    pg = connection.vendor == "postgresql"
    for sql, params in captured:
        with transaction.atomic(), connection.cursor() as cursor:
            if pg:
                cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)
                lines = [row[0] for row in cursor.fetchall()]
                full = [ln for ln in lines if "Seq Scan" in ln]
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
                lines = [row[-1] for row in cursor.fetchall()]
                full = [
                    ln
                    for ln in lines
                    if re.match(r"SCAN \w+$", ln.strip()) or re.match(r"SCAN \w+ AS \w+$", ln)
                ]
            transaction.set_rollback(True)
        plans.append({"sql": sql[:160], "plan": lines, "full_scans": full})
    return plans


def seed_demo_world(n: int) -> None:
    """Issue 2's demo world plus n bulk customers (about ten users each), as `seed_demo
    --customers n` builds them; what is due there is whatever that builder made due."""
    from django.core.management import call_command

    call_command("seed_demo", customers=n, stdout=_Null())


class _Null:
    def write(self, *_args: object) -> None:
        pass

    def flush(self) -> None:
        pass


def _fresh_postgres() -> None:
    """With DATABASE_URL on PostgreSQL, the named database (``bench_…`` only) is recreated."""
    import os

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    if not name.startswith("bench_"):
        raise SystemExit("On PostgreSQL the benchmark database must be named bench_…")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def existing_world(explain: bool) -> dict:
    """``--existing``: the database in DATABASE_URL as it is (e.g. a copy of a 1M-customer
    ``seed_demo`` load, migrated): one tick does what is due, then three idle ticks are timed
    and, with ``--explain``, every statement of an idle tick is explained."""
    from bench._setup import django_on_temp_db

    django_on_temp_db("bench-tick-existing")
    from partnerhub.accounts.models import Organization

    orgs = Organization.objects.count()
    tick_s, tick_q, done = real_tick()
    idle = [real_tick() for _ in range(3)]
    return {
        "orgs": orgs,
        "first_tick_s": round(tick_s, 1),
        "first_tick_queries": tick_q,
        "done": done,
        "idle_tick_s": [round(t[0], 3) for t in idle],
        "idle_tick_queries": [t[1] for t in idle],
        "plans": explain_idle() if explain else [],
    }


def one_size(n: int, world: str = "own", explain: bool = False) -> dict:
    from bench._setup import django_on_temp_db

    _fresh_postgres()
    django_on_temp_db(f"bench-tick-{n}")
    started = time.perf_counter()
    if world == "seed_demo":
        seed_demo_world(n)
    else:
        build_world(n)
    built = time.perf_counter() - started
    tick_s, tick_q, done = real_tick()
    # A second tick right after: nothing is due any more.
    tick2_s, tick2_q, _ = real_tick()
    idle = [real_tick()[0] for _ in range(3)]
    plans = explain_idle() if explain else []
    naive_s, naive_q = naive_loop()
    return {
        "customers": n,
        "build_s": round(built, 1),
        "naive_s": round(naive_s, 2),
        "naive_queries": naive_q,
        "tick_s": round(tick_s, 3),
        "tick_queries": tick_q,
        "speedup": round(naive_s / tick_s, 1),
        "second_tick_s": round(tick2_s, 3),
        "second_tick_queries": tick2_q,
        "idle_tick_median_s": round(sorted(idle)[1], 3),
        "done": done,
        "plans": plans,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--explain", action="store_true", help="print the plan of every idle-tick statement"
    )
    parser.add_argument(
        "--world",
        choices=["own", "seed_demo"],
        default="own",
        help="own: a fixed ~1,000 due items (default); seed_demo: issue 2's bulk demo customers",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="flag every org for the D1 re-check, as the first tick after a bulk load",
    )
    parser.add_argument(
        "--existing",
        action="store_true",
        help="time the tick on the database in DATABASE_URL as it is (no world is built)",
    )
    args = parser.parse_args()
    if args.existing:
        result = existing_world(args.explain)
        plans = result.pop("plans")
        print(json.dumps(result))
        median = sorted(result["idle_tick_s"])[1]
        verdict = "OK" if median < 1 else "OVER 1 s"
        print(f"idle tick at {result['orgs']:,} orgs: median {median} s ({verdict})")
        for plan in plans:
            flag = "FULL SCAN " if plan["full_scans"] else "indexed   "
            print(f"  {flag} {plan['sql'][:110]}")
            print("             " + " | ".join(plan["plan"])[:600])
        return
    global COLD
    COLD = args.cold
    if args.one:
        print("RESULT " + json.dumps(one_size(args.one, args.world, args.explain)))
        return
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        # A fresh process (and database file) per size.
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--world", args.world]
            + (["--explain"] if args.explain else [])
            + (["--cold"] if args.cold else []),
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            sys.exit(out.stderr)
        results.append(json.loads(out.stdout.split("RESULT ", 1)[1]))
    print(
        f"{'customers':>10} {'naive s':>9} {'naive q':>9} {'tick s':>8} {'tick q':>7} "
        f"{'speed-up':>9} {'idle tick s':>11} {'idle q':>7}"
    )
    for r in results:
        print(
            f"{r['customers']:>10} {r['naive_s']:>9} {r['naive_queries']:>9} {r['tick_s']:>8} "
            f"{r['tick_queries']:>7} {r['speedup']:>8}x {r['second_tick_s']:>11} "
            f"{r['second_tick_queries']:>7}"
        )
    print("done per sweep (largest world):", json.dumps(results[-1]["done"]))
    print("idle tick, median of 3 (s):", [r["idle_tick_median_s"] for r in results])
    for r in results:
        for plan in r["plans"]:
            flag = "FULL SCAN " if plan["full_scans"] else "indexed   "
            print(f"  {r['customers']:>8} {flag} {plan['sql'][:110]}")
            if plan["full_scans"]:
                print("             " + " | ".join(plan["plan"])[:400])
    if len({r["tick_queries"] for r in results}) == 1:
        print(f"tick query count is the same at every size: {results[0]['tick_queries']}")
    else:
        print("tick query counts differ between sizes:", [r["tick_queries"] for r in results])
    big = results[-1]
    verdict = "OK" if big["speedup"] >= 20 else "BELOW 20x"
    print(
        f"speed-up over the naive loop at {big['customers']} customers: "
        f"{big['speedup']}x ({verdict})"
    )


if __name__ == "__main__":
    main()
