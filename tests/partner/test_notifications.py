"""Partners hear what their customers do: the feed (bell, list, mark read), the emails to the
partner's admins with a per-kind opt-out, the Buy request, and D8 (deletion notices in the feed
only)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from licensing.buy import buy_request_create
from licensing.choices import ServiceType, SubscriptionKind
from licensing.models import BuyRequest, Subscription
from licensing.orders import trial_convert
from licensing.services import ServiceSpec
from partnerhub.accounts.choices import NotificationKind, Role
from partnerhub.accounts.models import AuditEntry, Notification, NotificationEmailOptOut
from partnerhub.accounts.notifications import notification_owe
from partnerhub.core.models import OutboxEmail
from partnerhub.core.outbox import outbox_flush
from tests.factories import listed_facts_changed, make_customer, make_user
from trials.consent import consent_accept
from trials.services import trial_request_existing_org

pytestmark = pytest.mark.django_db
FEED = reverse("accounts:notification_list")
# session, user, membership, the rows, their services, their open requests, the top bar's org
BUY_PAGE_QUERIES = 7


def login(client, user):
    client.force_login(user)
    return client


def accept_a_request(world):
    org = make_customer(name="Consenting Org")
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    consent = trial_request_existing_org(
        partner=world.partner,
        actor=world.sales_admin,
        admin_email=admin.email,
        services=[ServiceSpec(type=ServiceType.MEETINGS, quantity=5)],
        devices=[],
        length_days=30,
    )
    consent_accept(request=consent, by=admin, grant_full_admin=False)
    return org


def partner_people(world):
    return [world.sales_admin, world.sales_full_admin, world.partner_full_admin, world.read_only]


def test_T3_acceptance_reaches_every_partner_person_in_the_feed_and_by_email(world):
    org = accept_a_request(world)
    for person in partner_people(world):
        notice = Notification.objects.get(user=person, kind=NotificationKind.CONSENT_ACCEPTED)
        assert notice.customer_name == org.name
        assert notice.link_path == reverse("customers:customer_detail", args=[org.pk])
    assert not Notification.objects.filter(user=world.other_sales_admin).exists()  # tenancy
    emails = OutboxEmail.objects.filter(kind=NotificationKind.CONSENT_ACCEPTED)
    assert sorted(emails.values_list("to_email", flat=True)) == sorted(
        p.email for p in partner_people(world)
    )
    email = emails.first()
    assert "provisioning admin" in email.body_text
    assert "Consenting Org" in email.subject


def test_email_off_per_kind_keeps_the_feed(client, world):
    login(client, world.sales_admin)
    response = client.post(
        reverse("accounts:notification_settings"),
        {"email_kinds": [NotificationKind.BUY_REQUESTED]},  # everything else off
    )
    assert response.status_code == 302
    assert NotificationEmailOptOut.objects.filter(
        user=world.sales_admin, kind=NotificationKind.CONSENT_ACCEPTED
    ).exists()
    assert AuditEntry.objects.filter(action="notification.email_settings").exists()
    accept_a_request(world)
    assert Notification.objects.filter(
        user=world.sales_admin, kind=NotificationKind.CONSENT_ACCEPTED
    ).exists()
    to = set(
        OutboxEmail.objects.filter(kind=NotificationKind.CONSENT_ACCEPTED).values_list(
            "to_email", flat=True
        )
    )
    assert world.sales_admin.email not in to
    assert world.partner_full_admin.email in to
    page = client.get(reverse("accounts:notification_settings")).content.decode()
    assert f'value="{NotificationKind.BUY_REQUESTED}" ' in page
    # D8: the deletion notices cannot be emailed at all, so they are not offered.
    assert f'value="{NotificationKind.DELETION_WARNED}"' not in page


def test_a_notice_owed_twice_is_listed_and_emailed_once(world):
    for _ in range(2):
        notification_owe(
            partner=world.partner,
            kind=NotificationKind.CONSENT_ACCEPTED,
            key="consent:1",
            customer=world.customer_trial,
            link_path="/",
        )
    assert Notification.objects.filter(user=world.sales_admin).count() == 1
    assert OutboxEmail.objects.filter(to_email=world.sales_admin.email).count() == 1


def test_bell_list_and_mark_read(client, world, django_assert_num_queries):
    org = accept_a_request(world)
    notification_owe(
        partner=world.partner,
        kind=NotificationKind.DELETION_MARKED,
        key="x",
        customer=org,
        link_path=reverse("customers:customer_detail", args=[org.pk]),
    )
    login(client, world.read_only)  # read-only people have a feed too
    page = client.get(reverse("customers:customer_list")).content.decode()
    assert 'id="bell-count"' in page
    assert ">2<" in page.split('id="bell-count"')[1][:40]
    # session, user, membership+org+the bell's count, count, page of rows: whatever the feed's
    # size
    with django_assert_num_queries(5):  # membership, org and the bell in one query (issue 11)
        listing = client.get(FEED).content.decode()
    assert "accepted your trial request" in listing
    assert "marked for deletion" in listing
    first = Notification.objects.filter(user=world.read_only).order_by("pk").first()
    response = client.post(reverse("accounts:notification_read", args=[first.pk]))
    assert response.status_code == 302
    assert response["Location"] == first.link_path
    first.refresh_from_db()
    assert first.read_at is not None
    other = Notification.objects.filter(user=world.sales_admin).first()
    assert client.post(reverse("accounts:notification_read", args=[other.pk])).status_code == 404
    client.post(reverse("accounts:notification_read_all"))
    assert not Notification.objects.filter(user=world.read_only, read_at__isnull=True).exists()
    assert 'id="bell-count"' not in client.get(FEED).content.decode()


def test_feed_costs_the_same_queries_with_many_notices(client, world, django_assert_num_queries):
    for n in range(60):
        notification_owe(
            partner=world.partner,
            kind=NotificationKind.DELETION_MARKED,
            key=f"k{n}",
            customer=world.customer_marked,
            link_path="/",
        )
    login(client, world.sales_admin)
    with django_assert_num_queries(5):  # membership, org and the bell in one query
        client.get(FEED)


def test_the_bell_rides_on_the_membership_query_and_is_exact(client, world):
    """Issue 11: the bell's unread count is read with the person's membership (no query of its
    own on a partner page), counts only the person's unread notices, and a page that marks
    notices read in the same request does not show the count read before."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from partnerhub.accounts.access import partner_access
    from partnerhub.accounts.notifications import notifications_read_all, unread_count

    for n in range(3):
        notification_owe(
            partner=world.partner,
            kind=NotificationKind.DELETION_MARKED,
            key=f"bell{n}",
            customer=world.customer_marked,
            link_path="/",
        )
    Notification.objects.filter(user=world.sales_admin, key="bell0").update(read_at=timezone.now())
    unread = Notification.objects.filter(user=world.sales_admin, read_at__isnull=True).count()
    assert unread >= 2
    user = type(world.sales_admin).objects.get(pk=world.sales_admin.pk)
    with CaptureQueriesContext(connection) as captured:
        assert partner_access(user) is not None
        assert unread_count(user=user) == unread
    assert len(captured.captured_queries) == 1
    notifications_read_all(user=user)
    assert unread_count(user=user) == 0
    login(client, world.sales_admin)
    page = client.get(reverse("customers:customer_list")).content.decode()
    assert 'id="bell-count"' not in page


