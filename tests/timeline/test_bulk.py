"""Issue 16: bulk actions on the customer list — extend trials (T6, one preview, per-row
refusals, all or nothing), export, ask admins to sign in (D5, one email each through the
outbox); every action audited and asked of the one access decision."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from licensing.choices import ServiceType, SubscriptionKind
from licensing.models import Subscription
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import AuditEntry
from partnerhub.core.clock import business_today
from partnerhub.core.models import OutboxEmail
from tests.factories import make_customer, make_subscription, make_user

pytestmark = pytest.mark.django_db

LIST = reverse("customers:customer_list")
EXTEND = reverse("customers:bulk_trial_extend")
EXPORT = reverse("customers:bulk_export")
SIGNIN = reverse("customers:bulk_signin_ask")


def trials(world, n: int = 3, *, left: int = 5):
    today = business_today()
    orgs = []
    for i in range(n):
        org = make_customer(name=f"Bulk {i}", partner=world.partner)
        make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email=f"admin{i}@bulk{i}.example")
        make_subscription(
            customer=org,
            partner=world.partner,
            kind=SubscriptionKind.TRIAL,
            start=today - timedelta(days=20),
            end=today + timedelta(days=left),
            services={ServiceType.MEETINGS: 5},
        )
        orgs.append(org)
    return orgs


def ends(orgs) -> list:
    return [
        Subscription.objects.get(customer=o, kind=SubscriptionKind.TRIAL).end_date for o in orgs
    ]


def test_T6_bulk_extension_previews_every_date_and_refusal_then_applies(client, world):
    orgs = trials(world)
    client.force_login(world.sales_admin)
    picked = [o.pk for o in orgs] + [world.customer_paid.pk]
    preview = client.post(EXTEND, {"customer": picked, "days": 30})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert html.count('data-testid="bulk-line"') == 4
    assert "No running trial with you." in html  # the paid customer, refused on its row
    before = ends(orgs)
    assert before == [business_today() + timedelta(days=5)] * 3  # the preview changed nothing
    expected = [o.pk for o in orgs]
    done = client.post(EXTEND, {"customer": picked, "days": 30, "apply": 1, "extend": expected})
    assert done.status_code == 302
    # T6: today + 30, not the current end + 30.
    assert ends(orgs) == [business_today() + timedelta(days=30)] * 3
    entry = AuditEntry.objects.get(action="bulk.trial_extend")
    assert sorted(entry.details["extended"]) == sorted(expected)
    assert entry.details["refused"] == [world.customer_paid.pk]


def test_bulk_extension_is_all_or_nothing(client, world):
    """A row that is refused at apply time (it changed since the preview) undoes every row."""
    orgs = trials(world)
    client.force_login(world.sales_admin)
    picked = [o.pk for o in orgs]
    # The preview showed four rows extended, one of which (the paid one) cannot be.
    client.post(
        EXTEND,
        {"customer": picked, "days": 60, "apply": 1, "extend": [*picked, world.customer_paid.pk]},
    )
    assert ends(orgs) == [business_today() + timedelta(days=5)] * 3
    assert not AuditEntry.objects.filter(action="bulk.trial_extend").exists()


def test_select_all_matching_takes_the_lists_filters(client, world):
    orgs = trials(world)
    client.force_login(world.sales_admin)
    html = client.post(
        EXTEND, {"all": 1, "query": "subscription_status=trial_expiring_30", "days": 90}
    ).content.decode()
    # The three new trials and the world's trial (10 days left), nobody else.
    assert html.count('data-testid="bulk-line"') == 4
    assert "Trial Co" in html
    assert "Paid Co" not in html
    assert "Secret Co" not in html
    list_html = client.get(LIST, {"subscription_status": "trial_expiring_30"}).content.decode()
    assert 'name="all" value="1"' in list_html
    assert 'form="bulk-form"' in list_html
    assert len(orgs) == 3


def test_T1_bulk_extension_is_refused_to_roles_that_do_not_run_trials(client, world):
    orgs = trials(world)
    client.force_login(world.partner_full_admin)
    response = client.post(EXTEND, {"customer": [o.pk for o in orgs], "days": 30})
    assert response.status_code == 403
    html = client.get(LIST).content.decode()
    assert 'id="bulk-extend"' not in html
    assert 'id="bulk-export"' in html


def test_another_partners_customer_is_never_selected(client, world):
    client.force_login(world.sales_admin)
    html = client.post(EXTEND, {"customer": [world.other_customer.pk], "days": 30})
    assert html.status_code == 302  # nothing of ours ticked


def test_bulk_export_is_the_lists_csv_of_the_selection_and_audited(client, world):
    client.force_login(world.read_only)  # a read-only admin may export
    response = client.post(
        EXPORT,
        {"customer": [world.customer_paid.pk, world.customer_trial.pk, world.other_customer.pk]},
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r[0] for r in rows[1:]] == ["Paid Co", "Trial Co"]
    assert "Select" not in rows[0]  # the checkbox column is not exported
    assert AuditEntry.objects.filter(action="bulk.export", actor=world.read_only).exists()


def test_D5_asking_admins_to_sign_in_owes_one_email_each_through_the_outbox(client, world):
    orgs = trials(world, 2)
    make_user(org=orgs[0], role=Role.CUSTOMER_READ_ONLY, email="reader@bulk0.example")
    make_user(org=orgs[0], role=Role.USER, email="plain@bulk0.example")  # not an admin
    client.force_login(world.partner_full_admin)
    picked = {"customer": [o.pk for o in orgs] + [world.customer_marked.pk]}
    assert client.post(SIGNIN, picked).status_code == 302
    emails = OutboxEmail.objects.filter(kind="signin_ask")
    assert sorted(e.to_email for e in emails) == [
        "admin0@bulk0.example",
        "admin1@bulk1.example",
        "reader@bulk0.example",
    ]
    client.post(SIGNIN, picked)  # asked again the same day: still one email each
    assert OutboxEmail.objects.filter(kind="signin_ask").count() == 3
    assert AuditEntry.objects.filter(action="bulk.signin_ask").count() == 2
    messages = [str(m) for m in client.get(LIST + "?view=all").context["messages"]]
    assert any("Sleepy Co" in m for m in messages)  # no admin to ask there, said


def test_a_read_only_admin_may_not_email_customers(client, world):
    client.force_login(world.read_only)
    assert client.post(SIGNIN, {"customer": [world.customer_paid.pk]}).status_code == 403
    assert not OutboxEmail.objects.filter(kind="signin_ask").exists()


def test_bulk_extension_undoes_every_row_when_one_fails_while_applying(client, world, monkeypatch):
    from django.core.exceptions import ValidationError

    import customers.bulk
    from trials.services import trial_extend

    orgs = trials(world)
    calls = []

    def third_fails(**kwargs):
        calls.append(kwargs["trial"].pk)
        if len(calls) == 3:
            raise ValidationError("The trial is no longer running.")
        return trial_extend(**kwargs)

    monkeypatch.setattr(customers.bulk, "trial_extend", third_fails)
    client.force_login(world.sales_admin)
    picked = [o.pk for o in orgs]
    response = client.post(EXTEND, {"customer": picked, "days": 30, "apply": 1, "extend": picked})
    assert len(calls) == 3
    assert "Nothing was extended" in response.content.decode()
    assert ends(orgs) == [business_today() + timedelta(days=5)] * 3
    assert not AuditEntry.objects.filter(action__in=["trial.extend", "bulk.trial_extend"]).exists()
