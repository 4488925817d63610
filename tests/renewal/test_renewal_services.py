"""S1–S3 for paid subscriptions and T9's conversion safety, through the order services.

Each test here failed before issue 10: renewal did not exist, a new paid subscription left the
users on the suspended one, and a conversion order could leave services stranded.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from licensing.choices import OrderStatus, ServiceType, SubscriptionKind, SubscriptionState
from licensing.models import CallingProfile, License, Order, PhoneNumber, Subscription
from licensing.orders import (
    OrderLineSpec,
    OrderRefused,
    ServicesLeftOut,
    order_place,
    order_setup_complete,
    trial_convert,
)
from licensing.services import ServiceSpec
from licensing.sweeps import subscriptions_end_due
from partnerhub.accounts.choices import PartnerTier, Role
from partnerhub.core.models import OutboxEmail
from tests.factories import listed_facts_changed, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db


def _lines(**quantities: int) -> list[OrderLineSpec]:
    return [OrderLineSpec(service_type=t, quantity=q) for t, q in quantities.items()]


def _license_ids(sub: Subscription) -> set[int]:
    return set(License.objects.filter(service__subscription=sub).values_list("pk", flat=True))


def test_S3_renewal_order_reactivates_a_suspended_paid_subscription_in_place(paid_world):
    paid, bo = paid_world["paid"], paid_world["bo"]
    before = _license_ids(paid)
    order = order_place(
        lines=_lines(messaging=10, calling=5),
        provisioning_contact_email="sam@fjord.example",
        renews=paid,
        placed_by=paid_world["seller"],
    )
    paid.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.renews == paid
    assert paid.state == SubscriptionState.ACTIVE
    assert paid.period_end_date is None
    assert paid.end_date > timezone.localdate() + timedelta(days=300)
    # C1/C6: the same license rows, the same users, the calling data and number untouched.
    assert _license_ids(paid) == before
    assert CallingProfile.objects.get(user=bo).voicemail_pin == "4321"
    assert PhoneNumber.objects.get(number="+4511112222").subscription == paid
    # No setup wizard for a renewal: the org is known.
    assert not OutboxEmail.objects.filter(kind="order_setup_link").exists()


def test_S3_renewed_subscription_is_not_removed_at_the_end_of_the_old_period(paid_world):
    paid = paid_world["paid"]
    old_period_end = paid.period_end_date
    order_place(
        lines=_lines(messaging=10, calling=5),
        provisioning_contact_email="sam@fjord.example",
        renews=paid,
        placed_by=paid_world["seller"],
    )
    now = timezone.now() + timedelta(days=(old_period_end - timezone.localdate()).days + 1)
    subscriptions_end_due(now=now)
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.ACTIVE
    assert License.objects.filter(service__subscription=paid).count() == 3
    assert CallingProfile.objects.filter(user=paid_world["bo"]).exists()


def test_S3_an_expiring_paid_subscription_is_renewed_after_its_current_end(paid_world):
    org, partner = paid_world["org"], paid_world["partner"]
    today = timezone.localdate()
    expiring = make_subscription(
        customer=org,
        partner=partner,
        start=today - timedelta(days=340),
        end=today + timedelta(days=25),
        services={ServiceType.MEETINGS: 3},
    )
    order_place(
        lines=_lines(meetings=3),
        provisioning_contact_email="sam@fjord.example",
        renews=expiring,
        placed_by=paid_world["seller"],
    )
    expiring.refresh_from_db()
    # The new 12-month term starts the day after the current end.
    assert expiring.end_date == today + timedelta(days=25) + timedelta(days=365)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (_lines(messaging=10), "Calling is left out"),  # drop
        (_lines(messaging=1, calling=5), "Messaging: 2 users hold"),  # exceed
        (_lines(messaging=10, calling=5, meetings=3), "not part of this subscription"),  # add
    ],
)
def test_S3_bad_renewal_order_is_refused_and_nothing_changes(paid_world, lines, message):
    paid = paid_world["paid"]
    with pytest.raises(OrderRefused, match=message):
        order_place(
            lines=lines,
            provisioning_contact_email="sam@fjord.example",
            renews=paid,
            placed_by=paid_world["seller"],
        )
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.SUSPENDED
    assert not Order.objects.exists()


def test_S3_renewal_refused_after_the_renewal_period_and_for_a_far_end(paid_world):
    paid = paid_world["paid"]
    Subscription.objects.filter(pk=paid.pk).update(period_end_date=timezone.localdate())
    with pytest.raises(OrderRefused, match="renewal period has ended"):
        order_place(
            lines=_lines(messaging=10, calling=5),
            provisioning_contact_email="sam@fjord.example",
            renews=paid,
            placed_by=paid_world["seller"],
        )
    fresh = make_subscription(customer=paid_world["org"], partner=paid_world["partner"])
    with pytest.raises(OrderRefused, match="not expiring yet"):
        order_place(
            lines=_lines(messaging=10),
            provisioning_contact_email="sam@fjord.example",
            renews=fresh,
            placed_by=paid_world["seller"],
        )
    assert not Order.objects.exists()


def test_S3_tier_2_partner_renews_through_its_distributor(paid_world):
    tier2 = make_partner(name="Small Reseller", tier=PartnerTier.TIER_2)
    seller = make_user(org=tier2, role=Role.SALES_ADMIN)
    Subscription.objects.filter(pk=paid_world["paid"].pk).update(partner=tier2)
    listed_facts_changed(paid_world["paid"].customer_id)
    with pytest.raises(OrderRefused, match="distributor"):
        order_place(
            lines=_lines(messaging=10, calling=5),
            provisioning_contact_email="x@nordicwidgets.dk",
            renews=paid_world["paid"],
            placed_by=seller,
        )


def _place_new_paid(world, **quantities: int) -> Order:
    return order_place(
        lines=_lines(**quantities),
        provisioning_contact_email="anna@nordicwidgets.dk",
        placed_by=world["seller"],
    )


def test_S3_new_paid_subscription_in_the_renewal_period_takes_over_the_suspended_licenses(
    paid_world,
):
    """The finding: a new paid subscription left every user on the suspended one, and at the
    end of the period they lost their licenses and calling data."""
    paid, bo = paid_world["paid"], paid_world["bo"]
    before = _license_ids(paid)
    order = _place_new_paid(paid_world, messaging=20, calling=5)
    result = order_setup_complete(
        order=order,
        org=paid_world["org"],
        company_name="Nordic Widgets",
        admin_email="anna@nordicwidgets.dk",
    )
    new = result.order.subscription
    assert new is not None
    assert new != paid
    # One UPDATE per license row: the same rows, now on the new subscription.
    assert _license_ids(new) == before
    assert not License.objects.filter(service__subscription=paid).exists()
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.ENDED
    assert paid.replaced_by == new
    # The services were set up on the org already: usable at once on the new subscription.
    assert set(new.services.values_list("provisioning_status", flat=True)) == {"provisioned"}
    assert PhoneNumber.objects.get(number="+4511112222").subscription == new
    # At the end of the old period nothing is lost.
    subscriptions_end_due(now=timezone.now() + timedelta(days=61))
    assert License.objects.filter(service__subscription=new).count() == 3
    assert CallingProfile.objects.get(user=bo).voicemail_pin == "4321"


def test_S3_new_paid_subscription_too_small_for_the_suspended_users_is_refused(paid_world):
    order = _place_new_paid(paid_world, messaging=1, calling=5)
    with pytest.raises(OrderRefused, match="Order at least 2"):
        order_setup_complete(
            order=order,
            org=paid_world["org"],
            company_name="Nordic Widgets",
            admin_email="anna@nordicwidgets.dk",
        )
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert Subscription.objects.filter(customer=paid_world["org"]).count() == 1
    assert License.objects.filter(service__subscription=paid_world["paid"]).count() == 3


def test_S3_new_subscription_for_part_of_the_services_leaves_the_rest_suspended(paid_world):
    paid = paid_world["paid"]
    order = _place_new_paid(paid_world, messaging=10)
    new = order_setup_complete(
        order=order,
        org=paid_world["org"],
        company_name="Nordic Widgets",
        admin_email="anna@nordicwidgets.dk",
    ).order.subscription
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.SUSPENDED
    assert License.objects.filter(service__subscription=new).count() == 2
    assert License.objects.filter(service__subscription=paid, service_type="calling").count() == 1


# --- T9: conversion safety ---------------------------------------------------------------


def test_T9_conversion_order_leaving_a_service_out_lists_its_users_and_needs_confirmation(
    mm_trial,
):
    with pytest.raises(ServicesLeftOut) as refused:
        order_place(
            lines=_lines(meetings=5),
            provisioning_contact_email="sam@fjord.example",
            trial=mm_trial["trial"],
            placed_by=mm_trial["seller"],
        )
    assert sorted(refused.value.users["messaging"]) == sorted(u.email for u in mm_trial["users"])
    assert "Messaging is left out: 5 users would lose it" in refused.value.message
    assert not Order.objects.exists()


def test_T9_confirmed_left_out_service_is_removed_at_conversion_not_stranded(mm_trial):
    """The finding: converting with Meetings only left 5 Messaging licenses stranded on the
    converted trial. Confirmed, the left-out licenses are removed at conversion."""
    trial = mm_trial["trial"]
    order = order_place(
        lines=_lines(meetings=5),
        provisioning_contact_email="sam@fjord.example",
        trial=trial,
        placed_by=mm_trial["seller"],
        drop_services=["messaging"],
    )
    assert order.dropped_services == ["messaging"]
    result = order_setup_complete(
        order=order,
        org=mm_trial["org"],
        company_name="Nordic Widgets",
        admin_email="anna@nordicwidgets.dk",
    )
    assert result.converted
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.CONVERTED
    assert not License.objects.filter(service__subscription=trial).exists()
    assert License.objects.filter(service__subscription=result.order.subscription).count() == 1


def test_T9_conversion_without_confirmation_is_refused_and_nothing_changes(mm_trial):
    trial = mm_trial["trial"]
    with pytest.raises(ServicesLeftOut):
        trial_convert(
            trial=trial,
            services=[ServiceSpec(type=ServiceType.MEETINGS, quantity=5)],
            partner=mm_trial["partner"],
        )
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.ACTIVE
    assert License.objects.filter(service__subscription=trial).count() == 6
    assert Subscription.objects.filter(kind=SubscriptionKind.PAID).count() == 0


def test_T9_conversion_order_with_fewer_licenses_than_users_is_refused(mm_trial):
    with pytest.raises(OrderRefused, match="Messaging: 5 users hold a license"):
        order_place(
            lines=_lines(meetings=5, messaging=3),
            provisioning_contact_email="sam@fjord.example",
            trial=mm_trial["trial"],
            placed_by=mm_trial["seller"],
        )
    assert not Order.objects.exists()


def test_T9_conversion_order_doubling_a_paid_service_is_refused(mm_trial):
    make_subscription(
        customer=mm_trial["org"], partner=mm_trial["partner"], services={ServiceType.CALLING: 5}
    )
    with pytest.raises(OrderRefused, match="already has a paid subscription"):
        order_place(
            lines=_lines(meetings=5, messaging=5, calling=5),
            provisioning_contact_email="sam@fjord.example",
            trial=mm_trial["trial"],
            placed_by=mm_trial["seller"],
        )
    assert not Order.objects.exists()