# ---- the Buy page -------------------------------------------------------------------------


def trial_of(world) -> Subscription:
    return Subscription.objects.get(customer=world.customer_trial, kind=SubscriptionKind.TRIAL)


def test_buy_page_asks_the_managing_partner_who_sees_it_and_converts(client, world):
    admin = world.customer_trial.users.get(email="admin@trial.example")
    trial = trial_of(world)
    login(client, admin)
    buy = reverse("controlhub:buy", kwargs={"org_pk": world.customer_trial.pk})
    page = client.get(buy).content.decode()
    assert "I want to buy" in page
    assert "Meetings" in page
    response = client.post(buy, {"subscription": trial.pk, "message": "Call me on Monday"})
    assert response.status_code == 302
    request = BuyRequest.objects.get(subscription=trial)
    assert request.message == "Call me on Monday"
    assert "You asked" in client.get(buy).content.decode()
    client.post(buy, {"subscription": trial.pk})  # asking twice is one request
    assert BuyRequest.objects.filter(subscription=trial).count() == 1
    notice = Notification.objects.get(user=world.sales_admin, kind=NotificationKind.BUY_REQUESTED)
    assert notice.link_path.endswith("#buy-requests")
    outbox_flush()
    email = next(m for m in mail.outbox if world.sales_admin.email in m.to)
    assert "Call me on Monday" in email.body
    # The partner sees it on the customer page, with the conversion at hand.
    login(client, world.sales_admin)
    customer_page = client.get(
        reverse("customers:customer_detail", args=[world.customer_trial.pk])
    ).content.decode()
    assert 'id="buy-requests"' in customer_page
    assert "Call me on Monday" in customer_page
    assert reverse("licensing:trial_convert", kwargs={"trial_pk": trial.pk}) in customer_page
    trial_convert(
        trial=trial,
        services=[ServiceSpec(type=ServiceType.MEETINGS, quantity=10)],
        partner=world.partner,
        actor=world.sales_admin,
    )
    request.refresh_from_db()
    assert request.handled_at is not None


