"""seed_demo builds a deterministic world that shows every status and stage (issue 2, item 6)."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import time as dt_time
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from customers.choices import DeletionStage
from customers.lifecycle import deletion_stage
from customers.readmodel_check import customer_rows_differences
from customers.tick import lifecycle_tick
from licensing.choices import (
    LICENSE_HOLDING_STATES,
    ProvisioningStatus,
    SubscriptionKind,
    SubscriptionState,
    SubscriptionStatus,
)
from licensing.lifecycle import row_provisioning_status, subscription_status
from licensing.models import CallingProfile, CustomerRow, PhoneNumber, Service, Subscription
from partnerhub.accounts.choices import PARTNER_ROLES, OrgKind, PartnerTier, Role
from partnerhub.accounts.lifecycle import email_domain, name_prefix
from partnerhub.accounts.models import AuditEntry, Membership, Organization, User
from partnerhub.accounts.services import customer_org_create, user_create
from partnerhub.core.models import OutboxEmail
from partnerhub.demo.bulk import bulk_customers_build
from partnerhub.demo.world import DEMO_PASSWORD, demo_world_build
from trials.choices import ConsentStatus, ExtensionStatus
from trials.models import ConsentRequest, Device, DeviceShipment, ExtensionRequest

pytestmark = pytest.mark.django_db


def _sorted(rows) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    return sorted(tuple(str(v) for v in row) for row in rows)


def _snapshot() -> dict[str, list[tuple[str, ...]]]:
    """Everything that makes the world what it is, minus surrogate ids and clock-stamped rows."""
    return {
        "orgs": _sorted(
            Organization.objects.values_list(
                "name",
                "kind",
                "country",
                "created",
                "deletion_marked_at",
                "deletion_warned_at",
                "last_activity_at",
            )
        ),
        "users": _sorted(User.objects.values_list("email", "first_name", "last_name", "org__name")),
        "memberships": _sorted(Membership.objects.values_list("user__email", "org__name", "role")),
        "subscriptions": _sorted(
            Subscription.objects.values_list(
                "customer__name",
                "partner__name",
                "kind",
                "state",
                "start_date",
                "end_date",
                "period_end_date",
            )
        ),
        "services": _sorted(
            Service.objects.values_list(
                "subscription__customer__name", "type", "quantity", "provisioning_status"
            )
        ),
        "calling": _sorted(
            CallingProfile.objects.values_list("user__email", "extension", "voicemail_pin")
        ),
        "numbers": _sorted(PhoneNumber.objects.values_list("number", "user__email")),
        "devices": _sorted(Device.objects.values_list("serial_number", "shipment__device_type")),
        "consents": _sorted(
            ConsentRequest.objects.values_list("customer__name", "admin_email", "expires_at")
        ),
    }


def _wipe() -> None:
    Organization.objects.all().delete()
    User.objects.all().delete()
    AuditEntry.objects.all().delete()


def test_seed_demo_is_deterministic():
    today = timezone.localdate()
    demo_world_build(today=today)
    first = _snapshot()
    _wipe()
    demo_world_build(today=today)
    assert _snapshot() == first
    assert len(first["orgs"]) >= 30


def test_seed_demo_covers_every_P3_subscription_status():
    today = timezone.localdate()
    demo_world_build(today=today)
    seen = {
        subscription_status(kind=kind, state=state, end_date=end, today=today)
        for kind, state, end in Subscription.objects.values_list("kind", "state", "end_date")
    }
    assert set(SubscriptionStatus) <= seen


def test_seed_demo_covers_every_P1_provisioning_status_as_a_row_status_P2():
    demo_world_build()
    by_customer: dict[int, list[str]] = {}
    for customer_id, status in Service.objects.filter(
        subscription__state__in=LICENSE_HOLDING_STATES
    ).values_list("subscription__customer_id", "provisioning_status"):
        by_customer.setdefault(customer_id, []).append(status)
    rows = {row_provisioning_status(statuses) for statuses in by_customer.values()}
    assert set(ProvisioningStatus) <= rows


def test_seed_demo_covers_every_D_countdown_stage_on_orgs_without_licenses():
    demo_world_build()
    now = timezone.now()
    stages = {}
    for org in Organization.objects.filter(deletion_marked_at__isnull=False):
        # D1: a marked org holds no paid or trial licenses.
        assert not org.subscriptions.filter(state__in=LICENSE_HOLDING_STATES).exists(), org
        assert org.memberships.filter(role=Role.CUSTOMER_FULL_ADMIN).exists(), org  # D3
        stage = deletion_stage(
            marked_at=org.deletion_marked_at,
            warned_at=org.deletion_warned_at,
            last_activity_at=org.last_activity_at,
            now=now,
        )
        stages[org.name] = stage
    assert set(stages.values()) == set(DeletionStage) - {DeletionStage.NOT_MARKED}
    # D5: a sign-in after the warning voided it; the org is back at the start of the countdown.
    assert stages["Trey Research"] == DeletionStage.MARKED


def test_seed_demo_has_partners_of_both_tiers_with_every_role():
    demo_world_build()
    partners = Organization.objects.filter(kind=OrgKind.PARTNER)
    assert {p.partner_tier for p in partners if p.partner_certified} == set(PartnerTier)
    northwind = partners.get(name="Northwind Partners")
    assert northwind.partner_tier == PartnerTier.TIER_1
    assert partners.get(name="Contoso Resellers").partner_tier == PartnerTier.TIER_2
    for partner in partners:
        roles = set(partner.memberships.values_list("role", flat=True))
        assert roles == set(PARTNER_ROLES), partner
    customer_roles = set(
        Membership.objects.filter(org__kind=OrgKind.CUSTOMER).values_list("role", flat=True)
    )
    assert {Role.CUSTOMER_FULL_ADMIN, Role.CUSTOMER_READ_ONLY} <= customer_roles
    # Plain users: in an org, no role.
    assert User.objects.filter(org__kind=OrgKind.CUSTOMER, memberships__isnull=True).exists()
    assert User.objects.get(email="support@partnerhub.example").is_superuser


def test_seed_demo_trials_devices_and_calling():
    demo_world_build()
    pending = ConsentRequest.objects.filter(status=ConsentStatus.PENDING)
    assert pending.count() >= 2
    assert all(c.trial.services.exists() for c in pending)
    shipment = DeviceShipment.objects.filter(trial__customer__name="Lucerne Publishing")
    assert shipment.count() == 2
    assert Device.objects.filter(shipment__in=shipment).count() == 6
    assert ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).count() == 1
    litware = Organization.objects.get(name="Litware Inc")
    calling_subs = litware.subscriptions.filter(
        kind=SubscriptionKind.PAID, services__type="calling"
    )
    assert calling_subs.count() == 2  # C: somewhere to move Calling users to
    assert CallingProfile.objects.filter(user__org=litware).exclude(voicemail_pin="").count() == 10
    assert PhoneNumber.objects.filter(org=litware, user__isnull=False).count() == 10
    assert litware.auto_license_template.services.count() == 3
    assert litware.content.exists()
    assert litware.activity.exists()


def test_seed_demo_command_prints_logins_and_if_empty_does_not_seed_twice(client):
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    text = out.getvalue()
    assert DEMO_PASSWORD in text
    assert f"{settings.SITE_URL}/" in text
    for email in ("admin@northwind.example", "sales@contoso.example", "admin@litware.example"):
        assert email in text
    count = Organization.objects.count()
    again = StringIO()
    call_command("seed_demo", "--if-empty", stdout=again)
    assert Organization.objects.count() == count
    assert "admin@northwind.example" in again.getvalue()
    # The printed password really signs in.
    assert client.login(username="sales@northwind.example", password=DEMO_PASSWORD)


def test_seed_demo_bulk_customers_sets_derived_fields():
    out = StringIO()
    call_command("seed_demo", "--customers", "200", stdout=out)
    assert "Built 200 customers" in out.getvalue()
    bulk = Organization.objects.filter(users__email__regex=r"^u[0-9]+@").distinct()
    assert bulk.count() == 200
    org = bulk.first()
    assert org.name_prefix == name_prefix(org.name)
    user = User.objects.filter(org__in=bulk).first()
    assert user.email_domain == email_domain(user.email)
    assert not user.has_usable_password()
    assert Subscription.objects.filter(customer__in=bulk).count() >= 200
    assert (
        not Service.objects.filter(subscription__customer__in=bulk)
        .filter(
            subscription__state__in=LICENSE_HOLDING_STATES,
            subscription__customer__deletion_marked_at__isnull=False,
        )
        .exists()
    )  # D1 holds for the bulk orgs too
    assert all(o.memberships.filter(role=Role.CUSTOMER_FULL_ADMIN).count() == 1 for o in bulk[:20])
    # T3: every trial waiting for consent has its request; T9: every converted trial its paid one.
    pending = Subscription.objects.filter(customer__in=bulk, state=SubscriptionState.PENDING)
    assert not pending.filter(consent_request__isnull=True).exists()
    converted = Subscription.objects.filter(customer__in=bulk, state=SubscriptionState.CONVERTED)
    assert not converted.filter(converted_to__isnull=True).exists()
    # A second batch continues after the first without clashing.
    stats = bulk_customers_build(count=50)
    assert stats.customers == 50
    assert Organization.objects.filter(kind=OrgKind.CUSTOMER).count() == 30 + 250
    # Explicit ids must not break the next ordinary insert (PostgreSQL sequences are reset).
    org = customer_org_create(name="After Bulk", country="DK")
    user_create(email="after@bulk.example", org=org, role=Role.CUSTOMER_FULL_ADMIN)


def _schema() -> list[tuple[str, ...]]:
    """Every index and constraint of the database, as the database itself describes them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "UNION ALL "
                "SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) "
                "|| ' ' || condeferrable || condeferred || convalidated FROM pg_constraint "
                "WHERE connamespace = current_schema()::regnamespace ORDER BY 1"
            )
        else:
            cursor.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY 2")
        return [tuple(str(v) for v in row) for row in cursor.fetchall()]


