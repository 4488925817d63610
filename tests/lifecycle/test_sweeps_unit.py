"""Unit tests per sweep: what each selects as due (boundaries), what it changes, and that a
sweep's query count does not grow with the orgs that are not due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers import sweeps as d
from customers.tick import lifecycle_tick
from licensing import sweeps as s
from licensing.choices import (
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.models import PhoneNumber, Service, Subscription
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import AuditEntry, Organization
from partnerhub.core.models import OutboxEmail
from tests.factories import make_customer, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 6, 1, 2, 0, tzinfo=UTC)


def _org(**fields) -> Organization:
    org = make_customer()
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    Organization.objects.filter(pk=org.pk).update(**fields)
    org.refresh_from_db()
    return org


@pytest.mark.parametrize(
    ("quiet_days", "due"), [(29, False), (29.99, False), (30, True), (31, True)]
)
def test_D3_warning_due_exactly_after_30_quiet_days(quiet_days, due):
    org = _org(deletion_marked_at=NOW - timedelta(days=quiet_days))
    assert (org in d.orgs_due_for_deletion_warning(now=NOW)) is due


def test_D3_countdown_runs_from_the_later_of_mark_and_activity():
    org = _org(
        deletion_marked_at=NOW - timedelta(days=90), last_activity_at=NOW - timedelta(days=29)
    )
    assert org not in d.orgs_due_for_deletion_warning(now=NOW)
    org2 = _org(
        deletion_marked_at=NOW - timedelta(days=90), last_activity_at=NOW - timedelta(days=30)
    )
    assert org2 in d.orgs_due_for_deletion_warning(now=NOW)


@pytest.mark.parametrize(("days", "due"), [(29, False), (30, True), (45, True)])
def test_D4_deletion_due_30_days_after_a_current_warning(days, due):
    warned = NOW - timedelta(days=days)
    org = _org(deletion_marked_at=warned - timedelta(days=30), deletion_warned_at=warned)
    assert (org in d.orgs_due_for_deletion(now=NOW)) is due


def test_D5_activity_at_the_warning_instant_voids_it():
    warned = NOW - timedelta(days=40)
    org = _org(
        deletion_marked_at=warned - timedelta(days=30),
        deletion_warned_at=warned,
        last_activity_at=warned,
    )
    assert org not in d.orgs_due_for_deletion(now=NOW)
    # 40 quiet days since that activity: a fresh warning is due instead.
    assert org in d.orgs_due_for_deletion_warning(now=NOW)


def test_D1_mark_sweep_marks_only_orgs_without_licenses_and_audits_each():
    bare = _org()
    paid = _org()
    make_subscription(customer=paid)
    suspended = _org()
    make_subscription(customer=suspended, state=SubscriptionState.SUSPENDED)
    ended = _org()
    make_subscription(customer=ended, state=SubscriptionState.ENDED)
    result = d.deletion_mark_due(now=NOW)
    marked = set(Organization.objects.filter(deletion_marked_at=NOW).values_list("pk", flat=True))
    assert marked == {bare.pk, ended.pk}
    assert result.count == 2
    assert AuditEntry.objects.filter(action="org.deletion_mark").count() == 2


def test_D6_unmark_sweep_clears_mark_and_warning_of_orgs_holding_licenses():
    org = _org(deletion_marked_at=NOW - timedelta(days=40), deletion_warned_at=NOW)
    make_subscription(customer=org, state=SubscriptionState.PENDING)
    partner = make_partner()
    Organization.objects.filter(pk=partner.pk).update(deletion_marked_at=NOW)
    make_customer(partner=partner)
    assert d.deletion_unmark_due(now=NOW).count == 2
    org.refresh_from_db()
    assert org.deletion_marked_at is None
    assert org.deletion_warned_at is None


def test_D3_warn_sweep_emails_full_admins_only_keyed_by_deletion_date():
    org = _org(deletion_marked_at=NOW - timedelta(days=30))
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="second@full.example")
    make_user(org=org, role=Role.CUSTOMER_READ_ONLY, email="ro@full.example")
    result = d.deletion_warn_due(now=NOW)
    assert result.emails == 2
    keys = list(OutboxEmail.objects.values_list("key", flat=True))
    assert all(key.endswith(":2027-07-01") for key in keys)
    assert not OutboxEmail.objects.filter(to_email="ro@full.example").exists()


@pytest.mark.parametrize(
    ("kind", "period"), [(SubscriptionKind.PAID, 60), (SubscriptionKind.TRIAL, 30)]
)
def test_S1_suspend_sweep_sets_the_period_end_by_kind(kind, period):
    org = make_customer()
    end = NOW.date() - timedelta(days=1)
    sub = make_subscription(customer=org, kind=kind, start=end - timedelta(days=30), end=end)
    on_end_day = make_subscription(
        customer=org, kind=SubscriptionKind.PAID, start=end, end=NOW.date()
    )
    assert s.subscriptions_suspend_due(now=NOW).count == 1
    sub.refresh_from_db()
    on_end_day.refresh_from_db()
    assert sub.state == SubscriptionState.SUSPENDED
    assert sub.period_end_date == end + timedelta(days=period)
    assert on_end_day.state == SubscriptionState.ACTIVE  # runs through its end date


def test_S2_end_sweep_runs_on_the_period_end_day():
    org = make_customer()
    sub = make_subscription(
        customer=org,
        state=SubscriptionState.SUSPENDED,
        start=NOW.date() - timedelta(days=400),
        end=NOW.date() - timedelta(days=60),
    )
    Subscription.objects.filter(pk=sub.pk).update(period_end_date=NOW.date() + timedelta(days=1))
    assert s.subscriptions_end_due(now=NOW).count == 0
    Subscription.objects.filter(pk=sub.pk).update(period_end_date=NOW.date())
    assert s.subscriptions_end_due(now=NOW).count == 1
    sub.refresh_from_db()
    assert sub.state == SubscriptionState.ENDED
    assert sub.ended_at == NOW


def test_T13_number_release_sweep_waits_15_days_after_grace():
    org = make_customer()
    end = NOW.date() - timedelta(days=44)
    trial = make_subscription(
        customer=org,
        kind=SubscriptionKind.TRIAL,
        state=SubscriptionState.ENDED,
        start=end - timedelta(days=30),
        end=end,
        services={ServiceType.CALLING: 1},
    )
    Subscription.objects.filter(pk=trial.pk).update(calling_stopped_at=NOW - timedelta(days=14))
    PhoneNumber.objects.create(org=org, number="+4511111111", subscription=trial)
    assert s.trial_numbers_release_due(now=NOW).count == 0
    assert s.trial_numbers_release_due(now=NOW + timedelta(days=1)).count == 1
    assert not PhoneNumber.objects.exists()


def _world(live: int) -> None:
    for _ in range(live):
        org = make_customer()
        make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
        make_subscription(customer=org, start=NOW.date() - timedelta(days=10))


def _due_set() -> None:
    _org(deletion_marked_at=NOW - timedelta(days=31))  # warn
    _org()  # mark
    org = make_customer()
    make_subscription(
        customer=org,
        kind=SubscriptionKind.TRIAL,
        start=NOW.date() - timedelta(days=20),
        end=NOW.date() + timedelta(days=7),
    )


def test_tick_query_count_does_not_grow_with_orgs_that_are_not_due():
    from licensing.readmodel import customer_rows_advance

    customer_rows_advance(today=NOW.date())  # the read model's first advance is behind us
    _world(3)
    _due_set()
    with CaptureQueriesContext(connection) as small:
        lifecycle_tick(now=NOW)
    Organization.objects.all().delete()
    OutboxEmail.objects.all().delete()
    _world(30)
    _due_set()
    with CaptureQueriesContext(connection) as large:
        lifecycle_tick(now=NOW)
    assert len(large.captured_queries) == len(small.captured_queries)
    with CaptureQueriesContext(connection) as idle:
        lifecycle_tick(now=NOW)
    assert len(idle.captured_queries) < len(small.captured_queries)


def test_idle_tick_query_count_is_pinned(django_assert_max_num_queries):
    _world(10)
    lifecycle_tick(now=NOW)
    # Every sweep: one select per sweep (plus the batch decision and savepoints); no row queries.
    with django_assert_max_num_queries(40):
        lifecycle_tick(now=NOW)


def test_D3_a_partner_org_without_customers_warns_its_partner_full_admins():
    partner = make_partner()
    make_user(org=partner, role=Role.PARTNER_FULL_ADMIN, email="pfa@lonely.example")
    make_user(org=partner, role=Role.SALES_ADMIN, email="sales@lonely.example")
    Organization.objects.filter(pk=partner.pk).update(deletion_marked_at=NOW - timedelta(days=30))
    d.deletion_warn_due(now=NOW)
    assert list(OutboxEmail.objects.values_list("to_email", flat=True)) == ["pfa@lonely.example"]


def test_T11_a_noticed_trial_is_not_selected_again_until_its_end_date_changes():
    from trials.sweeps import trials_due_for_notice

    org = make_customer()
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    trial = make_subscription(
        customer=org,
        kind=SubscriptionKind.TRIAL,
        start=NOW.date() - timedelta(days=20),
        end=NOW.date() + timedelta(days=7),
    )

    def pending():
        return list(trials_due_for_notice(kind="trial_ending_soon", now=NOW))

    assert pending() == [trial]
    lifecycle_tick(now=NOW)
    assert pending() == []
    Subscription.objects.filter(pk=trial.pk).update(end_date=NOW.date() + timedelta(days=6))
    assert pending() == [trial]  # T6: a new end date is a new notice


def test_T11_the_trial_records_the_end_date_each_notice_was_owed_for():
    """Issue 11: the record that a notice was done is kept on the trial (read through a partial
    index), not looked up in the outbox trial by trial: an idle tick read every trial of the
    window (85,000 at a million customers)."""
    from trials.sweeps import trial_end_notices_due, trials_due_for_notice

    org = make_customer()
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    trial = make_subscription(
        customer=org,
        kind=SubscriptionKind.TRIAL,
        start=NOW.date() - timedelta(days=30),
        end=NOW.date(),
    )
    assert trial_end_notices_due(now=NOW).emails == 1
    trial.refresh_from_db()
    assert trial.end_noticed_for == NOW.date()
    assert trial.ending_soon_noticed_for is None  # the other notice's own record
    assert trials_due_for_notice(kind="trial_ends_today", now=NOW).count() == 0
    assert trial_end_notices_due(now=NOW + timedelta(days=1)).emails == 0


def test_T11_a_trial_with_nobody_to_email_stays_due_for_an_admin_added_later():
    from trials.sweeps import trial_ending_soon_notices_due, trials_due_for_notice

    org = make_customer()
    trial = make_subscription(
        customer=org,
        kind=SubscriptionKind.TRIAL,
        start=NOW.date() - timedelta(days=20),
        end=NOW.date() + timedelta(days=5),
    )
    assert trial_ending_soon_notices_due(now=NOW).emails == 0
    assert list(trials_due_for_notice(kind="trial_ending_soon", now=NOW)) == [trial]
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="late@admin.example")
    assert trial_ending_soon_notices_due(now=NOW + timedelta(days=1)).emails == 1
    assert not trials_due_for_notice(kind="trial_ending_soon", now=NOW + timedelta(days=1))


def test_T11_chunks_of_trials_nobody_can_be_told_of_do_not_stop_the_sweep(monkeypatch):
    """Keyset chunks: the trials a chunk could not notify stay due, and the next chunk starts
    after them, so the trials behind them are still noticed in the same run."""
    from trials import sweeps as t

    monkeypatch.setattr(t, "CHUNK_SIZE", 2)
    silent = make_customer()
    told = make_customer()
    make_user(org=told, role=Role.CUSTOMER_FULL_ADMIN)
    for org, end in ((silent, 1), (silent, 2), (told, 3)):
        make_subscription(
            customer=org,
            kind=SubscriptionKind.TRIAL,
            start=NOW.date() - timedelta(days=20),
            end=NOW.date() + timedelta(days=end),
        )
    assert t.trial_ending_soon_notices_due(now=NOW).emails == 1


def test_T2_the_welcome_sweep_decides_each_trial_once_and_reads_only_undecided_ones():
    """Issue 11: T2 read every active trial of the last 30 days at every tick. The trial now
    says when its welcome is decided: owed, or never to be (not the org's first subscription,
    30 days old); one waiting for its services stays undecided."""
    from trials.sweeps import trial_welcome_due

    def new_trial(org, *, status=ProvisioningStatus.PROVISIONED):  # type: ignore[no-untyped-def]
        return make_subscription(
            customer=org,
            kind=SubscriptionKind.TRIAL,
            start=NOW.date() - timedelta(days=1),
            end=NOW.date() + timedelta(days=29),
            status=status,
        )

    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        welcome = _org()
        waiting = _org()
        second = _org()
        first = make_subscription(customer=second)
        trials = {
            "welcome": new_trial(welcome),
            "waiting": new_trial(waiting, status=ProvisioningStatus.PROVISIONING),
            "stuck": new_trial(_org(), status=ProvisioningStatus.FAILED),
        }
    with time_machine.travel(NOW, tick=False):
        trials["second"] = new_trial(second)
    assert trial_welcome_due(now=NOW).emails == 1
    decided = dict(
        Subscription.objects.filter(pk__in=[t.pk for t in trials.values()]).values_list(
            "pk", "welcome_decided"
        )
    )
    assert {name: decided[t.pk] for name, t in trials.items()} == {
        "welcome": True,
        "waiting": False,
        "stuck": False,
        "second": True,  # not its org's first subscription (``first`` is)
    }
    assert first.pk  # a paid subscription made before the trial
    Service.objects.filter(subscription=trials["waiting"]).update(
        provisioning_status=ProvisioningStatus.PROVISIONED
    )
    assert trial_welcome_due(now=NOW + timedelta(hours=1)).emails == 1
    assert not Subscription.objects.get(pk=trials["stuck"].pk).welcome_decided
    # 30 days on, the trial still waiting for its services can never be welcomed: decided, so
    # nothing is left for the sweep to read.
    assert trial_welcome_due(now=NOW + timedelta(days=31)).emails == 0
    assert Subscription.objects.get(pk=trials["stuck"].pk).welcome_decided


def test_migration_sets_the_T11_and_T2_flags_from_what_the_outbox_says_was_done():
    """licensing 0010: on an existing database the flags say what the sweeps decided before
    from the outbox (a notice's key ends in ``:<trial pk>:<end date>``): a trial noticed for
    its current end date is done, one noticed for an earlier end date (extended, T6) is not;
    only recent active trials may still be welcomed."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("licensing.migrations.0010_subscription_tick_flags")
    org = _org()
    with time_machine.travel(NOW - timedelta(days=25), tick=False):
        noticed, extended, recent = (
            make_subscription(
                customer=org,
                kind=SubscriptionKind.TRIAL,
                start=NOW.date() - timedelta(days=25),
                end=NOW.date() + timedelta(days=days),
            )
            for days in (5, 6, 4)
        )
    old = make_subscription(customer=org, start=NOW.date() - timedelta(days=200))
    for trial, end in ((noticed, noticed.end_date), (extended, NOW.date())):
        OutboxEmail.objects.create(
            key=f"trial_ending_soon:a@b.example:{trial.pk}:{end.isoformat()}",
            kind="trial_ending_soon",
            to_email="a@b.example",
            subject="",
            body_text="",
            org_id=org.pk,
        )
    # As the columns are added: no notice recorded, every existing row decided.
    Subscription.objects.update(ending_soon_noticed_for=None, welcome_decided=True)
    Subscription.objects.filter(pk=old.pk).update(created=NOW - timedelta(days=200))

    class Editor:
        connection = connection

    with time_machine.travel(NOW, tick=False):
        migration.flags_from_the_outbox(apps, Editor())
    flags = {
        s.pk: (s.ending_soon_noticed_for, s.welcome_decided) for s in Subscription.objects.all()
    }
    assert flags[noticed.pk] == (noticed.end_date, False)  # still welcomable (the sweep decides)
    assert flags[extended.pk] == (None, False)  # noticed for its old end date only
    assert flags[recent.pk] == (None, False)
    assert flags[old.pk] == (None, True)  # not a recent active trial: never welcomed
