"""The support console, issue 13: branded, no destructive bulk actions, org identity read-only,
T7 decisions through a confirmation page with a note the partner sees, autocomplete on the
order form, and a held deletion batch in the demo world."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.urls import reverse

from customers.models import DeletionHold
from licensing.models import Order, Service
from partnerhub.accounts.choices import OrgKind
from partnerhub.accounts.models import Organization, User
from partnerhub.demo.world import demo_world_build
from trials.choices import ExtensionStatus
from trials.models import ExtensionRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(client):
    demo_world_build()
    client.force_login(User.objects.get(email="support@partnerhub.example"))
    return client


def test_console_is_branded(support):
    html = support.get(reverse("admin:index")).content.decode()
    assert "Partner Hub support console" in html
    assert "Django administration" not in html


def test_no_bulk_delete_action_on_any_changelist(support):
    for model, model_admin in admin.site._registry.items():
        request = support.get(
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        ).wsgi_request
        assert "delete_selected" not in model_admin.get_actions(request), model
    services = support.get(reverse("admin:licensing_service_changelist")).content.decode()
    assert "Delete selected" not in services
    assert "Finish manual provisioning" in services


def test_org_identity_fields_are_read_only(support):
    org = Organization.objects.filter(kind=OrgKind.PARTNER).order_by("pk").first()
    url = reverse("admin:accounts_organization_change", args=[org.pk])
    response = support.get(url)
    form = response.context["adminform"].form
    for name in ("created", "kind", "partner_tier"):
        assert name not in form.fields, name


def _pending() -> ExtensionRequest:
    return ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).order_by("pk").first()


def test_T7_approve_asks_first_shows_the_reason_and_sends_a_note(support):
    extension = _pending()
    assert extension is not None, "the demo world has a pending device-trial extension"
    extension.reason = "Customer waits for a PoE switch"
    extension.save(update_fields=["reason"])
    url = reverse("admin:trials_extensionrequest_changelist")
    chosen = {"action": "approve", helpers.ACTION_CHECKBOX_NAME: [extension.pk]}
    confirm = support.post(url, chosen)
    assert confirm.status_code == 200  # a confirmation page, nothing decided yet
    page = confirm.content.decode()
    assert "Customer waits for a PoE switch" in page
    assert "Note to the partner" in page
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING

    done = support.post(url, {**chosen, "confirm": "yes", "note": "Approved until the switch"})
    assert done.status_code == 302
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.APPROVED
    assert extension.decision_note == "Approved until the switch"

    # The partner reads the note on the customer page.
    partner_admin = User.objects.filter(
        org=extension.trial.partner, memberships__role="sales_admin"
    ).first()
    support.force_login(partner_admin)
    customer_page = support.get(
        reverse("customers:customer_detail", args=[extension.trial.customer_id])
    ).content.decode()
    assert "Approved until the switch" in customer_page


def test_T7_refusing_needs_a_note(support):
    extension = _pending()
    url = reverse("admin:trials_extensionrequest_changelist")
    chosen = {"action": "refuse", helpers.ACTION_CHECKBOX_NAME: [extension.pk], "confirm": "yes"}
    again = support.post(url, {**chosen, "note": ""})
    assert again.status_code == 200
    assert "Say why" in again.content.decode()
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING


def test_order_form_finds_partner_customer_and_trial_by_typing(support):
    order_admin = admin.site._registry[Order]
    assert set(order_admin.autocomplete_fields) == {"partner", "customer", "trial", "renews"}
    html = support.get(reverse("admin:licensing_order_add")).content.decode()
    assert "admin-autocomplete" in html
    found = support.get(
        reverse("admin:autocomplete"),
        {"app_label": "licensing", "model_name": "order", "field_name": "partner", "term": ""},
    ).json()
    kinds = set(
        Organization.objects.filter(pk__in=[r["id"] for r in found["results"]]).values_list(
            "kind", flat=True
        )
    )
    assert kinds == {OrgKind.PARTNER}
    trials = support.get(
        reverse("admin:autocomplete"),
        {"app_label": "licensing", "model_name": "order", "field_name": "trial", "term": ""},
    ).json()
    assert trials["results"]


def test_demo_world_has_a_held_deletion_batch_to_release(support):
    hold = DeletionHold.objects.get(released_at__isnull=True)
    assert hold.org_ids
    url = reverse("admin:customers_deletionhold_changelist")
    response = support.post(url, {"action": "release", helpers.ACTION_CHECKBOX_NAME: [hold.pk]})
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.released_at is not None
    assert Service.objects.exists()
