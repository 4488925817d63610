"""`python manage.py seed_demo`: the demo world, and optionally N bulk customers for benchmarks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from partnerhub.accounts.models import Organization
from partnerhub.demo.bulk import bulk_customers_build
from partnerhub.demo.world import (
    DEMO_PASSWORD,
    DemoLogin,
    demo_logins,
    demo_world_build,
    demo_world_exists,
)


class Command(BaseCommand):
    help = (
        "Build the deterministic demo world (partners of both tiers with every role, customers in "
        "every provisioning and subscription status and deletion stage, trials, devices) and "
        "print the demo logins. --customers N adds N bulk customers for benchmarks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Seed only when there are no organizations yet; print the logins either way.",
        )
        parser.add_argument(
            "--customers",
            type=int,
            default=0,
            metavar="N",
            help="Also build N customers in bulk (about 10 users each) for benchmarks.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["customers"]
        if count < 0:
            self.stderr.write("--customers must be zero or more.")
            return
        if options["if_empty"] and Organization.objects.exists():
            self.stdout.write("The database already has data; not seeding.")
            self._print_logins(demo_logins())
            return
        if demo_world_exists():
            self.stdout.write("The demo world is already there; not building it again.")
        else:
            world = demo_world_build()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Built the demo world: {len(world.partners)} partners, "
                    f"{len(world.customers)} customers."
                )
            )
        if count:
            self._bulk(count)
        self._print_logins(demo_logins())

    def _bulk(self, count: int) -> None:
        self.stdout.write(f"Building {count:,} bulk customers …")
        step = max(count // 10, 1)

        def progress(done: int) -> None:
            if done % step < 5000 or done == count:
                self.stdout.write(f"  {done:,} / {count:,}")

        stats = bulk_customers_build(count=count, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Built {stats.customers:,} customers, {stats.users:,} users, "
                f"{stats.subscriptions:,} subscriptions, {stats.services:,} services "
                f"and {stats.emails:,} past emails in {stats.seconds:.1f} s "
                f"({stats.read_model_seconds:.1f} s of it for the customer list's rows)."
            )
        )
        width = max(len(name) for name in stats.phases)
        self.stdout.write(f"  {'phase':<{width}}  {'wall':>9}  {'this process':>12}")
        for name, seconds in sorted(stats.phases.items(), key=lambda p: -p[1]):
            cpu = stats.phases_cpu.get(name, 0.0)
            self.stdout.write(f"  {name:<{width}}  {seconds:7.1f} s  {cpu:8.1f} s cpu")

    def _print_logins(self, logins: list[DemoLogin]) -> None:
        if not logins:
            return
        width_email = max(len(login.email) for login in logins)
        width_role = max(len(login.role) for login in logins)
        self.stdout.write("")
        url = f"{settings.SITE_URL}/"
        self.stdout.write(f"Partner Hub: {url}   (support console: {url}admin/)")
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}")
        self.stdout.write("")
        self.stdout.write(f"  {'email':<{width_email}}  {'role':<{width_role}}  org")
        for login in logins:
            self.stdout.write(
                f"  {login.email:<{width_email}}  {login.role:<{width_role}}  {login.org}"
            )
        self.stdout.write("")