def test_buy_page_is_asked_from_by_full_admins_only(client, world):
    reader = make_user(org=world.customer_trial, role=Role.CUSTOMER_READ_ONLY)
    buy = reverse("controlhub:buy", kwargs={"org_pk": world.customer_trial.pk})
    login(client, reader)
    assert "I want to buy" not in client.get(buy).content.decode()
    assert client.post(buy, {"subscription": trial_of(world).pk}).status_code == 403
    login(client, world.sales_admin)  # the partner, acting for the customer
    assert client.get(buy).status_code == 200
    assert client.post(buy, {"subscription": trial_of(world).pk}).status_code == 403
    with pytest.raises(PermissionDenied):
        buy_request_create(subscription=trial_of(world), by=world.sales_admin)
    assert not BuyRequest.objects.exists()
    # Another org's subscription through this org's URL is a 404.
    login(client, world.customer_trial.users.get(email="admin@trial.example"))
    other = Subscription.objects.filter(customer=world.other_customer).first()
    assert client.post(buy, {"subscription": other.pk}).status_code == 404


def test_T11_emails_link_to_the_buy_page_which_lists_expiring_and_suspended(client, world):
    admin = world.customer_paid.users.get(email="boss@paid.example")
    Subscription.objects.filter(customer=world.customer_paid).update(
        end_date=timezone.localdate() + timedelta(days=20)
    )
    listed_facts_changed(world.customer_paid)
    login(client, admin)
    page = client.get(reverse("controlhub:buy", kwargs={"org_pk": world.customer_paid.pk}))
    assert "I want to buy" in page.content.decode()  # a paid subscription ending soon


def test_buy_page_costs_the_same_queries_with_more_subscriptions(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_subscription

    admin = world.customer_trial.users.get(email="admin@trial.example")
    login(client, admin)
    buy = reverse("controlhub:buy", kwargs={"org_pk": world.customer_trial.pk})
    with CaptureQueriesContext(connection) as one:
        assert client.get(buy).status_code == 200
    for _ in range(4):
        sub = make_subscription(
            customer=world.customer_trial,
            partner=world.partner,
            end=timezone.localdate() + timedelta(days=15),
            services={ServiceType.CALLING: 3, ServiceType.MESSAGING: 3},
        )
        BuyRequest.objects.create(subscription=sub, requested_by=admin)
    with CaptureQueriesContext(connection) as five:
        page = client.get(buy).content.decode()
    assert page.count('class="card buy-row"') == 5
    assert len(five) == len(one)
    assert len(one) == BUY_PAGE_QUERIES, [q["sql"][:80] for q in one]
