"""Benchmark: requests per second of the customer list and of the admin changelist under load.

    .venv/bin/python bench/http_load.py [--customers 100000] [--workers 4] [--clients 8]
                                         [--seconds 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_1m \\
        .venv/bin/python bench/http_load.py --customers 1000000

Starts gunicorn (``--workers`` sync workers) on a free loopback port against the benchmark
database (DATABASE_URL, or the SQLite file bench/customer_list.py builds under var/, seeded
when empty), signs in a sales admin of the partner with most customers and a superuser
(sessions in the database, cookies handed to the clients), and runs ``--clients`` client
threads for ``--seconds`` against the customer list, then separately against the admin
changelist of the same customers at the same page size. Reports requests per second, p50,
p95 and max latency and errors of each, and the ratios. Bounded: a request still running
``--grace`` seconds after the end is counted as unfinished, and gunicorn is stopped in every
case (its whole process group, started here).
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    unfinished: int = 0
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str, cookie: str, timeout: float) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def load(
    *, port: int, path: str, cookie: str, clients: int, seconds: float, grace: float
) -> Result:
    """``clients`` threads, each requesting ``path`` back to back until ``seconds`` pass."""
    result = Result()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    in_flight = [0]

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                in_flight[0] += 1
            started = time.perf_counter()
            try:
                status = get(port, path, cookie, timeout=seconds + grace)
            except OSError:
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                in_flight[0] -= 1
                if status == 200:
                    result.latencies.append(elapsed)
                else:
                    result.errors += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline + grace - time.perf_counter()))
    result.seconds = time.perf_counter() - started
    with lock:
        result.unfinished = in_flight[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--per-page", type=int, default=50, choices=(25, 50, 100))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--grace", type=float, default=30.0, help="wait for late requests")
    parser.add_argument("--query", default="", help="extra list query string, e.g. region=emea")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        db = ROOT / "var" / f"bench_{args.customers}.sqlite3"
        db.parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings.dev")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost"

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from partnerhub.accounts.choices import OrgKind, Role
    from partnerhub.accounts.models import Membership, Organization, User

    vendor = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(connection.vendor, "?")
    call_command("migrate", verbosity=0)
    if not Organization.objects.filter(kind=OrgKind.CUSTOMER).exists():
        call_command("seed_demo", customers=args.customers)
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

    def session_cookie(user: User) -> str:
        client = Client()
        client.force_login(user)  # a real session row the gunicorn workers read
        return (
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )

    list_path = reverse("customers:customer_list") + "?" + urlencode({"per_page": args.per_page})
    if args.query:
        list_path += "&" + args.query
    admin_path = reverse("admin:accounts_organization_changelist") + "?kind__exact=customer"
    targets = [
        ("customer list", list_path, session_cookie(seller)),
        ("admin changelist", admin_path, session_cookie(staff)),
    ]
    connection.close()  # the workers get their own connections

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "partnerhub.wsgi:application",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            str(int(args.seconds + args.grace + 30)),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: stopped as one below
    )
    results: list[tuple[str, Result]] = []
    try:
        ready_by = time.perf_counter() + 60
        while True:
            try:
                get(port, "/", "", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.perf_counter() > ready_by:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        for label, path, cookie in targets:
            # One request first per worker, so each has its connection and templates (and the
            # list its cached count band): the steady state is measured, not the start.
            for _ in range(args.workers):
                status = get(port, path, cookie, timeout=args.seconds + args.grace + 600)
                assert status == 200, (label, status)
            results.append(
                (
                    label,
                    load(
                        port=port,
                        path=path,
                        cookie=cookie,
                        clients=args.clients,
                        seconds=args.seconds,
                        grace=args.grace,
                    ),
                )
            )
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    print()
    print(
        f"gunicorn {args.workers} workers, {args.clients} clients for {args.seconds:.0f} s on "
        f"loopback, {vendor}, {partner.name} ({n_customers:,} customers), "
        f"{args.per_page} rows per page"
    )
    print()
    print(
        f"| {'target':<17} | {'requests':>8} | {'req/s':>6} | {'p50 ms':>8} | {'p95 ms':>8} "
        f"| {'max ms':>8} | {'p95/p50':>7} | {'errors':>6} | {'unfinished':>10} |"
    )
    print(
        "|"
        + "-" * 19
        + "|"
        + "-" * 10
        + "|"
        + "-" * 8
        + ("|" + "-" * 10) * 3
        + "|"
        + "-" * 9
        + "|"
        + "-" * 8
        + "|"
        + "-" * 12
        + "|"
    )
    rates = {}
    for label, r in results:
        rate = len(r.latencies) / r.seconds
        rates[label] = rate
        p50, p95 = r.percentile(0.5) * 1000, r.percentile(0.95) * 1000
        worst = max(r.latencies, default=float("nan")) * 1000
        print(
            f"| {label:<17} | {len(r.latencies):>8} | {rate:>6.2f} | {p50:>8.0f} | {p95:>8.0f} "
            f"| {worst:>8.0f} | {p95 / p50:>6.2f}× | {r.errors:>6} | {r.unfinished:>10} |"
        )
    print()
    if rates.get("admin changelist"):
        ratio = rates["customer list"] / rates["admin changelist"]
        print(f"list req/s / admin req/s: {ratio:.2f}× (target ≥ 1.5×); p95 target ≤ 3× median")


if __name__ == "__main__":
    main()
