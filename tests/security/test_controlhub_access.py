"""Issue 9, findings 1 and 2: the Control Hub access decision takes the person's partner role
and the partner's certification into account, in the views and again in the services."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from licensing.calling import license_template_save, subscription_cancel, user_licenses_set
from licensing.choices import ServiceType, SubscriptionState
from licensing.csv_io import users_csv_export, users_csv_import
from licensing.models import AutoLicenseTemplate, License, Subscription
from partnerhub.accounts.access import ControlHubAction, controlhub_may
from partnerhub.accounts.choices import PartnerAccess, Role
from tests.factories import assign, make_customer, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    northwind = make_partner(name="Northwind")
    tailspin = make_partner(name="Tailspin", certified=False)
    litware = make_customer(name="Litware", partner=northwind)
    fabrikam = make_customer(name="Fabrikam", partner=tailspin)
    subs, users = {}, {}
    for org in (litware, fabrikam):
        sub = make_subscription(
            customer=org,
            partner=northwind if org == litware else tailspin,
            services={ServiceType.MESSAGING: 5, ServiceType.CALLING: 5},
        )
        alice = make_user(org=org, role=Role.USER)
        assign(user=alice, subscription=sub, service_type=ServiceType.CALLING)
        subs[org.name], users[org.name] = sub, alice
    return {
        "litware": litware,
        "fabrikam": fabrikam,
        "subs": subs,
        "users": users,
        "nw_readonly": make_user(org=northwind, role=Role.PARTNER_READ_ONLY),
        "nw_sales": make_user(org=northwind, role=Role.SALES_ADMIN),
        "ts": {
            role: make_user(org=tailspin, role=role)
            for role in (Role.PARTNER_FULL_ADMIN, Role.SALES_ADMIN, Role.PARTNER_READ_ONLY)
        },
    }


def url(name, org, **kw):
    return reverse(f"controlhub:{name}", kwargs={"org_pk": org.pk, **kw})


def change_posts(world, org):
    sub = world["subs"][org.name]
    alice = world["users"][org.name]
    messaging = sub.services.get(type=ServiceType.MESSAGING).pk
    return [
        (url("license_template", org), {"services": [messaging], "keep_existing_licenses": "on"}),
        (url("subscription_cancel", org, pk=sub.pk), {"confirm_calling_loss": "on"}),
        (url("user_licenses_edit", org, pk=alice.pk), {"services": [messaging]}),
        (url("users_csv_import", org), {}),
    ]


def assert_unchanged(world, org):
    sub = Subscription.objects.get(pk=world["subs"][org.name].pk)
    assert sub.state == SubscriptionState.ACTIVE
    assert not AutoLicenseTemplate.objects.filter(org=org).exists()
    assert License.objects.filter(user=world["users"][org.name]).count() == 1


def test_finding_1_partner_read_only_cannot_change_a_customers_control_hub(client, world):
    """T1 / "read-only sees, never changes": a partner read-only admin whose partner has full
    access still only reads."""
    org = world["litware"]
    client.force_login(world["nw_readonly"])
    assert client.get(url("overview", org)).status_code == 200
    assert client.get(url("user_list", org)).status_code == 200
    for path, data in change_posts(world, org):
        assert client.post(path, data).status_code == 403, path
        assert client.get(path).status_code == 403, path
    assert_unchanged(world, org)


def test_finding_1_sales_admin_of_the_managing_partner_still_changes(client, world):
    org = world["litware"]
    client.force_login(world["nw_sales"])
    path, data = change_posts(world, org)[0]
    assert client.post(path, data).status_code == 302
    assert AutoLicenseTemplate.objects.filter(org=org).exists()


@pytest.mark.parametrize(
    "role", [Role.PARTNER_FULL_ADMIN, Role.SALES_ADMIN, Role.PARTNER_READ_ONLY]
)
def test_finding_2_non_certified_partner_gets_no_control_hub(client, world, role):
    """Only certified partners use the hub: every Tailspin user gets a 404 for its customer."""
    org = world["fabrikam"]
    client.force_login(world["ts"][role])
    for name in ("overview", "user_list", "users_csv_export", "subscription_list"):
        assert client.get(url(name, org)).status_code == 404, name
    for path, data in change_posts(world, org):
        assert client.post(path, data).status_code == 404, path
    assert_unchanged(world, org)


def test_services_ask_again(world):
    """A task or a shell calling a service with a person who may not act is refused."""
    org = world["litware"]
    sub = world["subs"][org.name]
    readonly, tailspin_admin = world["nw_readonly"], world["ts"][Role.PARTNER_FULL_ADMIN]
    messaging = sub.services.get(type=ServiceType.MESSAGING).pk
    content = users_csv_export(org=org)
    for actor in (readonly, tailspin_admin):
        with pytest.raises(PermissionDenied):
            subscription_cancel(subscription=sub, actor=actor, confirm_calling_loss=True)
        with pytest.raises(PermissionDenied):
            license_template_save(
                org=org, service_ids=[messaging], keep_existing_licenses=True, actor=actor
            )
        with pytest.raises(PermissionDenied):
            user_licenses_set(user=world["users"][org.name], service_ids=[messaging], actor=actor)
        with pytest.raises(PermissionDenied):
            users_csv_import(org=org, content=content, actor=actor)
    assert_unchanged(world, org)
    # The lifecycle (no person) and an entitled person still may.
    subscription_cancel(subscription=sub, actor=world["nw_sales"], confirm_calling_loss=True)


def test_the_decision_table(world):
    litware, fabrikam = world["litware"], world["fabrikam"]
    A = ControlHubAction
    assert controlhub_may(world["nw_readonly"], litware, A.READ)
    assert not controlhub_may(world["nw_readonly"], litware, A.CHANGE)
    assert controlhub_may(world["nw_sales"], litware, A.CHANGE)
    assert not controlhub_may(world["nw_sales"], litware, A.DELETE_ORG)
    assert not controlhub_may(world["nw_sales"], fabrikam, A.OVERVIEW)
    assert not controlhub_may(world["ts"][Role.PARTNER_FULL_ADMIN], fabrikam, A.OVERVIEW)
    # Provisioning-admin access: the overview and provisioning only.
    rel = litware.partner_relationships.get()
    rel.access = PartnerAccess.PROVISIONING_ADMIN
    rel.save()
    assert controlhub_may(world["nw_sales"], litware, A.PROVISION)
    assert controlhub_may(world["nw_sales"], litware, A.OVERVIEW)
    assert not controlhub_may(world["nw_sales"], litware, A.READ)
    assert not controlhub_may(world["nw_readonly"], litware, A.PROVISION)
