"""Walk a world through a year of days with `manage.py lifecycle_tick --now` (issue 3).

    .venv/bin/python bench/year.py [--days 365] [--examples]

Uses the demo world (`seed_demo`) when that command exists, plus a showcase of timelines that
owe every kind of email (deletion warning, trial notices, services removed, welcome, consent
expired, held deletion batch). Each day runs the tick as of 02:00 UTC, delivers what it owed
(console backend off; outbox_flush to the locmem backend), simulates some activity, and at the end
prints counts per sweep and email kind; with --examples one rendered text part of each kind.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def showcase(start: datetime) -> None:
    """Timelines that owe each kind of email within the year."""
    import time_machine

    from licensing.choices import (
        ProvisioningStatus,
        ServiceType,
        SubscriptionKind,
        SubscriptionState,
    )
    from partnerhub.accounts.choices import Role
    from partnerhub.accounts.models import Organization
    from tests.factories import make_customer, make_partner, make_subscription, make_user
    from trials.lifecycle import consent_expires_at
    from trials.models import ConsentRequest

    with time_machine.travel(start, tick=False):
        partner = make_partner(name="Fjord Digital Partners")
        make_user(org=partner, role=Role.SALES_ADMIN, email="sara.sales@fjorddigital.example")
        # A new customer's trial, provisioned: welcome (T2), notices (T11), removal (T12, T13).
        org = make_customer(name="Lakeside Dental ApS", partner=partner)
        make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="mette@lakeside-dental.example")
        make_user(org=org, role=Role.USER, email="jonas@lakeside-dental.example")
        make_subscription(
            customer=org,
            partner=partner,
            kind=SubscriptionKind.TRIAL,
            start=start.date(),
            end=start.date() + timedelta(days=30),
            services={ServiceType.CALLING: 5, ServiceType.MESSAGING: 5},
        )
        # An unanswered consent request (T3).
        existing = make_customer(name="Harbour Logistics AB", partner=partner)
        make_user(org=existing, role=Role.CUSTOMER_FULL_ADMIN, email="it@harbour.example")
        make_subscription(
            customer=existing,
            start=start.date() - timedelta(days=500),
            end=start.date() + timedelta(days=200),
        )
        pending = make_subscription(
            customer=existing,
            partner=partner,
            kind=SubscriptionKind.TRIAL,
            state=SubscriptionState.PENDING,
            status=ProvisioningStatus.PENDING_CONSENT,
            services={ServiceType.MEETINGS: 10},
        )
        ConsentRequest.objects.create(
            trial=pending,
            partner=partner,
            customer=existing,
            admin_email="it@harbour.example",
            requested_at=start,
            expires_at=consent_expires_at(requested_at=start),
        )
        # An abandoned org: warned on day 30, deleted on day 60 (D3, D4).
        quiet = make_customer(name="Old Bakery Srl")
        make_user(org=quiet, role=Role.CUSTOMER_FULL_ADMIN, email="owner@oldbakery.example")
        # Many abandoned orgs at once, more than the safety limit: a held batch (support email).
        for i in range(60):
            o = make_customer(name=f"Ghost Org {i:02d}")
            Organization.objects.filter(pk=o.pk).update(created=start - timedelta(days=900))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--examples", action="store_true")
    args = parser.parse_args()

    from bench._setup import django_on_temp_db

    django_on_temp_db("bench-year")
    import time_machine
    from django.core import mail
    from django.core.management import call_command, get_commands
    from django.test.utils import override_settings

    from customers.services import activity_record
    from partnerhub.accounts.models import User
    from partnerhub.core.models import OutboxEmail
    from partnerhub.core.outbox import outbox_flush

    start = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        OUTBOX_DELIVER_ON_COMMIT=False,
        DELETION_BATCH_MIN=50,
        DELETION_BATCH_FRACTION=0.05,
    ):
        if "seed_demo" in get_commands():
            with time_machine.travel(start, tick=False):
                call_command("seed_demo")
            print("world: seed_demo + showcase")
        else:
            print("world: showcase only (seed_demo is not on this branch)")
        showcase(start)
        mail.outbox = []
        rng = random.Random(7)
        for day in range(args.days):
            now = start + timedelta(days=day)
            with time_machine.travel(now, tick=False):
                # Some people use the product: a few random sign-ins per day.
                users = list(User.objects.filter(org__isnull=False).values_list("pk", flat=True))
                for pk in rng.sample(users, k=min(len(users), 3)):
                    user = User.objects.get(pk=pk)
                    if not user.email.endswith(("oldbakery.example", "lakeside-dental.example")):
                        activity_record(user=user, kind="app_sign_in", at=now - timedelta(hours=1))
                if day == 62:  # support staff look at the held batch and release it
                    from customers.models import DeletionHold
                    from customers.sweeps import hold_release

                    staff = User.objects.filter(is_staff=True).first() or User.objects.create_user(
                        email="support@partnerhub.example", is_staff=True
                    )
                    for hold in DeletionHold.objects.filter(released_at__isnull=True):
                        hold_release(hold=hold, user=staff)
                call_command("lifecycle_tick", "--now", now.isoformat(), "--quiet", stdout=_Null())
                outbox_flush()
        kinds = Counter(OutboxEmail.objects.values_list("kind", flat=True))
        print(f"{args.days} daily ticks, no error; {len(mail.outbox)} emails delivered")
        for kind, count in sorted(kinds.items()):
            print(f"  {kind:<24} {count}")
        if args.examples:
            for kind in sorted(kinds):
                email = OutboxEmail.objects.filter(kind=kind).order_by("pk").first()
                print(
                    f"\n===== {kind} → {email.to_email}\n"
                    f"Subject: {email.subject}\n\n{email.body_text}"
                )


class _Null:
    def write(self, *_args: object) -> None:
        pass

    def flush(self) -> None:
        pass


if __name__ == "__main__":
    main()
