"""Control Hub bulk add: add 5,000 users from one CSV, with the auto-license template's
licenses and an invitation email each.

    .venv/bin/python bench/users_add_csv.py [--users 5000] [--no-invite]

Builds a throw-away test database (SQLite in memory by default; DATABASE_URL + TEST_DB_NAME
for PostgreSQL), an org whose template gives Messaging, then times the check (what the preview
costs) and the import (which checks the file again and adds everyone in one transaction).
Fails if the import takes 30 s or more, or if anyone is missing a license or an invitation.
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

LIMIT_SECONDS = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--no-invite", action="store_true")
    args = parser.parse_args()
    invite = not args.no_invite

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from customers.user_csv import users_add_csv_import, users_add_csv_parse
        from licensing.calling import license_template_save
        from licensing.choices import ServiceType
        from licensing.models import License
        from partnerhub.accounts.choices import Role
        from partnerhub.core.models import OutboxEmail
        from tests.factories import make_customer, make_partner, make_subscription, make_user

        partner = make_partner(name="Bench Partner")
        org = make_customer(name="Bench Org", partner=partner)
        sub = make_subscription(
            customer=org, partner=partner, services={ServiceType.MESSAGING: args.users}
        )
        admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="admin@bench.example")
        messaging = sub.services.get()
        license_template_save(
            org=org, service_ids=[messaging.pk], keep_existing_licenses=True, actor=admin
        )
        text = "Email,First name,Last name,Role\n" + "".join(
            f"new{i:05d}@bench.example,New,User {i},User\n" for i in range(args.users)
        )
        t0 = time.perf_counter()
        parsed = users_add_csv_parse(org=org, content=text)
        t_check = time.perf_counter() - t0
        assert parsed.ok, parsed.errors[:5]
        t0 = time.perf_counter()
        added = users_add_csv_import(org=org, content=text, actor=admin, invite=invite)
        t_import = time.perf_counter() - t0
        licensed = License.objects.filter(service=messaging).count()
        invited = OutboxEmail.objects.filter(kind="user_invitation").count()
        print(f"database: {connection.vendor}")
        print(f"check (preview): {t_check:.2f} s ({args.users} rows)")
        print(
            f"import (check again + add, one transaction): {t_import:.2f} s; {added} users, "
            f"{licensed} licenses, {invited} invitations owed"
        )
        ok = (
            t_import < LIMIT_SECONDS
            and added == args.users
            and licensed == args.users
            and invited == (args.users if invite else 0)
        )
        print("PASS" if ok else "FAIL", f"(limit {LIMIT_SECONDS:.0f} s)")
        return 0 if ok else 1
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    raise SystemExit(main())
