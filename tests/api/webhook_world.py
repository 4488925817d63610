"""Built by the webhook integration test inside `manage.py shell`, in the test's own database:
a partner with an endpoint at the test's receiver, then a trial start (which owes the event)."""

from __future__ import annotations

import json
import os


def build() -> None:
    from licensing.services import ServiceSpec
    from partnerhub.accounts.choices import Role
    from partnerhub.accounts.webhooks import webhook_endpoint_create
    from tests.factories import make_partner, make_user
    from trials.services import trial_start_new_customer

    partner = make_partner(name="Hook Resellers")
    admin = make_user(org=partner, role=Role.PARTNER_FULL_ADMIN, email="admin@hook.example")
    sales = make_user(org=partner, role=Role.SALES_ADMIN, email="sales@hook.example")
    _endpoint, secret = webhook_endpoint_create(
        partner=partner,
        actor=admin,
        url=os.environ["RECEIVER_URL"],
        event_types=["trial.started", "provisioning.done"],
    )
    for i in range(int(os.environ.get("TRIALS", "1"))):
        trial_start_new_customer(
            partner=partner,
            actor=sales,
            company_name=f"Hooked {i}",
            admin_email=f"it{i}@hooked.example",
            vertical="retail",
            country="DK",
            services=[ServiceSpec(type="messaging", quantity=5)],
            devices=[],
            length_days=30,
        )
    print("SECRET " + json.dumps(secret))


def state() -> None:
    from partnerhub.accounts.models import WebhookAttempt, WebhookDelivery

    print(
        "STATE "
        + json.dumps(
            {
                "delivered": WebhookDelivery.objects.filter(status="delivered").count(),
                "pending": WebhookDelivery.objects.filter(status="pending").count(),
                "attempts": WebhookAttempt.objects.count(),
            }
        )
    )
