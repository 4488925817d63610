"""T1 and tenant isolation over EVERY URL of the partner side: another partner's customer or
trial is a 404 (pages and exports), read-only admins and partner full admins cannot run
trials (no buttons, 403 by hand), people outside a certified partner get a 403."""

from __future__ import annotations

import pytest
from django.urls import reverse

from licensing.choices import ServiceType, SubscriptionKind
from licensing.models import Subscription
from licensing.services import ServiceSpec
from partnerhub.accounts.choices import Role
from tests.factories import make_customer, make_partner, make_subscription, make_user
from trials.models import ConsentRequest
from trials.services import trial_request_existing_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(world):
    """One of each object per partner: ours and the other partner's."""
    ours_trial = Subscription.objects.get(
        customer=world.customer_trial, kind=SubscriptionKind.TRIAL
    )
    theirs_trial = Subscription.objects.get(customer=world.other_customer)
    existing = make_customer(name="Existing Org")
    admin = make_user(org=existing, role=Role.CUSTOMER_FULL_ADMIN, email="it@existing.example")
    ours_consent = trial_request_existing_org(
        partner=world.partner,
        actor=world.sales_admin,
        admin_email=admin.email,
        services=[ServiceSpec(type=ServiceType.MESSAGING, quantity=5)],
        devices=[],
        length_days=30,
    )
    existing2 = make_customer(name="Existing Two")
    admin2 = make_user(org=existing2, role=Role.CUSTOMER_FULL_ADMIN, email="it@two.example")
    theirs_consent = trial_request_existing_org(
        partner=world.other_partner,
        actor=world.other_sales_admin,
        admin_email=admin2.email,
        services=[ServiceSpec(type=ServiceType.MESSAGING, quantity=5)],
        devices=[],
        length_days=30,
    )
    return {
        "ours": {
            "customer": world.customer_paid.pk,
            "trial": ours_trial.pk,
            "consent": ours_consent.pk,
        },
        "theirs": {
            "customer": world.other_customer.pk,
            "trial": theirs_trial.pk,
            "consent": theirs_consent.pk,
        },
    }


def urls(ids):
    """Every partner-side URL: (name, url, methods it answers)."""
    return [
        ("customer_list", reverse("customers:customer_list"), ["get"]),
        ("customer_export", reverse("customers:customer_list") + "?export=csv", ["get"]),
        ("customer_detail", reverse("customers:customer_detail", args=[ids["customer"]]), ["get"]),
        ("trial_start", reverse("trials:trial_start"), ["get", "post"]),
        ("trial_request", reverse("trials:trial_request"), ["get", "post"]),
        ("consent_resend", reverse("trials:consent_resend", args=[ids["consent"]]), ["post"]),
        (
            "consent_cancel",
            reverse("trials:consent_cancel", args=[ids["consent"]]),
            ["get", "post"],
        ),
        ("trial_add", reverse("trials:trial_add", args=[ids["customer"]]), ["get", "post"]),
        ("trial_services", reverse("trials:trial_services", args=[ids["trial"]]), ["get", "post"]),
        ("trial_extend", reverse("trials:trial_extend", args=[ids["trial"]]), ["get", "post"]),
        ("trial_delete", reverse("trials:trial_delete", args=[ids["trial"]]), ["get", "post"]),
    ]


CHANGE_URLS = {
    "trial_start",
    "trial_request",
    "consent_resend",
    "consent_cancel",
    "trial_add",
    "trial_services",
    "trial_extend",
    "trial_delete",
}
OBJECT_URLS = CHANGE_URLS - {"trial_start", "trial_request"} | {"customer_detail"}


