"""Every email kind, rendered by the real code path that owes it, uses the one layout, carries
no rule id, and every link in it is absolute (``SITE_URL``) and opens a page its recipient may
open (signed in as the recipient, or anonymous for a recipient without an account).

The kinds are discovered from ``templates/emails/*_subject.txt``: a new kind (from any branch)
fails ``test_every_email_kind_is_covered`` until a scenario below owes it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from customers.bulk import bulk_signin_ask
from customers.choices import DeletionReason
from customers.services import org_delete
from customers.sweeps import deletion_due, deletion_mark_due, deletion_warn_due
from customers.user_services import org_user_add
from licensing.buy import buy_request_create
from licensing.choices import ServiceType, SubscriptionKind
from licensing.orders import OrderLineSpec, order_place
from licensing.provisioning import (
    EmbeddedVendorBackend,
    service_provision,
    services_mark_provisioned,
)
from licensing.services import ServiceSpec
from licensing.sweeps import EndedSubscription
from partnerhub.accounts.choices import (
    EMAILED_NOTIFICATION_KINDS,
    FEED_ONLY_NOTIFICATION_KINDS,
    Role,
)
from partnerhub.accounts.models import Notification, Organization, User
from partnerhub.accounts.notifications import notice_template
from partnerhub.core.models import OutboxEmail
from tests.factories import make_customer, make_partner, make_subscription, make_user
from trials.consent import consent_accept, consent_decline
from trials.services import (
    DeviceOrder,
    extension_request_decide,
    return_label_request,
    trial_add_to_customer,
    trial_extend,
    trial_request_existing_org,
    trial_start_new_customer,
)
from trials.sweeps import (
    consent_expire_due,
    trial_notices_due,
    trial_services_removed_owe,
    trial_welcome_due,
)

EMAILS_DIR = Path(settings.BASE_DIR) / "templates" / "emails"
RULE_ID = re.compile(r"\b[DSPTWC]\d{1,2}\b")
HREF = re.compile(r'href="([^"]+)"')
TEXT_URL = re.compile(r"https?://[^\s<>\"]+")


def discovered_kinds() -> set[str]:
    return {p.name.removesuffix("_subject.txt") for p in EMAILS_DIR.glob("*_subject.txt")}


def template_of(kind: str) -> str:
    """Partner notices share one template unless their kind has its own."""
    if kind in EMAILED_NOTIFICATION_KINDS:
        return notice_template(kind)
    return kind


def meetings(n: int = 5) -> list[ServiceSpec]:
    return [ServiceSpec(type=ServiceType.MEETINGS, quantity=n)]


@pytest.fixture
def every_email(db, settings) -> list[OutboxEmail]:
    """Drive every code path that owes an email, once each; returns the owed rows."""
    settings.DELETION_BATCH_MIN = 0
    settings.DELETION_BATCH_FRACTION = 0.0
    settings.SUPPORT_EMAILS = ["support@hub.example"]
    now = timezone.now()
    today = timezone.localdate()
    staff = make_user(org=None, email="support@hub.example", is_staff=True, is_superuser=True)
    partner = make_partner(name="Nordic Resellers")
    sales = make_user(org=partner, role=Role.SALES_ADMIN, email="sales@nordic.example")
    make_user(org=partner, role=Role.PARTNER_READ_ONLY, email="viewer@nordic.example")

    def existing_org(name: str) -> tuple[Organization, User, User]:
        org = make_customer(name=name)
        full = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
        reader = make_user(org=org, role=Role.CUSTOMER_READ_ONLY)
        return org, full, reader

    # T3: requests to existing orgs; one accepted, one declined, one expires; one addressed to a
    # read-only admin (who is told to ask a full admin: no link it may not open).
    _accepted_org, accepted_admin, _ = existing_org("Accepting Org")
    consent = trial_request_existing_org(
        partner=partner,
        actor=sales,
        admin_email=accepted_admin.email,
        services=meetings(),
        devices=[],
        length_days=30,
    )
    consent_accept(request=consent, by=accepted_admin, grant_full_admin=True)
    _declining_org, declining_admin, _ = existing_org("Declining Org")
    consent = trial_request_existing_org(
        partner=partner,
        actor=sales,
        admin_email=declining_admin.email,
        services=meetings(),
        devices=[],
        length_days=30,
    )
    consent_decline(request=consent, by=declining_admin)
    _, _, silent_reader = existing_org("Silent Org")
    trial_request_existing_org(
        partner=partner,
        actor=sales,
        admin_email=silent_reader.email,
        services=meetings(),
        devices=[],
        length_days=30,
    )
    consent_expire_due(now=now + timedelta(days=11))

    # T5: a trial with devices for a paying customer; T11 notices; T7 extensions; T12.
    paying = make_customer(name="Paying Org", partner=partner)
    paying_admin = make_user(org=paying, role=Role.CUSTOMER_FULL_ADMIN)
    make_user(org=paying, role=Role.CUSTOMER_READ_ONLY)
    plain = make_user(org=paying, role=Role.USER)
    make_subscription(customer=paying, partner=partner, services={ServiceType.MESSAGING: 5})
    trial = trial_add_to_customer(
        partner=partner,
        actor=sales,
        customer=paying,
        services=[
            ServiceSpec(type=ServiceType.CALLING, quantity=5),
            ServiceSpec(type=ServiceType.DEVICES, quantity=2),
        ],
        devices=[DeviceOrder(device_type="desk_phone", quantity=2)],
        length_days=30,
    )
    trial_notices_due(now=now + timedelta(days=23))
    trial_notices_due(now=now + timedelta(days=30))
    for approve in (True, False):
        result = trial_extend(trial=trial, actor=sales, days=30, today=today + timedelta(days=10))
        assert result.extension_request is not None
        extension_request_decide(
            extension_request=result.extension_request, actor=staff, approve=approve
        )
    trial_services_removed_owe(
        [
            EndedSubscription(
                pk=trial.pk,
                kind=SubscriptionKind.TRIAL,
                customer_id=paying.pk,
                customer_name=paying.name,
                partner_id=partner.pk,
                end_date=trial.end_date,
            )
        ],
        now + timedelta(days=60),
    )
    assert plain.email  # every user of the org gets T12
    # P1: a failed provisioning; the customer asks to buy (the Buy page).
    calling = trial.services.get(type=ServiceType.CALLING)
    service_provision(service_id=calling.pk, backend=EmbeddedVendorBackend({"failure_rate": 1.0}))
    buy_request_create(subscription=trial, by=paying_admin, message="Please call me.")

    # T14: a US customer lost its return label: the device trial team is asked for a new one.
    us_customer = make_customer(name="Boston Org", country="US", partner=partner)
    make_user(org=us_customer, role=Role.CUSTOMER_FULL_ADMIN)
    us_trial = trial_add_to_customer(
        partner=partner,
        actor=sales,
        customer=us_customer,
        services=[ServiceSpec(type=ServiceType.DEVICES, quantity=1)],
        devices=[DeviceOrder(device_type="desk_phone", quantity=1)],
        length_days=30,
    )
    return_label_request(trial=us_trial, actor=sales)

    # T2: a new customer, provisioned by support: the welcome email.
    new_trial = trial_start_new_customer(
        partner=partner,
        actor=sales,
        company_name="Brand New Co",
        admin_email="boss@brandnew.example",
        vertical="technology",
        country="DK",
        services=meetings(),
        devices=[],
        length_days=30,
    )
    services_mark_provisioned(services=new_trial.services.all(), actor=staff)
    trial_welcome_due(now=now)

    # W1: an order's setup link, to a contact with no account.
    order_place(
        lines=[OrderLineSpec(service_type=ServiceType.MEETINGS, quantity=10)],
        provisioning_contact_email="contact@elsewhere.example",
        partner=partner,
        placed_by=sales,
    )

    # Control Hub: a full admin adds a user and invites them to set a password.
    inviting = make_customer(name="Inviting Org", partner=partner)
    inviter = make_user(org=inviting, role=Role.CUSTOMER_FULL_ADMIN)
    org_user_add(org=inviting, email="newcomer@inviting.example", invite=True, actor=inviter)

    # D1/D3 (the partner sees both in the feed only, D8) and the held batch (D4 safety).
    quiet = make_customer(name="Quiet Org", partner=partner)
    make_user(org=quiet, role=Role.CUSTOMER_FULL_ADMIN)
    deletion_mark_due(now=now - timedelta(days=31))
    deletion_warn_due(now=now)
    deletion_due(now=now + timedelta(days=31))

    # D5 (issue 16): the partner asks the admins of some customers to sign in (a bulk action).
    asked = make_customer(name="Asked Org", partner=partner)
    make_user(org=asked, role=Role.CUSTOMER_FULL_ADMIN)
    bulk_signin_ask(actor=sales, partner=partner, customer_ids=[asked.pk])

    # D9: a customer deletes its org; its partner hears it.
    leaving = make_customer(name="Leaving Org", partner=partner)
    leaver = make_user(org=leaving, role=Role.CUSTOMER_FULL_ADMIN)
    org_delete(org=leaving, reason=DeletionReason.CUSTOMER_REQUEST, actor=leaver)

    # Issue 15: a webhook endpoint that keeps failing is turned off; the full admins hear it.
    from partnerhub.accounts.webhooks import webhook_deliver_one, webhook_endpoint_create

    hook_admin = make_user(org=partner, role=Role.PARTNER_FULL_ADMIN)
    settings.WEBHOOK_DISABLE_AFTER = 1
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    endpoint, _secret = webhook_endpoint_create(
        partner=partner,
        actor=hook_admin,
        url="http://127.0.0.1:9/refused",
        event_types=["trial.started"],
    )
    trial_start_new_customer(
        partner=partner,
        actor=sales,
        company_name="Hooked Org",
        admin_email="admin@hooked.example",
        vertical="retail",
        country="DK",
        services=meetings(),
        devices=[],
        length_days=30,
    )
    webhook_deliver_one(delivery_id=endpoint.deliveries.get().pk)

    return list(OutboxEmail.objects.order_by("pk"))


def test_every_email_kind_is_covered(every_email):
    owed_templates = {template_of(e.kind) for e in every_email}
    missing = discovered_kinds() - owed_templates
    assert not missing, f"add a scenario owing these email kinds to every_email: {missing}"
    emailed_notices = {str(k) for k in EMAILED_NOTIFICATION_KINDS}
    assert emailed_notices <= {e.kind for e in every_email}


def test_D8_deletion_notices_reach_the_partner_feed_not_its_inbox(every_email):
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert {str(k) for k in FEED_ONLY_NOTIFICATION_KINDS} <= kinds
    assert not {e.kind for e in every_email} & {str(k) for k in FEED_ONLY_NOTIFICATION_KINDS}
    partner_inboxes = set(User.objects.filter(org__kind="partner").values_list("email", flat=True))
    warnings_to = {e.to_email for e in every_email if e.kind == "deletion_warning"}
    assert warnings_to
    assert not warnings_to & partner_inboxes


def test_every_email_uses_the_one_layout_and_names_no_rule(every_email):
    for email in every_email:
        assert 'id="partnerhub-email"' in email.body_html, email.kind
        assert "\n--\nPartner Hub · " in email.body_text, email.kind
        for part in (email.subject, email.body_text, email.body_html):
            assert not RULE_ID.search(part), (email.kind, RULE_ID.search(part))
            assert "{{" not in part, email.kind
            assert "{%" not in part, email.kind


def links_of(email: OutboxEmail) -> set[str]:
    links = set(HREF.findall(email.body_html))
    links |= {url.rstrip(".,;:)") for url in TEXT_URL.findall(email.body_text)}
    return links


def test_every_link_is_absolute_and_opens_for_its_recipient(every_email):
    checked = 0
    for email in every_email:
        links = links_of(email)
        recipient = User.objects.filter(email=email.to_email).first()
        client = Client()
        if recipient is not None:
            client.force_login(recipient)
        for url in links:
            assert url.startswith(settings.SITE_URL + "/"), (email.kind, url)
            parts = urlsplit(url)
            resolve(parts.path)  # a real page, or Resolver404
            response = client.get(
                parts.path + (f"?{parts.query}" if parts.query else ""), follow=True
            )
            assert response.status_code == 200, (email.kind, email.to_email, url)
            if recipient is not None:
                final = response.redirect_chain[-1][0] if response.redirect_chain else url
                assert "/login/" not in final or parts.path == "/login/", (email.kind, url)
            checked += 1
    assert checked >= len(every_email)


def test_T3_consent_email_links_to_the_request_in_control_hub(every_email):
    to_full_admin = next(
        e for e in every_email if e.kind == "consent_request" and "Accepting Org" in e.body_text
    )
    org = Organization.objects.get(name="Accepting Org")
    consent = org.consent_requests.get()
    assert f"{settings.SITE_URL}/control-hub/{org.pk}/trial-requests/{consent.pk}/" in (
        to_full_admin.body_text
    )
    to_reader = next(
        e for e in every_email if e.kind == "consent_request" and "Silent Org" in e.body_text
    )
    reader = User.objects.get(email=to_reader.to_email)
    if not reader.memberships.filter(role=Role.CUSTOMER_FULL_ADMIN).exists():
        assert "/trial-requests/" not in to_reader.body_text  # it could not open it
        assert "ask one of them" in to_reader.body_text


def test_SITE_URL_is_read_from_the_environment_by_the_settings():
    import os
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.SITE_URL)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "partnerhub.settings.dev"}
    env.pop("SITE_URL", None)
    default = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    assert default.stdout.strip() == "http://127.0.0.1:8000"  # the dev server's address
    custom = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**env, "SITE_URL": "https://hub.example/"},
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    assert custom.stdout.strip() == "https://hub.example"


def test_partner_notice_link_says_where_it_leads(every_email):
    declined = next(e for e in every_email if e.kind == "consent_declined")
    assert "Open your customer list: http://testserver/partner/customers/\n" in declined.body_text
    accepted = next(e for e in every_email if e.kind == "consent_accepted")
    assert "Open the customer: http://testserver/partner/customers/" in accepted.body_text
