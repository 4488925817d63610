"""The wizard end to end through its pages: W2–W6 decisions and the T9 conversion."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from licensing.choices import (
    OrderPurpose,
    OrderStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.lifecycle import WizardOutcome
from licensing.models import License, Order, Subscription
from licensing.orders import (
    MATCH_ATTEMPTS_PER_HOUR,
    OrderLineSpec,
    OrderRefused,
    order_place,
    order_setup_complete,
)
from partnerhub.accounts.choices import OrgKind, PartnerAccess, Role
from partnerhub.accounts.models import (
    AuditEntry,
    CustomerRelationship,
    Membership,
    Organization,
    User,
)
from tests.factories import make_customer, make_partner, make_subscription, make_user

from .conftest import place_conversion, setup_path

pytestmark = pytest.mark.django_db


def start(client: Client, order: Order) -> str:
    path = setup_path(order)
    assert client.post(path).status_code == 302
    return path


def match_step(client: Client, path: str, company: str, email: str):
    return client.post(path + "company/", {"company_name": company, "admin_email": email})


def test_T9_conversion_with_the_trial_admin_email_maps_to_the_trial_org(client, trial_world):
    order = place_conversion(trial_world)
    path = start(client, order)
    response = match_step(client, path, "Nordic Widgets ApS", "Anna@NordicWidgets.dk")
    assert response.status_code == 302
    assert response["Location"].endswith("/choose/")
    page = client.get(path + "choose/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="admin-match"' in body
    assert "Matched by the admin email" in body  # W2 explained (issue 16)
    assert "Create a new organization" not in body
    org = trial_world["org"]
    done = client.post(path + "choose/", {"org": str(org.pk)})
    assert done.status_code == 302
    assert done["Location"].endswith("/done/")
    final = client.get(done["Location"])
    assert final.status_code == 200
    assert 'data-testid="converted"' in final.content.decode()

    trial = Subscription.objects.get(pk=trial_world["trial"].pk)
    paid = Subscription.objects.get(converted_from=trial)
    assert trial.state == SubscriptionState.CONVERTED
    assert paid.customer == org
    assert paid.kind == SubscriptionKind.PAID
    assert paid.partner == trial_world["partner"]
    # Usage data kept: the very same license rows now hang off the paid services.
    assert License.objects.filter(service__subscription=paid).count() == 3
    assert not License.objects.filter(service__subscription=trial).exists()
    assert paid.services.get(type=ServiceType.CALLING).licenses.get().user == trial_world["bo"]
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.customer == org
    assert order.subscription == paid
    assert Organization.objects.filter(kind=OrgKind.CUSTOMER).count() == 1
    # The link is spent: another visit, even in the same browser, gets the used page.
    assert client.get(path).status_code == 410


def test_T9_a_different_admin_email_is_caught_by_matching_not_a_new_org(client, trial_world):
    order = place_conversion(trial_world, contact="it@nordicwidgets.dk")
    path = start(client, order)
    match_step(client, path, "Nordic Widgets", "it@nordicwidgets.dk")
    page = client.get(path + "choose/").content.decode()
    org = trial_world["org"]
    assert f'data-org="{org.pk}"' in page
    assert "Trial of this order" in page
    assert 'data-testid="new-org-warning"' in page  # T9: a new org would leave the trial behind
    response = client.post(path + "choose/", {"org": str(org.pk)})
    assert response.status_code == 302
    note = client.get(response["Location"]).content.decode()
    assert 'data-testid="note"' in note  # W5: go on, ask the admin to add you
    assert Organization.objects.filter(kind=OrgKind.CUSTOMER).count() == 1
    assert Subscription.objects.get(pk=trial_world["trial"].pk).state == "converted"
    # W4: the person was not made an admin (nor a user) of the existing org.
    assert not User.objects.filter(email="it@nordicwidgets.dk").exists()


def _existing_org_world():
    partner = make_partner(name="Fjord Resellers")
    org = make_customer(name="Lumen Analytics")
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="boss@lumen.example")
    make_user(org=org, email="staff@lumen.example")
    return partner, org


def _order(purpose: str, partner=None) -> Order:
    return order_place(
        lines=[OrderLineSpec(service_type=ServiceType.MEETINGS, quantity=20)],
        provisioning_contact_email="newbie@lumen.example",
        purpose=purpose,
        partner=partner,
    )


@pytest.mark.parametrize(
    ("purpose", "outcome", "completed"),
    [
        (OrderPurpose.PARTNER_FOR_CUSTOMER, WizardOutcome.PROCEED_WITH_NOTE, True),
        (OrderPurpose.CUSTOMER_SELF, WizardOutcome.BLOCKED_UNTIL_ADMIN, False),
        (OrderPurpose.PARTNER_OWN_USE, WizardOutcome.CONTACT_ADMIN, False),
    ],
    ids=["W5_partner_for_customer", "W5_customer_self", "W5_partner_own_use"],
)
def test_W5_outcomes_when_not_an_admin_of_the_chosen_org(purpose, outcome, completed):
    partner, org = _existing_org_world()
    order = _order(purpose, partner=partner)
    result = order_setup_complete(
        order=order, org=org, company_name="Lumen Analytics", admin_email="newbie@lumen.example"
    )
    assert result.outcome == outcome
    assert result.completed is completed
    order.refresh_from_db()
    assert (order.status == OrderStatus.COMPLETED) is completed
    assert Subscription.objects.filter(customer=org).exists() is completed
    # W4: never an admin added, whatever the outcome.
    assert not Membership.objects.filter(org=org, user__email="newbie@lumen.example").exists()
    assert Membership.objects.filter(org=org).count() == 1
    action = "order.setup_complete" if completed else "order.setup_blocked"
    entry = AuditEntry.objects.get(action=action, target=order.number)
    assert entry.details["outcome"] == outcome.value


def test_W5_messages_on_the_pages(client):
    partner, org = _existing_org_world()
    texts = {}
    for purpose in OrderPurpose:
        order = _order(purpose, partner=partner)
        browser = Client()
        path = start(browser, order)
        match_step(browser, path, "Lumen", "newbie@lumen.example")
        response = browser.post(path + "choose/", {"org": str(org.pk)}, follow=True)
        assert response.status_code == 200
        texts[purpose] = response.content.decode()
    assert "ask the organization&#x27;s existing admin to add you" in texts["partner_for_customer"]
    assert "make you an admin" in texts["customer_self"]
    assert 'data-outcome="blocked_until_admin"' in texts["customer_self"]
    assert "Contact its current admin" in texts["partner_own_use"]
    assert 'data-outcome="contact_admin"' in texts["partner_own_use"]


def test_W5_blocked_customer_continues_once_made_admin(client):
    _partner, org = _existing_org_world()
    order = _order(OrderPurpose.CUSTOMER_SELF)
    path = start(client, order)
    match_step(client, path, "Lumen", "newbie@lumen.example")
    client.post(path + "choose/", {"org": str(org.pk)})
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert order.link_used_at is None
    # The existing admin adds them (outside the wizard); the link from the email works again.
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="newbie@lumen.example")
    again = Client()
    path = start(again, order)
    match_step(again, path, "Lumen", "newbie@lumen.example")
    response = again.post(path + "choose/", {"org": str(org.pk)})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.customer == org


def test_W2_new_org_gets_the_admin_and_the_partner_relationship(client):
    partner = make_partner(name="Fjord Resellers")
    order = _order(OrderPurpose.PARTNER_FOR_CUSTOMER, partner=partner)
    path = start(client, order)
    match_step(client, path, "Brand New Co", "founder@brandnew.example")
    page = client.get(path + "choose/").content.decode()
    assert 'data-testid="no-match"' in page
    missing_country = client.post(path + "choose/", {"org": "new"})
    assert missing_country.status_code == 400
    response = client.post(path + "choose/", {"org": "new", "country": "SE"})
    assert response.status_code == 302
    org = Organization.objects.get(name="Brand New Co")
    assert org.data_region == "emea"
    assert Membership.objects.get(org=org).role == Role.CUSTOMER_FULL_ADMIN
    assert Subscription.objects.get(customer=org).kind == SubscriptionKind.PAID
    rel = CustomerRelationship.objects.get(partner=partner, customer=org)
    assert rel.access == PartnerAccess.FULL_ADMIN


def test_W4_existing_org_gives_the_partner_provisioning_access_only(client):
    partner, org = _existing_org_world()
    order = _order(OrderPurpose.PARTNER_FOR_CUSTOMER, partner=partner)
    order_setup_complete(
        order=order, org=org, company_name="Lumen", admin_email="newbie@lumen.example"
    )
    rel = CustomerRelationship.objects.get(partner=partner, customer=org)
    assert rel.access == PartnerAccess.PROVISIONING_ADMIN


def test_W6_an_org_the_match_did_not_list_cannot_be_chosen(client):
    partner, _org = _existing_org_world()
    secret = make_customer(name="Secret Holdings")
    make_user(org=secret, role=Role.CUSTOMER_FULL_ADMIN, email="ceo@secret.example")
    order = _order(OrderPurpose.PARTNER_FOR_CUSTOMER, partner=partner)
    path = start(client, order)
    match_step(client, path, "Lumen", "newbie@lumen.example")
    page = client.get(path + "choose/").content.decode()
    assert "Secret Holdings" not in page
    assert "staff@lumen.example" not in page
    assert "boss@lumen.example" not in page
    response = client.post(path + "choose/", {"org": str(secret.pk)})
    assert response.status_code == 400
    assert not Subscription.objects.filter(customer=secret).exists()
    with pytest.raises(OrderRefused):
        order_setup_complete(
            order=order, org=secret, company_name="Lumen", admin_email="newbie@lumen.example"
        )
    assert AuditEntry.objects.filter(action="order.choice_refused").exists()


def test_W2a_admin_match_cannot_be_turned_into_a_duplicate_org(client, trial_world):
    order = place_conversion(trial_world)
    path = start(client, order)
    match_step(client, path, "Nordic Widgets", "anna@nordicwidgets.dk")
    response = client.post(path + "choose/", {"org": "new", "country": "DK"})
    assert response.status_code == 400
    assert Organization.objects.filter(kind=OrgKind.CUSTOMER).count() == 1


def test_W6_matching_is_rate_limited_per_link(client, trial_world):
    order = place_conversion(trial_world)
    path = start(client, order)
    for i in range(MATCH_ATTEMPTS_PER_HOUR):
        assert match_step(client, path, f"Try {i}", "x@nordicwidgets.dk").status_code == 302
    refused = match_step(client, path, "Nordic Widgets", "anna@nordicwidgets.dk")
    assert refused.status_code == 429
    assert b"Too many" in refused.content
    assert AuditEntry.objects.filter(action="order.match_rate_limited").count() == 1
    assert AuditEntry.objects.filter(action="order.match").count() == MATCH_ATTEMPTS_PER_HOUR
    # Another link has its own allowance.
    other = order_place(
        lines=[OrderLineSpec(service_type=ServiceType.MEETINGS, quantity=1)],
        provisioning_contact_email="x@elsewhere.example",
    )
    other_browser = Client()
    other_path = start(other_browser, other)
    assert match_step(other_browser, other_path, "Else", "x@elsewhere.example").status_code == 302
    # The next hour, the link may match again.
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert match_step(client, path, "Nordic", "anna@nordicwidgets.dk").status_code == 302


def test_wizard_steps_need_the_browser_that_opened_the_link(client, trial_world):
    order = place_conversion(trial_world)
    path = setup_path(order)
    response = client.get(path + "choose/")
    assert response.status_code == 302
    assert response["Location"] == path
    response = client.post(path + "company/", {"company_name": "x", "admin_email": "a@b.example"})
    assert response.status_code == 302
    assert response["Location"] == path


def test_W3_choose_page_query_count_is_fixed(client, trial_world, django_assert_num_queries):
    for i in range(5):
        org = make_customer(name=f"Nordic Widgets {i}")
        make_user(org=org, email=f"u{i}@nordicwidgets.dk")
        make_subscription(customer=org)
    order = place_conversion(trial_world)
    path = start(client, order)
    match_step(client, path, "Nordic Widgets", "new@nordicwidgets.dk")
    client.get(path + "choose/")
    # The session, the order (with partner and trial), the two match queries: W2 stays two
    # queries whatever the number of orgs listed.
    with django_assert_num_queries(4):
        page = client.get(path + "choose/")
    assert page.content.decode().count('data-org="') == 7  # six orgs and "new"


def test_T9_conversion_order_going_to_a_new_org_says_the_trial_will_not_convert(
    client, trial_world
):
    """Before issue 10 nothing said so when the wizard created a new org for a conversion
    order (a mistyped or different admin email): the trial silently stayed behind."""
    order = place_conversion(trial_world)
    path = start(client, order)
    match_step(client, path, "Totally Other Name", "someone@elsewhere.example")
    page = client.get(path + "choose/").content.decode()
    assert 'data-testid="trial-not-converted"' in page
    assert "the trial will not be converted" in page
    assert "enter the email address of an admin of the trial" in page
    assert 'data-testid="new-org-warning"' in page
    response = client.post(path + "choose/", {"org": "new", "country": "SE"})
    done = client.get(response["Location"]).content.decode()
    assert 'data-testid="not-converted"' in done
    trial_world["trial"].refresh_from_db()
    assert trial_world["trial"].state == SubscriptionState.ACTIVE
