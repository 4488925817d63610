"""T3 consent services: accept, decline, and answers that come too late."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from licensing.choices import SubscriptionState
from partnerhub.accounts.models import CustomerRelationship
from tests.factories import make_subscription
from trials.consent import ConsentClosed, consent_accept, consent_decline

from .test_views import pending_trial

pytestmark = pytest.mark.django_db


def test_T3_no_answer_after_ten_days(world):
    consent = pending_trial(world)
    with (
        time_machine.travel(timezone.now() + timedelta(days=10, minutes=1)),
        pytest.raises(ConsentClosed),
    ):
        consent_accept(request=consent, by=world.admin, grant_full_admin=True)
    consent.trial.refresh_from_db()
    assert consent.trial.state == SubscriptionState.PENDING


def test_T3_answered_once_only(world):
    consent = pending_trial(world)
    consent_accept(request=consent, by=world.admin, grant_full_admin=False)
    with pytest.raises(ConsentClosed):
        consent_decline(request=consent, by=world.admin)


def test_T3_decline_keeps_a_partner_that_manages_something_else(world):
    consent = pending_trial(world)
    make_subscription(customer=world.org, partner=consent.partner)
    consent_decline(request=consent, by=world.admin)
    assert CustomerRelationship.objects.filter(partner=consent.partner, customer=world.org).exists()


def test_T3_T14_accepting_ships_the_devices_picked_with_the_request(world):
    from trials.choices import DeviceType
    from trials.lifecycle import device_return_due
    from trials.models import Device, DeviceShipment

    consent = pending_trial(world)
    end = consent.trial.end_date
    DeviceShipment.objects.create(
        trial=consent.trial,
        device_type=DeviceType.DESK_PHONE,
        quantity=2,
        agreement_end_date=end,
        return_due_date=device_return_due(agreement_end_date=end),
    )
    consent_accept(request=consent, by=world.admin, grant_full_admin=True)
    shipment = DeviceShipment.objects.get(trial=consent.trial)
    assert shipment.shipped_at is not None
    assert Device.objects.filter(shipment=shipment).count() == 2
