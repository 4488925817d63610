"""The integration test's world, built in processes of their own (``manage.py shell``) so that
every commit really queues its tasks on the broker for the worker."""

from __future__ import annotations

import json

from licensing.choices import ServiceType
from licensing.models import Service
from licensing.provisioning import service_details_submit
from licensing.services import ServiceSpec
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import User
from partnerhub.core.models import OutboxEmail
from tests.factories import make_partner, make_user
from trials.services import trial_start_new_customer

ADMIN = "admin@worker.example"


def start() -> None:
    partner = make_partner(name="Worker Partner")
    sales = make_user(org=partner, role=Role.SALES_ADMIN, email="sales@worker.example")
    trial = trial_start_new_customer(
        partner=partner,
        actor=sales,
        company_name="Worker Widgets",
        admin_email=ADMIN,
        vertical="retail",
        country="DK",
        services=[
            ServiceSpec(type=ServiceType.MESSAGING, quantity=5),
            ServiceSpec(type=ServiceType.CALLING, quantity=5),
        ],
        devices=[],
        length_days=30,
    )
    print(f"TRIAL {trial.pk}")


def enter_location() -> None:
    calling = Service.objects.get(subscription__customer__name="Worker Widgets", type="calling")
    service_details_submit(
        service=calling,
        actor=User.objects.get(email=ADMIN),
        details={
            "location_name": "Head office",
            "address_line": "Main Street 1",
            "city": "Copenhagen",
            "postal_code": "1050",
            "country": "DK",
        },
    )


def state() -> None:
    print(
        "STATE "
        + json.dumps(
            {
                "services": dict(
                    Service.objects.filter(
                        subscription__customer__name="Worker Widgets"
                    ).values_list("type", "provisioning_status")
                ),
                "welcome": OutboxEmail.objects.filter(kind="trial_welcome").count(),
                "unsent": OutboxEmail.objects.filter(sent_at__isnull=True).count(),
            }
        )
    )
