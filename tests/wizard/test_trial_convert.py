"""T9: converting a trial keeps its usage data; T12: also during the grace period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from licensing.choices import (
    MeetingsEdition,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.models import CallingProfile, License, PhoneNumber, Service
from licensing.orders import OrderRefused, _add_months, trial_convert
from licensing.services import ServiceSpec
from partnerhub.accounts.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_T9_meetings_site_phone_numbers_and_calling_data_move_with_the_conversion(trial_world):
    trial = trial_world["trial"]
    Service.objects.create(
        subscription=trial,
        type=ServiceType.MEETINGS,
        quantity=5,
        edition=MeetingsEdition.ENTERPRISE,
        site_url="nordicwidgets.meet.example",
        time_zone="Europe/Copenhagen",
    )
    PhoneNumber.objects.create(
        org=trial.customer, number="+4512345678", user=trial_world["bo"], subscription=trial
    )
    paid = trial_convert(
        trial=trial,
        services=[
            ServiceSpec(type=ServiceType.MEETINGS, quantity=5),
            ServiceSpec(type=ServiceType.CALLING, quantity=5),
            ServiceSpec(type=ServiceType.MESSAGING, quantity=10),
        ],
        partner=trial_world["partner"],
        term_months=12,
    )
    meetings = paid.services.get(type=ServiceType.MEETINGS)
    assert meetings.site_url == "nordicwidgets.meet.example"
    assert meetings.edition == MeetingsEdition.ENTERPRISE
    assert PhoneNumber.objects.get().subscription == paid
    assert CallingProfile.objects.get(user=trial_world["bo"]).voicemail_pin == "4321"  # C1
    assert (
        License.objects.get(user=trial_world["bo"], service_type="calling").service.subscription
        == paid
    )
    assert paid.converted_from == trial
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.CONVERTED
    entry = AuditEntry.objects.get(action="trial.convert")
    assert entry.details["licenses_moved"] == 3


def test_T12_suspended_trial_converts_inside_grace(trial_world):
    trial = trial_world["trial"]
    today = timezone.localdate()
    trial.end_date = today - timedelta(days=29)
    trial.start_date = trial.end_date - timedelta(days=30)
    trial.state = SubscriptionState.SUSPENDED
    trial.period_end_date = trial.end_date + timedelta(days=30)
    trial.save()
    paid = trial_convert(
        trial=trial,
        services=[
            ServiceSpec(type=ServiceType.MESSAGING, quantity=10),
            ServiceSpec(type=ServiceType.CALLING, quantity=5),
        ],
        partner=trial_world["partner"],
        today=today,
    )
    assert paid.state == SubscriptionState.ACTIVE
    assert paid.kind == SubscriptionKind.PAID
    assert License.objects.filter(service__subscription=paid).count() == 3


def test_T12_trial_after_grace_does_not_convert(trial_world):
    trial = trial_world["trial"]
    with pytest.raises(OrderRefused):
        trial_convert(
            trial=trial,
            services=[ServiceSpec(type=ServiceType.MESSAGING, quantity=10)],
            partner=trial_world["partner"],
            today=trial.end_date + timedelta(days=30),
        )
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.ACTIVE


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2026, 1, 1), 12, date(2026, 12, 31)),
        (date(2026, 1, 31), 1, date(2026, 2, 27)),
        (date(2024, 2, 29), 12, date(2025, 2, 27)),
        (date(2026, 11, 23), 24, date(2028, 11, 22)),
    ],
)
def test_term_end_dates_across_month_ends_and_leap_days(start, months, end):
    assert _add_months(start, months) == end
