"""Trial pages: field errors instead of 500s, the T6 preview, T10 confirmation, T7 in the admin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from licensing.choices import ServiceType, SubscriptionKind, SubscriptionState
from licensing.models import Service, Subscription
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import Organization
from tests.factories import listed_facts_changed, make_customer, make_subscription, make_user
from trials.choices import ExtensionStatus
from trials.models import ExtensionRequest

pytestmark = pytest.mark.django_db
START = reverse("trials:trial_start")


def form_data(**overrides):
    data = {
        "company_name": "Fresh Co",
        "admin_email": "admin@fresh.example",
        "vertical": "retail",
        "country": "DK",
        "messaging": "on",
        "messaging_licenses": "25",
        "length": "30",
        "meetings_edition": "standard",
        "dev-TOTAL_FORMS": "3",
        "dev-INITIAL_FORMS": "0",
        "dev-MIN_NUM_FORMS": "0",
        "dev-MAX_NUM_FORMS": "6",
    }
    data.update(overrides)
    return data


@pytest.fixture
def sales(client, world):
    client.force_login(world.sales_admin)
    return client


def errors(response) -> str:
    assert response.status_code == 200  # the form again, never a 500
    return response.content.decode()


def test_T2_form_shows_the_region_each_country_maps_to(sales):
    html = sales.get(START).content.decode()
    assert "Denmark — Europe" in html
    assert "Japan — Asia Pacific" in html


def test_T2_start_from_the_form(sales):
    response = sales.post(START, form_data())
    org = Organization.objects.get(name="Fresh Co")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:customer_detail", args=[org.pk])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"admin_email": "not-an-email"}, "Enter a valid email address."),
        ({"admin_email": "boss@paid.example"}, "belongs to an existing organization"),
        ({"country": "XX"}, "Select a valid choice"),
        ({"company_name": "   "}, "This field is required."),
        ({"messaging": ""}, "Pick at least one service."),
        ({"length": "45"}, "Select a valid choice"),
        (
            {"meetings": "on", "meetings_edition": "enterprise"},
            "The enterprise edition needs a Meetings site URL.",
        ),
        ({"meetings": "on", "site_url": "not a host!"}, "Enter a host name"),
        (
            {
                "devices": "on",
                "dev-0-device_type": "board",
                "dev-0-quantity": "1",
                "dev-1-device_type": "board",
                "dev-1-quantity": "2",
            },
            "listed twice",
        ),
        ({"devices": "on", "dev-0-device_type": "board"}, "How many?"),
    ],
)
def test_T2_bad_input_is_a_field_error(sales, overrides, message):
    html = errors(sales.post(START, form_data(**overrides)))
    assert message in html
    assert not Organization.objects.filter(name="Fresh Co").exists()


def test_T2_taken_site_url_is_a_field_error(sales, world):
    sub = make_subscription(customer=world.customer_paid, partner=world.partner)
    Service.objects.create(
        subscription=sub,
        type=ServiceType.MEETINGS,
        edition="enterprise",
        site_url="acme.meetings.example",
        time_zone="UTC",
    )
    listed_facts_changed(world.customer_paid)
    html = errors(
        sales.post(
            START,
            form_data(
                meetings="on",
                meetings_edition="enterprise",
                site_url="https://ACME.meetings.example/",
                time_zone="Europe/Copenhagen",
            ),
        )
    )
    assert "This Meetings site URL is taken." in html


def test_T3_request_from_the_form_and_T4_disables_taken_services(sales, world):
    org = make_customer(name="Known Org")
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="it@known.example")
    data = form_data(admin_email=admin.email, company_name="", country="", vertical="")
    # Seed 002 step 5: first the org the email resolves to is shown for confirmation.
    confirm = sales.post(reverse("trials:trial_request"), data)
    assert confirm.status_code == 200
    assert not org.consent_requests.exists()
    response = sales.post(reverse("trials:trial_request"), {**data, "confirm": "1"})
    assert response.status_code == 302
    page = sales.get(response["Location"]).content.decode()
    assert "Trial pending customer consent" in page
    assert "Resend the consent email" in page
    # T4 on the add-trial form of the paid customer: Messaging and Calling are bought
    html = sales.get(reverse("trials:trial_add", args=[world.customer_paid.pk])).content.decode()
    assert (
        'name="messaging" disabled' in html or "disabled" in html.split('name="messaging"')[1][:80]
    )


def test_T3_unknown_email_on_the_request_form(sales):
    html = errors(
        sales.post(reverse("trials:trial_request"), form_data(admin_email="who@nowhere.example"))
    )
    assert "No organization has an admin with this email." in html


def trial_of(world) -> Subscription:
    return Subscription.objects.get(customer=world.customer_trial, kind=SubscriptionKind.TRIAL)


def test_T6_preview_shows_the_resulting_end_date_and_warns_when_earlier(sales, world):
    trial = trial_of(world)
    Subscription.objects.filter(pk=trial.pk).update(
        end_date=timezone.localdate() + timedelta(days=65)
    )
    url = reverse("trials:trial_extend", args=[trial.pk])
    html = sales.post(url, {"days": "30", "preview": "1"}).content.decode()
    assert 'class="msg msg-warning" id="shorten-warning"' in html
    new_end = timezone.localdate() + timedelta(days=30)
    assert response_has_date(html, new_end)
    trial.refresh_from_db()
    assert trial.end_date == timezone.localdate() + timedelta(days=65)  # preview saves nothing
    html = sales.post(url, {"days": "90", "preview": "1"}).content.decode()
    assert 'class="msg msg-warning" id="shorten-warning"' not in html
    response = sales.post(url, {"days": "90", "save": "1"})
    assert response.status_code == 302
    trial.refresh_from_db()
    assert trial.end_date == timezone.localdate() + timedelta(days=90)


def response_has_date(html: str, day) -> bool:
    from django.utils.formats import date_format

    return date_format(day, "DATE_FORMAT") in html


def test_T6_bad_period_is_a_field_error(sales, world):
    url = reverse("trials:trial_extend", args=[trial_of(world).pk])
    assert "Select a valid choice" in errors(sales.post(url, {"days": "45", "save": "1"}))


def test_T10_delete_needs_the_confirmation(sales, world):
    trial = trial_of(world)
    url = reverse("trials:trial_delete", args=[trial.pk])
    assert "Yes, delete this trial" in sales.get(url).content.decode()
    refused = sales.post(url, {})
    assert refused.status_code == 400  # the page again, with a field error saying why
    assert "Tick the box to confirm" in refused.content.decode()
    assert 'class="field-error"' in refused.content.decode()
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.ACTIVE
    assert sales.post(url, {"confirm": "on"}).status_code == 302
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.CANCELLED


def test_T8_services_page_adds_and_removes(sales, world):
    trial = trial_of(world)  # Meetings
    url = reverse("trials:trial_services", args=[trial.pk])
    data = form_data(messaging="on", meetings="")
    response = sales.post(url, data)
    assert response.status_code == 302
    assert list(trial.services.values_list("type", flat=True)) == [ServiceType.MESSAGING]


def test_T9_tier_1_gets_a_convert_link_only_when_the_order_page_exists_tier_2_is_told(
    client, world
):
    client.force_login(world.sales_admin)
    html = client.get(reverse("customers:customer_detail", args=[world.customer_trial.pk]))
    assert "through your distributor" not in html.content.decode()
    world.partner.partner_tier = 2
    world.partner.save()
    html = client.get(reverse("customers:customer_detail", args=[world.customer_trial.pk]))
    assert "through your distributor" in html.content.decode()


def test_T7_support_staff_approve_in_the_admin(client, world):
    trial = trial_of(world)
    extension = ExtensionRequest.objects.create(
        trial=trial,
        requested_by=world.sales_admin,
        requested_end_date=timezone.localdate() + timedelta(days=100),
    )
    staff = make_user(org=None, is_staff=True, is_superuser=True)
    client.force_login(staff)
    changelist = reverse("admin:trials_extensionrequest_changelist")
    assert client.get(changelist).status_code == 200
    chosen = {"action": "approve", "_selected_action": [extension.pk]}
    asked = client.post(changelist, chosen)  # a confirmation page first (issue 13)
    assert asked.status_code == 200
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING
    response = client.post(changelist, {**chosen, "confirm": "yes", "note": ""}, follow=True)
    assert response.status_code == 200
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.APPROVED
    trial.refresh_from_db()
    assert trial.end_date == extension.requested_end_date


def test_T3_cancel_from_the_page_needs_the_confirmation_and_leaves_the_list(sales, world):
    org = make_customer(name="Asked Org")
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="it@asked.example")
    sales.post(
        reverse("trials:trial_request"),
        form_data(admin_email=admin.email, company_name="", country="", vertical="", confirm="1"),
    )
    consent = org.consent_requests.get()
    url = reverse("trials:consent_cancel", args=[consent.pk])
    page = sales.get(url).content.decode()
    assert "Yes, cancel this trial request" in page
    refused = sales.post(url, {})
    assert refused.status_code == 400
    assert "Tick the box to confirm the cancellation." in refused.content.decode()
    consent.refresh_from_db()
    assert consent.status == "pending"
    response = sales.post(url, {"confirm": "on"})
    assert response["Location"] == reverse("customers:customer_list")
    listed = sales.get(response["Location"])
    assert "Asked Org" not in [row.record.name for row in listed.context["table"].page.object_list]
    assert listed.context["count"] == 3
    resend = sales.post(reverse("trials:consent_resend", args=[consent.pk]), follow=True)
    assert "answered or cancelled already" in resend.content.decode()


def test_T9_tier_1_sees_convert_to_paid_linking_to_the_order_page(sales, world):
    trial = trial_of(world)
    html = sales.get(reverse("customers:customer_detail", args=[world.customer_trial.pk]))
    convert_url = reverse("licensing:trial_convert", kwargs={"trial_pk": trial.pk})
    assert f'href="{convert_url}"' in html.content.decode()
    assert "Convert to paid" in html.content.decode()


# ---- issue 13: the trial form -------------------------------------------------------------


def test_T2_time_zones_are_current_canonical_zones_grouped_by_area(sales):
    from trials.forms import current_time_zones

    zones = set(current_time_zones())
    assert "Europe/Copenhagen" in zones
    assert "America/New_York" in zones
    for alias in ("US/Eastern", "Europe/Kiev", "Etc/GMT+5", "GB", "Asia/Calcutta", "UTC"):
        assert alias not in zones
    assert all("/" in z for z in zones)
    html = sales.get(START).content.decode()
    assert '<optgroup label="Europe">' in html
    assert '<option value="America/New_York">New York</option>' in html
    assert "US/Eastern" not in html


def test_T2_offer_fields_are_tied_to_their_tick_and_visible_without_javascript(sales):
    html = sales.get(START).content.decode()
    for offer in ("meetings", "messaging", "calling", "devices"):
        assert f'id="offer-{offer}" data-shown-by="id_{offer}"' in html
    # No hidden attribute in the HTML: only static/js/app.js hides them, so without
    # JavaScript every field stays usable.
    assert 'data-shown-by="id_meetings" hidden' not in html
    assert "<script>" not in html


def test_T2_licenses_per_service_and_devices_count_what_ships(sales):
    data = form_data(
        messaging="on",
        messaging_licenses="12",
        calling="on",
        calling_licenses="7",
        devices="on",
        **{"dev-0-device_type": "desk_phone", "dev-0-quantity": "4"},
    )
    response = sales.post(START, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    org = Organization.objects.get(name="Fresh Co")
    quantities = dict(org.subscriptions.get().services.values_list("type", "quantity"))
    assert quantities == {"messaging": 12, "calling": 7, "devices": 4}


def test_T2_a_ticked_service_needs_its_license_count(sales):
    html = errors(sales.post(START, form_data(messaging_licenses="")))
    assert "How many licenses?" in html


def test_every_new_subscription_gets_a_reference(sales):
    sales.post(START, form_data())
    trial = Organization.objects.get(name="Fresh Co").subscriptions.get()
    assert re.fullmatch(r"TR-\d{8}-[0-9A-F]{6}", trial.reference)
