"""Benchmark of the fanned-out lifecycle tick (issue 11): 1 worker against 2, same due work.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_<branch> REDIS_URL=redis://…/<db> \\
        .venv/bin/python bench/tick_fanout.py [--customers 50000] [--due-factor 10] [--rounds 3]

A world like bench/tick.py's (``--due-factor`` times its ~1,000 due items) is built once in
``<db>_base``; every run gets a fresh copy (``CREATE DATABASE … TEMPLATE``), N worker processes
(``--pool=solo``, one per "machine") on Redis, and beat's task: ``tick_fanout_start`` plans
phase 0 and the workers do the rest. Timed from the start until ``TickRun.finished_at``. Runs
are interleaved (1, 2, 1, 2, …), medians reported; the in-process tick (one process, no Celery)
on the same copy is the reference. Emails owed are not delivered during the runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent


def _admin(base_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--due-factor", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not url.rsplit("/", 1)[1].startswith("bench_"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database named bench_…")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL (the workers share the tick through Redis).")
    server, name = url.rsplit("/", 1)
    base, run_db = f"{name}_base", f"{name}_run"
    _admin(server, f'DROP DATABASE IF EXISTS "{base}" WITH (FORCE)', f'CREATE DATABASE "{base}"')
    os.environ["DATABASE_URL"] = f"{server}/{base}"
    os.environ["OUTBOX_DELIVER_ON_COMMIT"] = "false"
    os.environ["CELERY_QUEUE"] = f"bench-fanout-{uuid.uuid4().hex[:8]}"

    from bench import tick as tick_bench
    from bench._setup import django_on_temp_db

    django_on_temp_db("bench-fanout")
    for key in tick_bench.DUE:
        tick_bench.DUE[key] *= args.due_factor
    started = time.perf_counter()
    tick_bench.build_world(args.customers)
    print(
        f"{args.customers} customers, {sum(tick_bench.DUE.values())} due items, built in "
        f"{time.perf_counter() - started:.0f} s (PostgreSQL, Redis)",
        flush=True,
    )

    from django.db import connections
    from django.utils import timezone

    from customers.models import TickRun
    from customers.tasks import _queue_chunk
    from partnerhub.celery import app

    def fresh_copy() -> None:
        connections.close_all()
        _admin(
            server,
            f'DROP DATABASE IF EXISTS "{run_db}" WITH (FORCE)',
            f'CREATE DATABASE "{run_db}" TEMPLATE "{base}"',
        )
        connections["default"].settings_dict["NAME"] = run_db

    def one_run(workers: int) -> float:
        from customers.fanout import tick_fanout_start

        fresh_copy()
        # A queue of its own per run (nothing a previous run left queued), and no start-up
        # relay: the emails the tick owes are not delivered during the measurement.
        os.environ["CELERY_QUEUE"] = f"bench-fanout-{uuid.uuid4().hex[:8]}"
        app.conf.task_default_queue = os.environ["CELERY_QUEUE"]
        env = {
            **os.environ,
            "DATABASE_URL": f"{server}/{run_db}",
            "LOG_LEVEL": "WARNING",
            "OUTBOX_RELAY_ON_WORKER_START": "false",
        }
        names = [f"fanout{i}-{uuid.uuid4().hex[:6]}@bench" for i in range(workers)]
        procs = [
            subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("celery")),
                    "-A",
                    "partnerhub",
                    "worker",
                    "--pool=solo",
                    "-n",
                    node,
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-Q",
                    env["CELERY_QUEUE"],
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for node in names
        ]
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                replies = app.control.ping(destination=names, timeout=1.0) or []
                if len(replies) == workers:
                    break
            else:
                raise SystemExit("workers did not start")
            now = timezone.now().replace(microsecond=0)
            started = time.perf_counter()
            run = tick_fanout_start(now=now, queue=_queue_chunk)
            assert run is not None
            while not TickRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists():
                if time.perf_counter() - started > 1800:
                    raise SystemExit("the tick did not finish")
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            counts = TickRun.objects.get(pk=run.pk).counts
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=60)
        done = {k: v for k, v in counts.items() if not k.endswith("_emails") and v}
        print(f"  {workers} worker(s): {seconds:7.2f} s  {done}", flush=True)
        return seconds

    def in_process() -> float:
        from customers.tick import lifecycle_tick

        fresh_copy()
        started = time.perf_counter()
        lifecycle_tick(now=timezone.now().replace(microsecond=0))
        seconds = time.perf_counter() - started
        print(f"  in-process tick: {seconds:7.2f} s", flush=True)
        return seconds

    sizes = [int(w) for w in args.workers.split(",")]
    times: dict[int, list[float]] = {w: [] for w in sizes}
    reference = [in_process()]
    for _round in range(args.rounds):
        for workers in sizes:
            times[workers].append(one_run(workers))
    reference.append(in_process())
    connections.close_all()
    _admin(
        server,
        f'DROP DATABASE IF EXISTS "{run_db}" WITH (FORCE)',
        f'DROP DATABASE IF EXISTS "{base}" WITH (FORCE)',
    )
    print(f"in-process tick, median: {statistics.median(reference):.2f} s")
    medians = {w: statistics.median(t) for w, t in times.items()}
    for workers, median in medians.items():
        print(f"{workers} worker(s), median of {args.rounds}: {median:.2f} s")
    if 1 in medians:
        for workers, median in medians.items():
            if workers != 1:
                print(f"speed-up of {workers} workers over 1: {medians[1] / median:.2f}x")


if __name__ == "__main__":
    main()
