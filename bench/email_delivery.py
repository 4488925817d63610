"""Benchmark of email delivery (issue 3).

    .venv/bin/python bench/email_delivery.py [--count 5000]

5,000 owed emails (rendered deletion warnings, HTML + text) are delivered to a local aiosmtpd
server, in the same run:

1. through a real Celery worker (a subprocess, prefork, 2 processes; Redis when REDIS_URL is
   set, else the filesystem broker), queued the way a tick queues them: one task per 100 owed
   emails, each delivering over one SMTP connection, marking every row sent;
2. through a real Celery worker with one task per email (``outbox_deliver``, the retry path;
   on the filesystem broker, which lists its whole queue folder for every message, only the
   first 200, since that transport is for development only);
3. ``outbox_flush()`` in this process over one SMTP connection;
4. a plain ``smtplib`` loop sending the same messages over one connection, no database.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    port = free_port()
    os.environ["EMAIL_HOST"] = "127.0.0.1"
    os.environ["EMAIL_PORT"] = str(port)
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.smtp.EmailBackend"
    os.environ["CELERY_QUEUE"] = f"bench-{uuid.uuid4().hex[:8]}"

    from aiosmtpd.controller import Controller

    from bench._setup import ROOT, django_on_temp_db

    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    tmp = django_on_temp_db("bench-email")

    from datetime import date

    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.utils import timezone

    from partnerhub.core.models import OutboxEmail
    from partnerhub.core.outbox import MimeContent, email_render, outbox_flush
    from partnerhub.core.sweeps import schedule_delivery
    from partnerhub.core.tasks import outbox_deliver

    n = args.count
    rows = []
    for i in range(n):
        subject, text, html = email_render(
            template="deletion_warning",
            context={
                "org_name": f"Customer {i:05d}",
                "org_pk": i,
                "deletion_date": date(2027, 3, 5),
            },
        )
        mime = MimeContent.build(subject=subject, text=text, html=html)
        rows.append(
            OutboxEmail(
                message=mime.for_recipient(
                    to=f"admin{i}@c{i}.example", key=f"bench:{i}", at=timezone.now()
                ),
                key=f"bench:{i}",
                kind="deletion_warning",
                to_email=f"admin{i}@c{i}.example",
                subject=subject,
                body_text=text,
                body_html=html,
                org_id=i,
            )
        )
    OutboxEmail.objects.bulk_create(rows, batch_size=1000)
    ids = list(OutboxEmail.objects.order_by("pk").values_list("pk", flat=True))

    def reset() -> None:
        OutboxEmail.objects.update(sent_at=None, claimed_at=None, claim_token="", attempts=0)
        counter.count = 0

    def wait_all(expected: int = n, limit: float = 900) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if counter.count >= expected and (
                OutboxEmail.objects.filter(sent_at__isnull=False).count() >= expected
            ):
                return
            time.sleep(0.05)
        raise SystemExit(f"timed out: {counter.count} of {expected} arrived")

    def report(name: str, seconds: float, count: int = n) -> None:
        results.setdefault(name, []).append((seconds, count))
        print(
            f"  {name:<40} {count:>5} in {seconds:7.2f} s  {count / seconds:8.0f} emails/s",
            flush=True,
        )

    messages = []
    for row in OutboxEmail.objects.order_by("pk"):
        message = EmailMultiAlternatives(
            row.subject, row.body_text, settings.DEFAULT_FROM_EMAIL, [row.to_email]
        )
        message.attach_alternative(row.body_html, "text/html")
        messages.append((row.to_email, message.message().as_bytes(linesep="\r\n")))

    def plain_loop() -> None:
        counter.count = 0
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for to, raw in messages:
                smtp.sendmail(settings.DEFAULT_FROM_EMAIL, [to], raw)
        report("plain smtplib loop, one connection", time.perf_counter() - started)
        assert counter.count == n

    env = {**os.environ, "OUTBOX_RELAY_ON_WORKER_START": "false"}
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "partnerhub",
            "worker",
            f"--concurrency={args.concurrency}",
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
    results: dict[str, list[tuple[float, int]]] = {}
    broker = "Redis" if os.environ.get("REDIS_URL") else "filesystem broker"
    print(f"{n} owed emails to a local aiosmtpd server ({broker}; SQLite in {tmp})", flush=True)
    try:
        time.sleep(4)  # worker start-up is not delivery
        # Interleaved rounds: the worker's batches, then the plain loop, R times.
        for _round in range(args.rounds):
            reset()
            started = time.perf_counter()
            schedule_delivery(ids)
            wait_all()
            report("worker, batches of 100 (the tick's path)", time.perf_counter() - started)
            plain_loop()

        reset()
        single = ids if os.environ.get("REDIS_URL") else ids[:200]
        started = time.perf_counter()
        for email_id in single:
            outbox_deliver.delay(email_id)
        wait_all(len(single))
        report("worker, one task per email", time.perf_counter() - started, len(single))
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    reset()
    started = time.perf_counter()
    sent = outbox_flush()
    assert sent == n, sent
    report("outbox_flush, one connection", time.perf_counter() - started)
    controller.stop()

    def median_rate(runs: list[tuple[float, int]]) -> float:
        return statistics.median(count / seconds for seconds, count in runs)

    plain = median_rate(results["plain smtplib loop, one connection"])
    print("median rate as a share of the plain smtplib loop's:")
    for name, runs in results.items():
        print(f"  {name:<40} {median_rate(runs) / plain:5.2f}x  ({len(runs)} runs)")


if __name__ == "__main__":
    main()
