"""C1–C6 through the services: moves keep calling data, removals need confirmation."""

from __future__ import annotations

import pytest

from licensing.calling import (
    CallingDataAtRisk,
    LicenseError,
    license_template_apply,
    license_template_save,
    subscription_cancel,
    user_licenses_set,
)
from licensing.choices import ServiceType, SubscriptionState
from licensing.models import CallingProfile, License, PhoneNumber
from partnerhub.accounts.models import AuditEntry
from tests.factories import assign, listed_facts_changed, make_user

from .conftest import calling_service_of, calling_snapshot

pytestmark = pytest.mark.django_db


def svc(sub, service_type):
    return sub.services.get(type=service_type).pk


def test_C3_edit_moves_calling_in_one_save_and_keeps_calling_data(world):
    before = calling_snapshot(world.alice)
    license_before = License.objects.get(user=world.alice, service_type=ServiceType.CALLING)
    change = user_licenses_set(
        user=world.alice,
        service_ids=[svc(world.new, ServiceType.CALLING), svc(world.old, ServiceType.MESSAGING)],
        actor=world.admin,
    )
    assert change is not None
    assert change.calling_move is not None
    assert calling_service_of(world.alice) == world.new
    # C6: the same row changed its service; there never was a moment without Calling.
    moved = License.objects.get(user=world.alice, service_type=ServiceType.CALLING)
    assert moved.pk == license_before.pk
    assert calling_snapshot(world.alice) == before  # C1
    assert AuditEntry.objects.filter(action="license.change", target=world.alice.email).exists()


def test_C2_removing_calling_names_the_user_and_needs_confirmation(world):
    with pytest.raises(CallingDataAtRisk) as risk:
        user_licenses_set(
            user=world.alice, service_ids=[svc(world.old, ServiceType.MESSAGING)], actor=world.admin
        )
    assert risk.value.emails == [world.alice.email]
    assert calling_service_of(world.alice) == world.old  # nothing changed
    user_licenses_set(
        user=world.alice,
        service_ids=[svc(world.old, ServiceType.MESSAGING)],
        actor=world.admin,
        confirm_calling_loss=True,
    )
    assert not License.objects.filter(user=world.alice, service_type=ServiceType.CALLING).exists()
    assert not CallingProfile.objects.filter(user=world.alice).exists()
    assert not PhoneNumber.objects.filter(user=world.alice).exists()
    assert PhoneNumber.objects.filter(org=world.org).count() == 2  # numbers stay with the org


def test_C1_two_calling_licenses_are_refused(world):
    with pytest.raises(LicenseError):
        user_licenses_set(
            user=world.alice,
            service_ids=[svc(world.old, ServiceType.CALLING), svc(world.new, ServiceType.CALLING)],
            actor=world.admin,
        )


def test_quantity_is_enforced(world):
    world.new.services.filter(type=ServiceType.MESSAGING).update(quantity=0)
    listed_facts_changed(world.org)
    with pytest.raises(LicenseError, match="licenses"):
        user_licenses_set(
            user=world.admin,
            service_ids=[svc(world.new, ServiceType.MESSAGING)],
            actor=world.admin,
        )


def test_C2_cancelling_a_calling_subscription_names_users_and_needs_confirmation(world):
    with pytest.raises(CallingDataAtRisk) as risk:
        subscription_cancel(subscription=world.old, actor=world.admin)
    assert risk.value.emails == [world.alice.email]
    world.old.refresh_from_db()
    assert world.old.state == SubscriptionState.ACTIVE
    subscription_cancel(subscription=world.old, actor=world.admin, confirm_calling_loss=True)
    world.old.refresh_from_db()
    assert world.old.state == SubscriptionState.CANCELLED
    assert not License.objects.filter(service__subscription=world.old).exists()
    assert not CallingProfile.objects.filter(user=world.alice).exists()


def test_C2_cancelling_after_moving_users_keeps_their_data(world):
    before = calling_snapshot(world.alice)
    user_licenses_set(
        user=world.alice, service_ids=[svc(world.new, ServiceType.CALLING)], actor=world.admin
    )
    subscription_cancel(subscription=world.old, actor=world.admin)  # no one left: no question
    assert calling_snapshot(world.alice) == before


def test_C5_template_with_keep_unticked_moves_users_and_keeps_calling_data(world):
    bob = make_user(org=world.org, email="bob@fjord.example")
    assign(user=bob, subscription=world.old, service_type=ServiceType.CALLING)
    before = {u.pk: calling_snapshot(u) for u in (world.alice, bob)}
    license_template_save(
        org=world.org,
        service_ids=[svc(world.new, ServiceType.CALLING), svc(world.new, ServiceType.MESSAGING)],
        keep_existing_licenses=False,
        actor=world.admin,
    )
    changed = license_template_apply(org=world.org, actor=world.admin)
    assert changed == 4  # alice, bob, and the two admins get the template
    for user in (world.alice, bob):
        assert calling_service_of(user) == world.new
        assert calling_snapshot(user) == before[user.pk]
    assert not License.objects.filter(service__subscription=world.old).exists()


def test_C5_template_keeping_existing_licenses_only_adds(world):
    license_template_save(
        org=world.org,
        service_ids=[svc(world.new, ServiceType.CALLING), svc(world.new, ServiceType.MESSAGING)],
        keep_existing_licenses=True,
        actor=world.admin,
    )
    license_template_apply(org=world.org, actor=world.admin)
    assert calling_service_of(world.alice) == world.old  # she already had Calling: kept there
    assert License.objects.filter(user=world.alice).count() == 3
    assert calling_service_of(world.admin) == world.new


def test_C5_template_without_calling_would_drop_calling_data_so_it_asks(world):
    license_template_save(
        org=world.org,
        service_ids=[svc(world.new, ServiceType.MESSAGING)],
        keep_existing_licenses=False,
        actor=world.admin,
    )
    with pytest.raises(CallingDataAtRisk) as risk:
        license_template_apply(org=world.org, actor=world.admin)
    assert risk.value.emails == [world.alice.email]
    assert calling_service_of(world.alice) == world.old


def test_C1_calling_on_an_ended_subscription_is_an_error_not_a_crash(world):
    type(world.old).objects.filter(pk=world.old.pk).update(state=SubscriptionState.ENDED)
    listed_facts_changed(world.old.customer_id)
    with pytest.raises(LicenseError, match="ended"):
        user_licenses_set(
            user=world.alice, service_ids=[svc(world.new, ServiceType.CALLING)], actor=world.admin
        )
