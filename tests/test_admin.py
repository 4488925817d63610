"""The support console (issue 2, item 5): every page loads with demo data, lists stay cheap,
and nothing in it can exempt an org from deletion (D7)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.forms import MultiWidget
from django.urls import reverse

from customers.admin import DELETION_FIELDS
from partnerhub.accounts.models import AuditEntry, Organization, User
from partnerhub.demo.bulk import bulk_customers_build
from partnerhub.demo.world import demo_world_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(client):
    demo_world_build()
    bulk_customers_build(count=40)
    staff = User.objects.get(email="support@partnerhub.example")
    client.force_login(staff)
    return client


def _url(model: Any, view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_admin_changelist_change_and_add_page_loads(support):
    for model, model_admin in admin.site._registry.items():
        response = support.get(_url(model, "changelist"))
        assert response.status_code == 200, model
        obj = model_admin.get_queryset(response.wsgi_request).order_by("pk").first()
        if obj is not None:
            response = support.get(_url(model, "change", obj.pk))
            assert response.status_code == 200, model
        if model_admin.has_add_permission(response.wsgi_request):
            assert support.get(_url(model, "add")).status_code == 200, model


def test_every_admin_changelist_search_and_filters_load(support):
    for model, model_admin in admin.site._registry.items():
        if model_admin.search_fields:
            response = support.get(_url(model, "changelist"), {"q": "wood"})
            assert response.status_code == 200, model
    url = _url(Organization, "changelist")
    for value in ("yes", "warned", "no"):
        response = support.get(url, {"to_be_deleted": value})
        assert response.status_code == 200
    marked = support.get(url, {"to_be_deleted": "yes", "q": "Wingtip"})
    assert "To be deleted" in marked.content.decode()


def test_D7_organization_changelist_has_no_per_row_queries(support, django_assert_num_queries):
    url = _url(Organization, "changelist")
    support.get(url)  # warm the session and content types
    # Session, user, the page of orgs, its count: the same for 40 or 100,000 orgs.
    with django_assert_num_queries(4):
        assert support.get(url).status_code == 200
    bulk_customers_build(count=60)
    with django_assert_num_queries(4):
        assert support.get(url).status_code == 200


@pytest.mark.parametrize(
    ("model_name", "queries"),
    [
        ("accounts_user", 4),
        ("accounts_membership", 4),
        ("licensing_subscription", 5),  # + the partner filter's choices
        ("licensing_service", 4),
        ("licensing_license", 4),
        ("trials_device", 4),
        ("customers_activityevent", 7),  # + the date hierarchy (2) and the source filter
    ],
)
def test_big_changelists_have_no_per_row_queries(
    support, django_assert_num_queries, model_name, queries
):
    url = reverse(f"admin:{model_name}_changelist")
    support.get(url)
    with django_assert_num_queries(queries):
        assert support.get(url).status_code == 200


def test_D7_deletion_fields_are_read_only_and_no_action_exempts(support):
    org = Organization.objects.get(name="Wingtip Toys")
    model_admin = admin.site._registry[Organization]
    response = support.get(_url(Organization, "change", org.pk))
    request = response.wsgi_request
    form_fields = model_admin.get_form(request, org)().fields
    for name in DELETION_FIELDS:
        assert name not in form_fields
        assert name in model_admin.get_readonly_fields(request, org)
    actions = model_admin.get_actions(request)
    assert not any("exempt" in name or "delet" in name for name in actions)
    assert not model_admin.has_delete_permission(request, org)
    page = response.content.decode()
    assert "To be deleted" in page

    # Post the form back with the deletion fields "cleared": they do not change.
    data = _post_data(response)
    data.update(
        {
            "deletion_marked_at_0": "",
            "deletion_marked_at_1": "",
            "deletion_warned_at_0": "",
            "deletion_warned_at_1": "",
            "name": "Wingtip Toys Renamed",
        }
    )
    before = (org.deletion_marked_at, org.deletion_warned_at, org.last_activity_at)
    response = support.post(_url(Organization, "change", org.pk), data)
    assert response.status_code == 302, response.context["errors"]
    org.refresh_from_db()
    assert org.name == "Wingtip Toys Renamed"
    assert (org.deletion_marked_at, org.deletion_warned_at, org.last_activity_at) == before
    # The change is audited with who made it.
    entry = AuditEntry.objects.filter(action="admin.organization.change").get()
    assert entry.actor_label == "support@partnerhub.example"
    assert entry.details == {"fields": ["name"]}


def test_T2_changing_the_country_in_the_admin_moves_the_data_region(support):
    org = Organization.objects.get(name="Litware Inc")
    assert org.data_region == "amer"
    url = _url(Organization, "change", org.pk)
    data = _post_data(support.get(url))
    data["country"] = "JP"
    response = support.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    org.refresh_from_db()
    assert (org.country, org.data_region) == ("JP", "apac")


def test_audit_log_outbox_tombstones_are_read_only(support):
    for model_name in (
        "accounts_auditentry",
        "core_outboxemail",
        "customers_deletiontombstone",
        "customers_activityevent",
    ):
        model = next(
            m for m in admin.site._registry if m._meta.label_lower.replace(".", "_") == model_name
        )
        model_admin = admin.site._registry[model]
        request = support.get(reverse(f"admin:{model_name}_changelist")).wsgi_request
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)


def test_support_can_add_a_user_by_email(support):
    response = support.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Person@Example.com",
            "usable_password": "true",
            "password1": "a-long-enough-pass-2026",
            "password2": "a-long-enough-pass-2026",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.person@example.com")
    assert user.email_domain == "example.com"
    assert user.check_password("a-long-enough-pass-2026")


def _post_data(response: Any) -> dict[str, Any]:
    """The change form as the browser would send it back unchanged."""
    data: dict[str, Any] = {}

    def put(form: Any) -> None:
        for name, field in form.fields.items():
            value = form[name].value()
            keys = [form.add_prefix(name)]
            if field.show_hidden_initial:  # fields with a callable default (e.g. created)
                keys.append(form.add_initial_prefix(name))
            for key in keys:
                if isinstance(field.widget, MultiWidget):
                    for i, part in enumerate(field.widget.decompress(value)):
                        data[f"{key}_{i}"] = "" if part is None else str(part)
                elif isinstance(value, bool):
                    if value:
                        data[key] = "on"
                elif value is not None:
                    data[key] = value

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        put(formset.management_form)
        for form in formset.forms:
            put(form)
    return data


def test_P1_T2_support_finishes_manual_provisioning_and_the_welcome_email_follows(support):
    from django.core import mail
    from django.utils import timezone

    from customers.tick import consent_expiry_tick
    from licensing.choices import ProvisioningStatus, ServiceType, SubscriptionKind
    from licensing.models import Service
    from partnerhub.accounts.choices import Role
    from partnerhub.accounts.models import AuditEntry
    from partnerhub.core.outbox import outbox_flush
    from tests.factories import make_customer, make_partner, make_subscription, make_user

    partner = make_partner(name="Welcome Partners")
    org = make_customer(name="Fresh Start Ltd", partner=partner)
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="it@freshstart.example")
    trial = make_subscription(
        customer=org,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        services={ServiceType.MESSAGING: 5, ServiceType.CALLING: 5},
        status=ProvisioningStatus.MANUAL_VENDOR,
    )
    services = list(trial.services.order_by("pk"))
    changelist = _url(Service, "changelist")
    response = support.post(
        changelist,
        {"action": "mark_provisioned", "_selected_action": [s.pk for s in services]},
        follow=True,
    )
    assert response.status_code == 200
    assert set(
        Service.objects.filter(subscription=trial).values_list("provisioning_status", flat=True)
    ) == {ProvisioningStatus.PROVISIONED}
    assert AuditEntry.objects.filter(action="service.provisioned").count() == 2

    # Every service is provisioned now: the hourly tick owes the customer admin the welcome.
    consent_expiry_tick(now=timezone.now())
    outbox_flush()
    welcomes = [m for m in mail.outbox if m.to == ["it@freshstart.example"]]
    assert len(welcomes) == 1
    assert "Fresh Start Ltd" in welcomes[0].subject