def test_anonymous_people_are_sent_to_sign_in(client, objects):
    for name, url, methods in urls(objects["ours"]):
        for method in methods:
            response = getattr(client, method)(url)
            assert response.status_code == 302, (name, method)
            assert response["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("who", ["customer_admin", "support_staff", "uncertified_partner"])
def test_people_outside_a_certified_partner_get_403_everywhere(client, world, objects, who):
    if who == "customer_admin":
        user = make_user(org=world.customer_paid, role=Role.CUSTOMER_FULL_ADMIN)
    elif who == "support_staff":
        user = make_user(org=None, is_staff=True)
    else:
        user = make_user(org=make_partner(certified=False), role=Role.SALES_ADMIN)
    client.force_login(user)
    for name, url, methods in urls(objects["ours"]):
        for method in methods:
            assert getattr(client, method)(url).status_code == 403, (name, method)


@pytest.mark.parametrize("role", ["sales_admin", "sales_full_admin", "read_only"])
def test_another_partners_objects_are_404_in_every_page(client, world, objects, role):
    client.force_login(getattr(world, role))
    for name, url, methods in urls(objects["theirs"]):
        if name not in OBJECT_URLS:
            continue
        for method in methods:
            status = getattr(client, method)(url).status_code
            expected = 403 if role == "read_only" and name in CHANGE_URLS else 404
            assert status == expected, (name, method, status)


def test_another_partners_customers_never_reach_list_export_or_filters(client, world, objects):
    client.force_login(world.sales_admin)
    listing = client.get(reverse("customers:customer_list"), {"q": "Secret"})
    assert listing.context["count"] == 0
    csv_body = b"".join(
        client.get(reverse("customers:customer_list"), {"export": "csv"}).streaming_content
    ).decode()
    assert "Secret Co" not in csv_body
    assert "Existing Two" not in csv_body
    # the filter choices are fixed lists: nothing of another partner appears in the form
    form_html = str(client.get(reverse("customers:customer_list")).context["filter_form"])
    assert "Secret" not in form_html
    assert "Rival" not in form_html


@pytest.mark.parametrize("role", ["read_only", "partner_full_admin"])
def test_T1_only_sales_admins_run_trials(client, world, objects, role):
    client.force_login(getattr(world, role))
    for name, url, methods in urls(objects["ours"]):
        for method in methods:
            status = getattr(client, method)(url).status_code
            if name in CHANGE_URLS:
                assert status == 403, (name, method, status)
            else:
                assert status == 200, (name, method, status)
    # and no buttons offer what would be refused
    listing = client.get(reverse("customers:customer_list")).content.decode()
    assert reverse("trials:trial_start") not in listing
    for pk in (objects["ours"]["customer"], world.customer_trial.pk):
        page = client.get(reverse("customers:customer_detail", args=[pk])).content.decode()
        assert "/partner/trials/" not in page
        # only the top bar's forms: the language picker and sign-out
        assert page.count('method="post"') == 2
        assert page.count('action="/i18n/setlang/"') == 1


@pytest.mark.parametrize("role", ["sales_admin", "sales_full_admin"])
def test_T1_sales_admins_see_their_actions(client, world, objects, role):
    client.force_login(getattr(world, role))
    listing = client.get(reverse("customers:customer_list")).content.decode()
    assert reverse("trials:trial_start") in listing
    page = client.get(reverse("customers:customer_detail", args=[world.customer_trial.pk]))
    html = page.content.decode()
    trial = Subscription.objects.get(customer=world.customer_trial)
    assert reverse("trials:trial_extend", args=[trial.pk]) in html
    assert reverse("trials:trial_delete", args=[trial.pk]) in html
    for name, url, methods in urls(objects["ours"]):
        if "get" in methods and name not in {"consent_resend"}:
            assert client.get(url).status_code == 200, name


def test_consent_pending_customer_is_visible_to_its_partner_only(client, world, objects):
    pending_org = ConsentRequest.objects.get(pk=objects["ours"]["consent"]).customer
    client.force_login(world.sales_admin)
    page = client.get(reverse("customers:customer_detail", args=[pending_org.pk]))
    assert page.status_code == 200
    assert "Trial pending customer consent" in page.content.decode()
    client.force_login(world.other_sales_admin)
    assert (
        client.get(reverse("customers:customer_detail", args=[pending_org.pk])).status_code == 404
    )


def test_paid_customer_without_our_subscription_still_isolated(client, world):
    stranger = make_customer(name="Stranger Co")
    make_subscription(customer=stranger, partner=world.other_partner)
    client.force_login(world.sales_admin)
    assert client.get(reverse("customers:customer_detail", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("trials:trial_add", args=[stranger.pk])).status_code == 404