def test_bulk_loader_with_deferred_indexes_puts_every_index_and_constraint_back():
    """Issue 11 item 5: on PostgreSQL the rows go in by COPY with the secondary indexes, unique
    and foreign-key constraints dropped and rebuilt after the load; on SQLite by executemany.
    Either way the schema is the same afterwards and the constraints still hold."""
    demo_world_build()
    before = _schema()
    stats = bulk_customers_build(count=300, defer_indexes=True)
    assert _schema() == before
    assert stats.customers == 300
    bulk = Organization.objects.filter(kind=OrgKind.CUSTOMER, users__email__regex=r"^u[0-9]+@")
    assert bulk.distinct().count() == 300
    assert User.objects.filter(email__regex=r"^u[0-9]+@").count() == stats.users
    assert Subscription.objects.filter(reference__startswith="B-").count() == stats.subscriptions
    assert Service.objects.filter(subscription__reference__startswith="B-").count() == (
        stats.services
    )
    # Values survive the trip: aware datetimes, NULLs, defaults of the columns not written.
    org = bulk.filter(deletion_marked_at__isnull=False).first() or bulk.first()
    assert org.created.tzinfo is not None
    assert org.partner_certified is False
    sub = Subscription.objects.filter(reference__startswith="B-", state="active").first()
    assert sub.ended_at is None
    service = Service.objects.filter(subscription__reference__startswith="B-").first()
    assert service.provisioning_details == {}  # a JSON default, written as COPY text
    assert org.name == Organization.objects.values_list("name", flat=True).get(pk=org.pk)
    # The rebuilt constraints hold: a duplicate email and a dangling foreign key are refused.
    taken = User.objects.filter(email__regex=r"^u[0-9]+@").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email=taken.email, email_domain=taken.email_domain)
    if connection.vendor == "postgresql":  # SQLite checks foreign keys only at commit
        with transaction.atomic():
            Membership.objects.create(user=taken, org_id=10**9, role=Role.CUSTOMER_READ_ONLY)
            with pytest.raises(IntegrityError), connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            transaction.set_rollback(True)
    # The list's read model was filled for the new customers, exactly as a rebuild would.
    assert CustomerRow.objects.filter(customer__in=bulk).count() == 300
    assert customer_rows_differences() == []
    # Sequences moved past the explicit ids: the next ordinary inserts work.
    customer_org_create(name="After Deferred Bulk", country="DK")
    user_create(email="after@deferred.example", org=org, role=None)


