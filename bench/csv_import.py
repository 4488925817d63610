"""C4 benchmark: import a CSV that moves 10,000 users' Calling licenses to another subscription.

    .venv/bin/python bench/csv_import.py [--users 10000]

Builds a throw-away test database (SQLite in memory by default; DATABASE_URL + TEST_DB_NAME
for PostgreSQL), 10,000 users with Calling and Messaging on one subscription and calling data
(PIN, extension, a number each), exports the CSV, flips every user's Calling to the other
subscription, then times the check (what the preview costs) and the import (which checks the
file again and applies it in one transaction). Fails if the import takes 10 s or more, or if
any calling data was lost (C1).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

LIMIT_SECONDS = 10.0


def build(n: int):
    from licensing.calling import service_label
    from licensing.choices import ServiceType
    from licensing.models import CallingProfile, License, PhoneNumber
    from partnerhub.accounts.choices import Role
    from partnerhub.accounts.models import User
    from tests.factories import make_customer, make_partner, make_subscription, make_user

    partner = make_partner(name="Bench Partner")
    org = make_customer(name="Bench Org", partner=partner)
    services = {ServiceType.CALLING: n, ServiceType.MESSAGING: n}
    old = make_subscription(customer=org, partner=partner, services=services)
    new = make_subscription(customer=org, partner=partner, services=services)
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="admin@bench.example")
    User.objects.bulk_create(
        [User(email=f"user{i:05d}@bench.example", org=org, password="!") for i in range(n)],
        batch_size=2000,
    )
    ids = list(User.objects.filter(org=org, email__startswith="user").values_list("pk", flat=True))
    old_calling = old.services.get(type=ServiceType.CALLING)
    old_messaging = old.services.get(type=ServiceType.MESSAGING)
    License.objects.bulk_create(
        [
            License(user_id=u, service=svc, service_type=svc.type)
            for u in ids
            for svc in (old_calling, old_messaging)
        ],
        batch_size=5000,
    )
    CallingProfile.objects.bulk_create(
        [CallingProfile(user_id=u, extension=str(10000 + u), voicemail_pin="2468") for u in ids],
        batch_size=5000,
    )
    PhoneNumber.objects.bulk_create(
        [PhoneNumber(org=org, number=f"+4580{u:06d}", user_id=u, subscription=old) for u in ids],
        batch_size=5000,
    )
    new_calling = new.services.get(type=ServiceType.CALLING)
    return org, admin, service_label(old_calling), service_label(new_calling), new_calling


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from licensing.choices import ServiceType
        from licensing.csv_io import users_csv_export, users_csv_import, users_csv_parse
        from licensing.models import CallingProfile, License, PhoneNumber

        t0 = time.perf_counter()
        org, admin, old_h, new_h, new_calling = build(args.users)
        print(f"setup: {args.users} users in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        text = users_csv_export(org=org)
        t_export = time.perf_counter() - t0
        lines = text.splitlines()
        cols = lines[0].split(",")
        i_old, i_new = cols.index(old_h), cols.index(new_h)
        out = [lines[0]]
        for line in lines[1:]:
            cells = line.split(",")
            if cells[0].startswith("user"):
                cells[i_old], cells[i_new] = "FALSE", "TRUE"
            out.append(",".join(cells))
        edited = "\n".join(out) + "\n"

        t0 = time.perf_counter()
        parsed = users_csv_parse(org=org, content=edited)
        t_check = time.perf_counter() - t0
        assert parsed.ok, parsed.errors[:5]
        assert parsed.plan is not None
        assert len(parsed.plan.moves) == args.users

        t0 = time.perf_counter()
        changed = users_csv_import(org=org, content=edited, actor=admin)
        t_import = time.perf_counter() - t0

        moved = License.objects.filter(
            service=new_calling, service_type=ServiceType.CALLING
        ).count()
        kept_profiles = CallingProfile.objects.filter(user__org=org, voicemail_pin="2468").count()
        kept_numbers = PhoneNumber.objects.filter(org=org, user__isnull=False).count()
        vendor = connection.vendor
        print(f"database: {vendor}")
        print(f"export:  {t_export:.2f} s ({len(lines) - 1} rows)")
        print(f"check (preview): {t_check:.2f} s")
        print(f"import (check again + apply, one transaction): {t_import:.2f} s; {changed} users")
        print(
            f"calling moved: {moved}; calling profiles kept: {kept_profiles}; "
            f"numbers kept: {kept_numbers}"
        )
        ok = (
            t_import < LIMIT_SECONDS
            and changed == args.users
            and moved == args.users
            and kept_profiles == args.users
            and kept_numbers == args.users
        )
        print("PASS" if ok else "FAIL", f"(limit {LIMIT_SECONDS:.0f} s)")
        return 0 if ok else 1
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    raise SystemExit(main())
