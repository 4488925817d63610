"""T3 step 5 (confirm the org before the request goes), T5 (what the customer has and who
manages it; the T4 hint says which case applies), and acting for the customer in its Control
Hub (T2: "Set up customer" / "View customer", a banner, audit rows with both names)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from licensing.choices import ProvisioningStatus, ServiceType, SubscriptionKind
from licensing.models import Service
from partnerhub.accounts.choices import PartnerAccess, Role
from partnerhub.accounts.models import AuditEntry, CustomerRelationship
from tests.factories import listed_facts_changed, make_customer, make_subscription, make_user

from .test_trial_pages import form_data

pytestmark = pytest.mark.django_db
REQUEST = reverse("trials:trial_request")


@pytest.fixture
def sales(client, world):
    client.force_login(world.sales_admin)
    return client


def test_T3_confirm_shows_the_org_without_user_names_then_sends(sales, world):
    org = make_customer(name="Existing Fjord")
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="it@fjord.example")
    make_user(org=org, role=Role.USER, email="secret.person@fjord.example", first_name="Secret")
    data = form_data(admin_email=admin.email, company_name="", country="", vertical="")
    page = sales.post(REQUEST, data).content.decode()
    assert "Is this the right organization?" in page
    assert "Existing Fjord" in page
    assert org.created.strftime("%Y") in page
    assert '<dd id="confirm-org-users">2</dd>' in page
    assert "secret.person" not in page
    assert "Secret" not in page
    assert not org.consent_requests.exists()
    back = sales.post(REQUEST, {**data, "back": "1"}).content.decode()
    assert 'value="it@fjord.example"' in back
    assert "Send the consent request" in back
    assert not org.consent_requests.exists()
    sent = sales.post(REQUEST, {**data, "confirm": "1"})
    assert sent.status_code == 302
    assert org.consent_requests.count() == 1


def test_T3_an_email_of_no_org_is_a_field_error_before_any_confirmation(sales):
    page = sales.post(REQUEST, form_data(admin_email="nobody@nowhere.example")).content.decode()
    assert "No organization has an admin with this email." in page
    assert "Is this the right organization?" not in page


def test_T4_T5_add_trial_page_shows_what_the_customer_has_and_why_a_box_is_off(sales, world):
    customer = world.customer_paid  # Messaging and Calling bought from Acme
    make_subscription(
        customer=customer,
        partner=world.other_partner,
        kind=SubscriptionKind.TRIAL,
        services={ServiceType.MEETINGS: 3},
    )
    CustomerRelationship.objects.create(partner=world.other_partner, customer=customer)
    listed_facts_changed(customer)
    page = sales.get(reverse("trials:trial_add", args=[customer.pk])).content.decode()
    held = page.split('id="services-held"')[1].split("</section>")[0]
    assert "Rival Resellers" in held
    assert "Acme Resellers" in held
    assert "Already bought" in page
    assert "Trialled by another partner" in page
    assert "(T4)" not in page
    # A word of its own: a CSRF token may hold the letters "T4" by chance.
    assert not re.search(r"\bT4\b", page)
    detail = sales.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert 'id="services-held"' in detail
    assert "Rival Resellers" in detail


def test_T4_own_trial_is_named_as_such_on_the_services_page(sales, world):
    customer = world.customer_trial
    trial = customer.subscriptions.get(kind=SubscriptionKind.TRIAL)
    other_trial = make_subscription(
        customer=customer,
        partner=world.partner,
        kind=SubscriptionKind.TRIAL,
        services={ServiceType.CALLING: 3},
    )
    page = sales.get(reverse("trials:trial_services", args=[trial.pk])).content.decode()
    assert "In a trial of yours" in page
    assert other_trial.pk


@pytest.mark.parametrize(
    ("access", "status", "label"),
    [
        (PartnerAccess.FULL_ADMIN, ProvisioningStatus.PROVISIONED, "View customer"),
        (PartnerAccess.PROVISIONING_ADMIN, ProvisioningStatus.AWAITING_DETAILS, "Set up customer"),
    ],
)
def test_T2_customer_page_links_into_control_hub(sales, world, access, status, label):
    customer = world.customer_trial
    CustomerRelationship.objects.filter(partner=world.partner, customer=customer).update(
        access=access
    )
    Service.objects.filter(subscription__customer=customer).update(provisioning_status=status)
    listed_facts_changed(customer)
    page = sales.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    url = reverse("controlhub:overview", kwargs={"org_pk": customer.pk})
    assert f'id="act-for" href="{url}">{label}<' in page
    overview = sales.get(url).content.decode()
    banner = overview.split('id="acting-banner"')[1].split("</div>")[0]
    assert customer.name in banner
    assert world.sales_admin.email in banner
    assert world.partner.name in banner


def test_no_control_hub_link_while_the_request_waits_for_consent(sales, world):
    org = make_customer(name="Waiting Org")
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    sales.post(
        REQUEST,
        form_data(admin_email=admin.email, company_name="", country="", vertical="", confirm="1"),
    )
    page = sales.get(reverse("customers:customer_detail", args=[org.pk])).content.decode()
    assert 'id="act-for"' not in page


def test_every_action_taken_for_the_customer_is_audited_with_both_names(client, world):
    customer = world.customer_paid
    client.force_login(world.partner_full_admin)
    service_ids = list(
        Service.objects.filter(subscription__customer=customer).values_list("pk", flat=True)
    )
    response = client.post(
        reverse("controlhub:license_template", kwargs={"org_pk": customer.pk}),
        {"services": service_ids, "keep_existing_licenses": "on"},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(org_id_value=customer.pk).order_by("-pk").first()
    assert world.partner_full_admin.email in entry.actor_label
    assert world.partner.name in entry.actor_label
    assert customer.name in entry.actor_label
    assert entry.details["acting_partner"] == world.partner.name
    assert entry.details["acting_for"] == customer.name
    # The customer's own admin acting in its own Control Hub is audited as itself.
    boss = customer.users.get(email="boss@paid.example")
    client.force_login(boss)
    client.post(
        reverse("controlhub:license_template", kwargs={"org_pk": customer.pk}),
        {"services": service_ids[:1], "keep_existing_licenses": "on"},
    )
    own = AuditEntry.objects.filter(org_id_value=customer.pk).order_by("-pk").first()
    assert own.actor_label == boss.email
    assert "acting_for" not in own.details