def test_bulk_seed_is_the_steady_state_of_the_daily_tick_so_the_next_tick_is_idle():
    """Issue 11: a bulk seed is what the tick would have left had it run every day up to today,
    so the first tick after it has no backlog (D1 re-check, D3, D4, S1, S2, T3, T11, T2, T13):
    the tick at the seed's instant, after the demo world's own due items are done, does
    nothing; the past notices it would have owed are in the outbox, sent."""
    today = timezone.localdate()
    seed_now = datetime.combine(today, dt_time(9, 0), tzinfo=UTC)
    with time_machine.travel(seed_now, tick=False):
        demo_world_build(today=today)
        lifecycle_tick(now=seed_now)  # the demo world shows due work on purpose
        stats = bulk_customers_build(count=800, today=today)
        report = lifecycle_tick(now=seed_now)
        assert {r.name: r.count for r in report.results if r.count} == {}
        assert report.emails == 0
        bulk = Organization.objects.filter(subscriptions__reference__startswith="B-").distinct()
        assert bulk.count() == 800
        # D1 decided for every bulk org: the flag is clear, every org without licenses marked.
        assert not bulk.filter(deletion_recheck=True).exists()
        holding = Subscription.objects.filter(state__in=LICENSE_HOLDING_STATES)
        unmarked = bulk.filter(deletion_marked_at__isnull=True)
        assert not unmarked.exclude(subscriptions__in=holding).exists()
        assert bulk.filter(deletion_marked_at__isnull=False).exists()
        assert bulk.filter(deletion_warned_at__isnull=False).exists()  # D3 done, D4 not yet due
        # T11/T2: the past notices are recorded as sent, with the sweeps' own keys.
        kinds = dict(
            OutboxEmail.objects.filter(sent_at__isnull=False, attempts=1, subject="")
            .values_list("kind")
            .annotate(n=Count("pk"))
        )
        assert set(kinds) == {"trial_ending_soon", "trial_ends_today", "trial_welcome"}
        assert sum(kinds.values()) == stats.emails
        assert not OutboxEmail.objects.filter(sent_at__gt=seed_now).exists()
        # S1/S2/T13 done: nothing active past its end, no period run out, numbers released.
        assert not Subscription.objects.filter(
            reference__startswith="B-", state=SubscriptionState.ACTIVE, end_date__lt=today
        ).exists()
        assert Subscription.objects.filter(
            reference__startswith="B-", calling_stopped_at__isnull=False
        ).exists()
        assert customer_rows_differences() == []
