"""Benchmark (issue 15): the customers endpoint against the customer list page, and webhook
delivery against a plain loop of HTTP posts.

    PARTNERHUB_VAR_DIR=/tmp/bench_api nice -n 10 .venv/bin/python bench/api.py \
        [--customers 100000] [--page-size 50] [--runs 7] [--events 300]

Part 1 builds (once) a SQLite database under ``$PARTNERHUB_VAR_DIR`` with ``seed_demo
--customers N``, then times, interleaved in one run (page, API, page, API …), the customer list
page and ``GET /api/v1/customers/`` for the same partner, filters, sort and page size (in-process
test client: routing, middleware, queries, rendering/serialising). Medians per case.

Part 2 starts an HTTP receiver on loopback, owes ``--events`` events to one endpoint and
delivers them through ``webhook_deliver_one`` (claim, sign, post, log the attempt, mark
delivered — what the worker runs per task), then posts the same bodies in a plain loop with the
same client (``partnerhub.accounts.webhooks.http_post``) to the same receiver. Events/s of each.
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
    parser.add_argument("--page-size", type=int, default=50, choices=(25, 50, 100))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()

    var = Path(os.environ.setdefault("PARTNERHUB_VAR_DIR", f"/tmp/bench_api_{args.customers}"))
    var.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{var / f'bench_{args.customers}.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings.dev")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["API_RATE_LIMIT"] = "1000000/min"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count
    from django.test import Client

    from partnerhub.accounts.api_keys import api_key_create
    from partnerhub.accounts.choices import OrgKind, Role
    from partnerhub.accounts.models import Membership, Organization, User, WebhookDelivery

    call_command("migrate", verbosity=0)
    if not Organization.objects.filter(kind=OrgKind.CUSTOMER).exists():
        started = time.perf_counter()
        call_command("seed_demo", customers=args.customers)
        print(f"seed_demo --customers {args.customers}: {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The bulk loader rebuilds indexes after updating rows: PostgreSQL then marks them
            # usable only by transactions newer than the index (indcheckxmin), and any long
            # transaction elsewhere on the server keeps them unused (every service read turns
            # into a sequential scan). Rewrite those tables once, as a real database never is.
            cursor.execute(
                "SELECT DISTINCT indrelid::regclass::text FROM pg_index WHERE indcheckxmin"
            )
            for (table,) in cursor.fetchall():
                cursor.execute(f"VACUUM FULL {table}")
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
        seller = User.objects.create_user(email="bench-seller@example.com", org=partner)
        Membership.objects.create(user=seller, org=partner, role=Role.SALES_ADMIN)
    _key, token = api_key_create(actor=seller, name="bench", scopes=["read"], expires_in_days=1)
    page_client, api_client = Client(), Client()
    page_client.force_login(seller)
    auth = {"Authorization": f"Bearer {token}"}
    n = partner.customer_relationships.count()
    print(
        f"partner {partner.name!r}: {n} customers of {args.customers}; page size {args.page_size}"
    )

    cases: list[tuple[str, dict]] = [
        ("unfiltered", {}),
        ("filter: to be deleted", {"to_be_deleted": "true"}),
        ("filter: provisioning failed", {"provisioning_status": "failed"}),
        ("filter: trial expiring 30 d", {"subscription_status": "trial_expiring_30"}),
        ("filter: service calling", {"service": "calling"}),
        ("search: name", {"q": "ab"}),
        ("sort: -created", {"sort": "-created"}),
        ("sort: subscription status", {"sort": "subscription_status"}),
    ]
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, _ in cases}
    for _name, params in cases:  # warm both (caches, sort orders) before timing
        page_client.get("/partner/customers/", {**params, "per_page": args.page_size})
        api_client.get("/api/v1/customers/", {**params, "page_size": args.page_size}, headers=auth)
    for _ in range(args.runs):
        for name, params in cases:
            started = time.perf_counter()
            r1 = page_client.get("/partner/customers/", {**params, "per_page": args.page_size})
            mid = time.perf_counter()
            r2 = api_client.get(
                "/api/v1/customers/", {**params, "page_size": args.page_size}, headers=auth
            )
            end = time.perf_counter()
            assert r1.status_code == 200, r1
            assert r2.status_code == 200, r2.content[:300]
            times[name][0].append((mid - started) * 1000)
            times[name][1].append((end - mid) * 1000)
    from django.test.utils import CaptureQueriesContext

    queries = {}
    for name, params in cases:
        with CaptureQueriesContext(connection) as captured:
            api_client.get("/api/v1/customers/", {**params, "page_size": 100}, headers=auth)
        queries[name] = len(captured)
    print(f"\n{'case':34} {'page ms':>9} {'API ms':>9} {'API/page':>9} {'API queries':>12}")
    for name, (page_ms, api_ms) in times.items():
        page_median, api_median = statistics.median(page_ms), statistics.median(api_ms)
        print(
            f"{name:34} {page_median:9.1f} {api_median:9.1f} {api_median / page_median:9.2f} "
            f"{queries[name]:12d}"
        )
    every_page = [t for page_ms, _ in times.values() for t in page_ms]
    every_api = [t for _, api_ms in times.values() for t in api_ms]
    print(
        f"{'all cases':34} {statistics.median(every_page):9.1f} "
        f"{statistics.median(every_api):9.1f} "
        f"{statistics.median(every_api) / statistics.median(every_page):9.2f}"
    )

    # ---- part 2: webhooks --------------------------------------------------------------------
    from partnerhub.accounts import webhooks
    from tests.api.receiver import Receiver

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    with Receiver() as receiver:
        admin = (
            User.objects.filter(
                memberships__org=partner, memberships__role=Role.PARTNER_FULL_ADMIN
            ).first()
            or seller
        )
        endpoint, _secret = webhooks.webhook_endpoint_create(
            partner=partner, actor=admin, url=receiver.url, event_types=["trial.started"]
        )
        with transaction.atomic():
            for i in range(args.events):
                webhooks.webhook_owe(
                    partner=partner,
                    event_type="trial.started",
                    key=f"bench:{time.time_ns()}:{i}",
                    data={"customer": {"id": i, "name": f"Bench {i}"}},
                )
        ids = list(
            WebhookDelivery.objects.filter(endpoint=endpoint, status="pending").values_list(
                "pk", flat=True
            )
        )
        started = time.perf_counter()
        delivered = sum(bool(webhooks.webhook_deliver_one(delivery_id=d)) for d in ids)
        deliver_s = time.perf_counter() - started
        bodies = [body for _h, body in receiver.received]
        headers = {  # the same signed headers, without the transport's own (length, host)
            k: v
            for k, v in receiver.received[0][0].items()
            if k.startswith("webhook-") or k in ("content-type", "user-agent")
        }
        started = time.perf_counter()
        for body in bodies:
            webhooks.http_post(url=receiver.url, body=body, headers=headers, timeout=10)
        plain_s = time.perf_counter() - started
        endpoint.delete()
    print(
        f"\nwebhooks: {delivered}/{len(ids)} delivered in {deliver_s:.2f} s = "
        f"{delivered / deliver_s:.0f} events/s (claim, sign, post, attempt log, mark delivered)"
    )
    print(
        f"plain loop of {len(bodies)} posts, same client and receiver: {plain_s:.2f} s = "
        f"{len(bodies) / plain_s:.0f} posts/s"
    )


if __name__ == "__main__":
    main()
