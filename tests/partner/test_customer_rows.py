"""The customer list's read model (issue 11): kept exact by the services, moved across the
P3 boundaries by the tick, rebuilt and checked by commands; the count band is served
stale-while-revalidate and never recounted by two requests at once."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from customers.readmodel_check import customer_rows_differences
from customers.tick import lifecycle_tick
from licensing.choices import ProvisioningStatus, SubscriptionKind, SubscriptionStatus
from licensing.models import CustomerRow, Service
from licensing.readmodel import customer_rows_advance, customer_rows_check
from licensing.status_sql import STATUS_BITS
from partnerhub.accounts.choices import Role
from tests.factories import make_customer, make_subscription, make_user

pytestmark = pytest.mark.django_db
URL = reverse("customers:customer_list")


def test_check_lists_a_fact_changed_behind_the_services_back_and_rebuild_repairs_it(world):
    Service.objects.filter(subscription__customer=world.customer_paid).update(
        provisioning_status=ProvisioningStatus.FAILED
    )
    differences = customer_rows_differences()
    assert {(d.partner_id, d.customer_id) for d in differences} == {
        (world.partner.pk, world.customer_paid.pk)
    }
    assert any("provisioning_rank_up" in d.problem for d in differences)
    with pytest.raises(CommandError):
        call_command("customer_rows_check", stdout=io.StringIO())
    out = io.StringIO()
    call_command("customer_rows_rebuild", stdout=out)
    assert "rows rebuilt" in out.getvalue()
    assert customer_rows_differences() == []
    call_command("customer_rows_check", stdout=io.StringIO())  # exit status 0


def test_check_finds_missing_and_extra_rows(world):
    CustomerRow.objects.filter(customer=world.customer_trial).delete()
    CustomerRow.objects.filter(customer=world.customer_paid).update(partner=world.other_partner)
    problems = {
        (d.partner_id, d.customer_id, d.problem.split(" ")[0]) for d in customer_rows_check()
    }
    assert (world.partner.pk, world.customer_trial.pk, "missing") in problems
    assert (world.partner.pk, world.customer_paid.pk, "missing") in problems
    assert (world.other_partner.pk, world.customer_paid.pk, "extra") in problems
    call_command("customer_rows_rebuild", stdout=io.StringIO())


def test_a_refresh_writes_only_rows_that_changed(world):
    from licensing.readmodel import customer_rows_refresh

    assert customer_rows_refresh(customer_ids=[world.customer_paid.pk]) == 0
    make_user(org=world.customer_paid, role=Role.CUSTOMER_FULL_ADMIN, email="aaa@paid.example")
    row = CustomerRow.objects.get(partner=world.partner, customer=world.customer_paid)
    assert row.admins_up == row.admins_down == "aaa@paid.example"


def test_P3_tick_moves_rows_across_the_30_and_60_day_boundaries(world, client):
    """The statuses are the only date-dependent part: a day later, a paid subscription ending
    in 31 days is "expiring within 30 days" once the tick (or the hourly entry) has run."""
    today = timezone.localdate()
    org = make_customer(name="Boundary Co", partner=world.partner)
    make_subscription(
        customer=org,
        partner=world.partner,
        kind=SubscriptionKind.PAID,
        start=today - timedelta(days=300),
        end=today + timedelta(days=31),
    )
    customer_rows_advance(today=today)
    row = CustomerRow.objects.get(customer=org)
    assert row.subscription_bits == STATUS_BITS[SubscriptionStatus.EXPIRING_60]
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        row.refresh_from_db()
        assert row.subscription_bits == STATUS_BITS[SubscriptionStatus.EXPIRING_60]  # as of today
        lifecycle_tick(now=timezone.now())
        assert customer_rows_check() == []  # exact as of the tick's day
        row.refresh_from_db()
        assert row.subscription_bits == STATUS_BITS[SubscriptionStatus.EXPIRING_30]
        client.force_login(world.sales_admin)
        listed = client.get(URL, {"subscription_status": SubscriptionStatus.EXPIRING_30})
        assert [r.record.name for r in listed.context["table"].page.object_list] == ["Boundary Co"]


def test_advance_touches_only_customers_whose_end_dates_cross_a_boundary(world):
    today = timezone.localdate()
    customer_rows_advance(today=today)
    assert customer_rows_advance(today=today).count == 0  # twice a day: nothing to do
    result = customer_rows_advance(today=today + timedelta(days=1))
    assert result.count == 0  # no end date of the world is on a boundary tomorrow


def _band(client):
    return {item["key"]: item["count"] for item in client.get(URL).context["summary"]}


def test_band_is_recounted_after_a_change_commits(
    world, client, django_capture_on_commit_callbacks
):
    client.force_login(world.sales_admin)
    assert _band(client)["to_be_deleted"] == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_customer(name="Doomed Co", partner=world.partner, deletion_marked_at=timezone.now())
    assert _band(client)["to_be_deleted"] == 1  # not committed yet: the band still stands
    for callback in callbacks:
        callback()  # the commit
    assert _band(client)["to_be_deleted"] == 2


def test_band_is_never_recounted_by_two_requests_at_once(
    world, client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """While one request holds the band's lock (it is recounting), the others serve the last
    band counted — stale — and count nothing but their own page."""
    from customers.band import _keys

    client.force_login(world.sales_admin)
    before = _band(client)
    with django_capture_on_commit_callbacks(execute=True):
        make_customer(name="Newcomer Co", partner=world.partner, deletion_marked_at=timezone.now())
    _fresh, _last, lock = _keys(world.partner.pk)
    cache.add(lock, 1, 30)  # another request is recounting
    with django_assert_max_num_queries(
        7
    ) as captured:  # the bell rides on the membership; saved views
        response = client.get(URL)
    stale = {item["key"]: item["count"] for item in response.context["summary"]}
    assert stale == before  # stale-while-revalidate
    assert response.context["count"] == 4  # the page itself is exact
    assert not any(
        'COUNT("licensing_customerrow"."id") FILTER' in q["sql"] for q in captured.captured_queries
    )
    cache.delete(lock)
    assert _band(client)["to_be_deleted"] == before["to_be_deleted"] + 1


def test_band_survives_a_cache_outage(world, client, monkeypatch):
    from django.core import cache as cache_module

    client.force_login(world.sales_admin)

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache_module.cache, "get_many", broken)
    assert _band(client)["trial_expiring_30"] == 1


def test_check_finds_a_row_the_tick_failed_to_move(world):
    """Claiming an advance without moving the rows (a tick that skipped the read model) is a
    difference: the trial ending in 10 days is "expiring within 30 days" either way, but 11
    days on it has expired."""
    from licensing.models import ReadModelFill
    from licensing.readmodel import FILL_NAME

    later = timezone.localdate() + timedelta(days=11)
    ReadModelFill.objects.update_or_create(name=FILL_NAME, defaults={"done_through": later})
    problems = {(d.customer_id, d.problem.split(":")[0]) for d in customer_rows_check()}
    assert (world.customer_trial.pk, "subscription_bits") in problems
    customer_rows_advance(today=later)  # nothing: the fill says it was done
    ReadModelFill.objects.filter(name=FILL_NAME).update(done_through=timezone.localdate())
    customer_rows_advance(today=later)
    assert customer_rows_check() == []
