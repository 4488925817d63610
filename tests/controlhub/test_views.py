"""Control Hub pages: roles, tenant isolation, overview, users, edit, CSV, template, consent,
cancel, delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from customers.models import DeletionTombstone
from licensing.calling import service_label
from licensing.choices import (
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.csv_io import users_csv_export
from licensing.models import License, PhoneNumber
from licensing.tasks import service_provision_task
from partnerhub.accounts.choices import PartnerAccess, Role
from partnerhub.accounts.models import CustomerRelationship, Organization, User
from tests.factories import (
    assign,
    listed_facts_changed,
    make_customer,
    make_partner,
    make_subscription,
    make_user,
)
from trials.choices import ConsentStatus
from trials.models import ConsentRequest

from .conftest import calling_service_of, calling_snapshot

pytestmark = pytest.mark.django_db


def url(name, org, **kw):
    return reverse(f"controlhub:{name}", kwargs={"org_pk": org.pk, **kw})


def every_url(world, org=None, consent_pk=1):
    org = org or world.org
    return [
        url("overview", org),
        url("user_list", org),
        url("user_detail", org, pk=world.alice.pk),
        url("user_licenses_edit", org, pk=world.alice.pk),
        url("users_csv_export", org),
        url("users_csv_import", org),
        url("license_template", org),
        url("subscription_list", org),
        url("subscription_cancel", org, pk=world.old.pk),
        url("trial_request", org, pk=consent_pk),
        url("trial_provision", org, pk=world.old.pk),
        url("org_delete", org),
    ]


def pending_trial(world):
    trial = make_subscription(
        customer=world.org,
        partner=make_partner(name="Trial Partner"),
        kind=SubscriptionKind.TRIAL,
        state=SubscriptionState.PENDING,
        services={ServiceType.MEETINGS: 5},
        status=ProvisioningStatus.PENDING_CONSENT,
    )
    CustomerRelationship.objects.create(
        partner=trial.partner, customer=world.org, access=PartnerAccess.PROVISIONING_ADMIN
    )
    now = timezone.now()
    consent = ConsentRequest.objects.create(
        trial=trial,
        partner=trial.partner,
        customer=world.org,
        admin_email=world.admin.email,
        expires_at=now + timedelta(days=10),
    )
    listed_facts_changed(world.org)  # the consent deadline is the forecast's (T3)
    return consent


# --- who may see and do what -------------------------------------------------------------


def test_another_orgs_admin_gets_404_on_every_page(client, world):
    stranger_org = make_customer(name="Stranger Org")
    stranger = make_user(org=stranger_org, role=Role.CUSTOMER_FULL_ADMIN)
    client.force_login(stranger)
    consent = pending_trial(world)
    for address in every_url(world, consent_pk=consent.pk):
        assert client.get(address).status_code == 404, address
        assert client.post(address).status_code == 404, address


def test_another_orgs_objects_are_404_inside_my_own_control_hub(client, world):
    other = make_customer(name="Other Org")
    outsider = make_user(org=other)
    other_sub = make_subscription(customer=other)
    client.force_login(world.admin)
    for address in (
        url("user_detail", world.org, pk=outsider.pk),
        url("user_licenses_edit", world.org, pk=outsider.pk),
        url("subscription_cancel", world.org, pk=other_sub.pk),
        url("trial_provision", world.org, pk=other_sub.pk),
    ):
        assert client.get(address).status_code == 404, address


def test_read_only_admin_sees_but_every_change_is_403(client, world):
    consent = pending_trial(world)
    client.force_login(world.reader)
    for name in ("overview", "user_list", "subscription_list", "users_csv_export"):
        assert client.get(url(name, world.org)).status_code == 200
    assert client.get(url("user_detail", world.org, pk=world.alice.pk)).status_code == 200
    for address in every_url(world, consent_pk=consent.pk):
        assert client.post(address).status_code == 403, address
    for address in (
        url("user_licenses_edit", world.org, pk=world.alice.pk),
        url("users_csv_import", world.org),
        url("org_delete", world.org),
    ):
        assert client.get(address).status_code == 403, address
    assert calling_service_of(world.alice) == world.old


def test_T3_provisioning_admin_may_only_provision_the_trial(client, world):
    consent = pending_trial(world)
    trial = consent.trial
    trial.services.update(provisioning_status=ProvisioningStatus.AWAITING_DETAILS)
    Subscription = type(trial)
    Subscription.objects.filter(pk=trial.pk).update(state=SubscriptionState.ACTIVE)
    provisioner = make_user(org=trial.partner, role=Role.SALES_ADMIN)
    client.force_login(provisioner)
    assert client.get(url("overview", world.org)).status_code == 200
    for address in every_url(world, consent_pk=consent.pk)[1:]:
        if "provision" in address:
            continue
        assert client.get(address).status_code in (403, 404), address
        assert client.post(address).status_code in (403, 404), address
    # Another subscription of the org (not its trial) is not its to provision.
    assert client.get(url("trial_provision", world.org, pk=world.old.pk)).status_code == 404
    response = client.post(url("trial_provision", world.org, pk=trial.pk))
    assert response.status_code == 302
    # P1: the details are in; the vendor (the worker's task) provisions the services.
    assert set(trial.services.values_list("provisioning_status", flat=True)) == {
        ProvisioningStatus.PROVISIONING
    }
    for service in trial.services.all():
        service_provision_task(service.pk)
    assert set(trial.services.values_list("provisioning_status", flat=True)) == {
        ProvisioningStatus.PROVISIONED
    }


def test_sign_in_lands_a_customer_admin_in_control_hub(client, world):
    client.force_login(world.admin)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == url("overview", world.org)
    page = client.get(response["Location"]).content.decode()
    assert 'class="hub-control"' in page
    assert "Control Hub" in page


# --- overview --------------------------------------------------------------------------------


def test_D2_overview_shows_the_deletion_banner_with_the_planned_date(client, world):
    marked = timezone.now() - timedelta(days=3)
    Organization.objects.filter(pk=world.org.pk).update(deletion_marked_at=marked)
    listed_facts_changed(world.org)
    client.force_login(world.admin)
    page = client.get(url("overview", world.org)).content.decode()
    assert 'id="deletion-banner"' in page
    # Signing in to Control Hub is activity (D5): the countdown restarts from the sign-in, so
    # the planned date is 60 days after it, not after the mark.
    world.org.refresh_from_db()
    assert world.org.last_activity_at > marked
    planned = world.org.last_activity_at + timedelta(days=60)
    assert date_format(planned, "DATE_FORMAT") in page
    assert date_format(marked + timedelta(days=60), "DATE_FORMAT") not in page


def test_D2_no_banner_while_not_marked(client, world):
    client.force_login(world.admin)
    assert 'id="deletion-banner"' not in client.get(url("overview", world.org)).content.decode()


def test_S1_T11_overview_tags_expired_trials_and_suspended_subscriptions(client, world):
    today = timezone.localdate()
    make_subscription(
        customer=world.org,
        kind=SubscriptionKind.TRIAL,
        state=SubscriptionState.SUSPENDED,
        start=today - timedelta(days=40),
        end=today - timedelta(days=5),
    )
    paid = make_subscription(
        customer=world.org,
        state=SubscriptionState.SUSPENDED,
        start=today - timedelta(days=400),
        end=today - timedelta(days=2),
    )
    type(paid).objects.filter(pk=paid.pk).update(period_end_date=today + timedelta(days=58))
    client.force_login(world.admin)
    page = client.get(url("overview", world.org)).content.decode()
    assert ">Expired<" in page
    assert ">Suspended<" in page
    assert "Nordic Resellers" in page  # managing partner


# --- users -----------------------------------------------------------------------------------


def _many_users(world, n):
    users = [User(email=f"u{i:04d}@fjord.example", org=world.org) for i in range(n)]
    User.objects.bulk_create(users)
    created = list(User.objects.filter(email__startswith="u0", org=world.org))
    service = world.new.services.get(type=ServiceType.MESSAGING)
    service.quantity = n
    service.save()
    License.objects.bulk_create(
        License(user=u, service=service, service_type=ServiceType.MESSAGING) for u in created
    )
    listed_facts_changed(world.org)


USER_LIST_QUERIES = 10  # +1: the invitations of the users on the page


@pytest.mark.parametrize("per_page", [25, 100])
def test_user_list_query_count_is_fixed_whatever_the_page_size(
    client, world, django_assert_num_queries, per_page
):
    _many_users(world, 120)
    client.force_login(world.admin)
    address = url("user_list", world.org) + f"?per_page={per_page}&service=messaging"
    with django_assert_num_queries(USER_LIST_QUERIES):
        response = client.get(address)
    assert response.status_code == 200
    assert len(response.context["users"]) == per_page


def test_user_list_searches_filters_and_paginates(client, world):
    _many_users(world, 60)
    client.force_login(world.admin)
    page = client.get(url("user_list", world.org), {"q": "alice"}).content.decode()
    assert world.alice.email in page
    assert "u0001@" not in page
    page = client.get(url("user_list", world.org), {"service": "calling"}).content.decode()
    assert world.alice.email in page
    assert "u0001@" not in page
    page = client.get(url("user_list", world.org), {"q": "+4570101011"}).content.decode()
    assert world.alice.email in page
    response = client.get(url("user_list", world.org), {"per_page": 25, "page": 3})
    assert response.context["page"].number == 3
    assert "page=2" in response.content.decode()


def test_user_page_shows_calling_data_with_the_pin_masked_until_revealed(client, world):
    client.force_login(world.admin)
    page = client.get(url("user_detail", world.org, pk=world.alice.pk)).content.decode()
    assert "2001" in page
    assert "+4570101010" in page
    assert "7391" not in page
    # Call settings in words, not a dump of stored keys.
    assert "Calls forward to +4520000000" in page
    assert "Do not disturb: off" in page
    assert "forward_to" not in page
    assert "do_not_disturb" not in page
    revealed = client.get(url("user_detail", world.org, pk=world.alice.pk), {"reveal": "pin"})
    assert "7391" in revealed.content.decode()


def edit_steps(client, address, *, keep, add, confirm=False):
    """C3, seed 004: step 1 (untick what goes, Next), step 2 (tick what comes, Next = the
    review), step 3 (Save). Returns the three responses."""
    one = client.post(address, {"step": "remove", "keep": keep})
    two = client.post(address, {"step": "add", "keep": keep, "add": add})
    data = {"step": "save", "keep": keep, "add": add}
    if confirm:
        data["confirm_calling_loss"] = "on"
    return one, two, client.post(address, data)


def test_C3_edit_licenses_page_moves_calling_in_one_save_and_keeps_data(client, world):
    before = calling_snapshot(world.alice)
    client.force_login(world.admin)
    address = url("user_licenses_edit", world.org, pk=world.alice.pk)
    first = client.get(address)
    assert first.status_code == 200
    old_calling = world.old.services.get(type=ServiceType.CALLING).pk
    new_calling = world.new.services.get(type=ServiceType.CALLING).pk
    old_messaging = world.old.services.get(type=ServiceType.MESSAGING).pk
    # Step 1 lists what the user holds, ticked.
    assert f'id="svc-{old_calling}"' in first.content.decode()
    assert f'id="svc-{new_calling}"' not in first.content.decode()
    one, review, saved = edit_steps(client, address, keep=[old_messaging], add=[new_calling])
    # Step 2 offers Calling on the new subscription and says why.
    assert f'id="svc-{new_calling}"' in one.content.decode()
    assert "tick Calling on the new subscription to move it" in one.content.decode()
    # The review validates and says what happens; nothing is written before Save.
    page = review.content.decode()
    assert 'id="review-move"' in page
    assert "voicemail, PIN, numbers and call settings stay with the user" in page
    assert saved.status_code == 302
    assert calling_service_of(world.alice) == world.new
    assert calling_snapshot(world.alice) == before
    # One save, one move: one audit row of the move, no removal and re-add of Calling.
    from partnerhub.accounts.models import AuditEntry

    rows = AuditEntry.objects.filter(action="license.change", target=world.alice.email)
    assert rows.count() == 1
    assert rows.get().details["calling_moved"] is not None
    assert rows.get().details["removed"] == rows.get().details["added"] == []


def test_C3_the_review_step_writes_nothing(client, world):
    client.force_login(world.admin)
    address = url("user_licenses_edit", world.org, pk=world.alice.pk)
    new_calling = world.new.services.get(type=ServiceType.CALLING).pk
    client.post(address, {"step": "remove", "keep": []})
    review = client.post(address, {"step": "add", "keep": [], "add": [new_calling]})
    assert 'id="licenses-save"' in review.content.decode()
    assert calling_service_of(world.alice) == world.old
    assert License.objects.filter(user=world.alice).count() == 2


def test_C3_review_shows_an_org_level_shortage_and_offers_no_save(client, world):
    world.new.services.filter(type=ServiceType.CALLING).update(quantity=0)
    listed_facts_changed(world.org)
    client.force_login(world.admin)
    address = url("user_licenses_edit", world.org, pk=world.alice.pk)
    new_calling = world.new.services.get(type=ServiceType.CALLING).pk
    review = client.post(address, {"step": "add", "keep": [], "add": [new_calling]})
    page = review.content.decode()
    assert 'id="licenses-errors"' in page
    assert f"Calling on {world.new.reference} has 0 licenses; this change needs 1." in page
    assert 'id="licenses-save"' not in page
    saved = client.post(address, {"step": "save", "keep": [], "add": [new_calling]})
    assert saved.status_code == 200
    assert calling_service_of(world.alice) == world.old


def test_C2_edit_licenses_names_the_user_and_offers_the_move(client, world):
    client.force_login(world.admin)
    address = url("user_licenses_edit", world.org, pk=world.alice.pk)
    old_messaging = world.old.services.get(type=ServiceType.MESSAGING).pk
    _one, review, response = edit_steps(client, address, keep=[old_messaging], add=[])
    assert "Loses Calling" in review.content.decode()
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="calling-at-risk"' in page
    assert world.alice.email in page
    assert "move their Calling license" in page
    assert calling_service_of(world.alice) == world.old
    *_rest, response = edit_steps(client, address, keep=[old_messaging], add=[], confirm=True)
    assert response.status_code == 302
    assert not License.objects.filter(user=world.alice, service_type="calling").exists()


def test_two_calling_boxes_are_a_field_error(client, world):
    client.force_login(world.admin)
    address = url("user_licenses_edit", world.org, pk=world.alice.pk)
    old_calling = world.old.services.get(type=ServiceType.CALLING).pk
    new_calling = world.new.services.get(type=ServiceType.CALLING).pk
    response = client.post(address, {"step": "add", "keep": [old_calling], "add": [new_calling]})
    assert response.status_code == 200
    assert "Tick Calling on one subscription only" in response.content.decode()
    response = client.post(address, {"step": "save", "keep": [old_calling], "add": [new_calling]})
    assert response.status_code == 200
    assert calling_service_of(world.alice) == world.old


def test_bad_input_is_never_a_500(client, world):
    client.force_login(world.admin)
    address = url("user_licenses_edit", world.org, pk=world.alice.pk)
    for step in ("remove", "add", "save", "back", "restart", "zz"):
        junk = {"step": step, "keep": ["abc", "999999"], "add": ["-1", "x"]}
        assert client.post(address, junk).status_code == 200
    bad_filters = {"subscription": "x", "page": "zz"}
    assert client.get(url("user_list", world.org), bad_filters).status_code == 200


# --- CSV through the pages -------------------------------------------------------------------


def test_C4_csv_upload_previews_then_applies(client, world):
    before = calling_snapshot(world.alice)
    client.force_login(world.admin)
    export = client.get(url("users_csv_export", world.org))
    assert export["Content-Type"] == "text/csv"
    text = export.content.decode()
    old_h = service_label(world.old.services.get(type=ServiceType.CALLING))
    new_h = service_label(world.new.services.get(type=ServiceType.CALLING))
    header, *lines = text.splitlines()
    cols = header.split(",")
    edited = [header]
    for line in lines:
        cells = line.split(",")
        if cells[0] == world.alice.email:
            cells[cols.index(old_h)] = "FALSE"
            cells[cols.index(new_h)] = "TRUE"
        edited.append(",".join(cells))
    upload = SimpleUploadedFile("users.csv", "\n".join(edited).encode(), "text/csv")
    preview = client.post(url("users_csv_import", world.org), {"file": upload})
    page = preview.content.decode()
    assert 'id="csv-preview"' in page
    assert f"{old_h} → {new_h}" in page
    assert calling_service_of(world.alice) == world.old  # not yet
    token = preview.context["apply_form"].initial["token"]
    response = client.post(url("users_csv_import", world.org), {"apply": "1", "token": token})
    assert response.status_code == 302
    assert calling_service_of(world.alice) == world.new
    assert calling_snapshot(world.alice) == before


def test_C4_bad_csv_upload_lists_errors_and_changes_nothing(client, world):
    client.force_login(world.admin)
    text = users_csv_export(org=world.org).replace("FALSE", "maybe", 1)
    before = sorted(License.objects.values_list("pk", "service_id"))
    upload = SimpleUploadedFile("users.csv", text.encode(), "text/csv")
    response = client.post(url("users_csv_import", world.org), {"file": upload})
    page = response.content.decode()
    assert 'id="csv-errors"' in page
    assert "is not TRUE or FALSE" in page
    assert 'id="csv-preview"' not in page
    assert sorted(License.objects.values_list("pk", "service_id")) == before
    binary = SimpleUploadedFile("users.csv", b"\xff\xfe\x00bad", "text/csv")
    response = client.post(url("users_csv_import", world.org), {"file": binary})
    assert response.status_code == 200
    assert "UTF-8" in response.content.decode()


# --- template --------------------------------------------------------------------------------


def test_C5_template_page_applies_with_keep_unticked_and_keeps_calling_data(client, world):
    before = calling_snapshot(world.alice)
    client.force_login(world.admin)
    new_calling = world.new.services.get(type=ServiceType.CALLING).pk
    new_messaging = world.new.services.get(type=ServiceType.MESSAGING).pk
    response = client.post(
        url("license_template", world.org),
        {"services": [new_calling, new_messaging], "apply": "1"},
    )
    assert response.status_code == 302
    assert calling_service_of(world.alice) == world.new
    assert calling_snapshot(world.alice) == before
    assert world.org.auto_license_template.keep_existing_licenses is False


# --- T3 consent ------------------------------------------------------------------------------


def test_T3_full_admin_accepts_with_full_access(client, world):
    consent = pending_trial(world)
    client.force_login(world.admin)
    overview = client.get(url("overview", world.org)).content.decode()
    assert "Trial Partner asks to start a trial" in overview
    address = url("trial_request", world.org, pk=consent.pk)
    assert "Allow the partner full admin access" in client.get(address).content.decode()
    response = client.post(address, {"accept": "1", "grant_full_admin": "on"})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACCEPTED
    assert consent.grant_full_admin is True
    rel = CustomerRelationship.objects.get(partner=consent.partner, customer=world.org)
    assert rel.access == PartnerAccess.FULL_ADMIN
    consent.trial.refresh_from_db()
    assert consent.trial.state == SubscriptionState.ACTIVE
    assert set(consent.trial.services.values_list("provisioning_status", flat=True)) == {
        ProvisioningStatus.AWAITING_DETAILS
    }


def test_T3_accept_unticked_makes_a_provisioning_admin(client, world):
    consent = pending_trial(world)
    client.force_login(world.admin)
    client.post(url("trial_request", world.org, pk=consent.pk), {"accept": "1"})
    rel = CustomerRelationship.objects.get(partner=consent.partner, customer=world.org)
    assert rel.access == PartnerAccess.PROVISIONING_ADMIN


def test_T3_decline_cancels_the_trial_and_removes_the_relationship(client, world):
    consent = pending_trial(world)
    client.force_login(world.admin)
    client.post(url("trial_request", world.org, pk=consent.pk), {"decline": "1"})
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.DECLINED
    consent.trial.refresh_from_db()
    assert consent.trial.state == SubscriptionState.CANCELLED
    assert not CustomerRelationship.objects.filter(
        partner=consent.partner, customer=world.org
    ).exists()


def test_T3_only_full_admins_answer(client, world):
    consent = pending_trial(world)
    client.force_login(world.reader)
    assert client.get(url("trial_request", world.org, pk=consent.pk)).status_code == 403
    partner_admin = make_user(org=world.partner, role=Role.PARTNER_FULL_ADMIN)
    client.force_login(partner_admin)
    assert client.post(url("trial_request", world.org, pk=consent.pk)).status_code == 403


# --- cancel and delete -----------------------------------------------------------------------


def test_C2_cancel_page_names_users_and_offers_the_move(client, world):
    client.force_login(world.admin)
    address = url("subscription_cancel", world.org, pk=world.old.pk)
    page = client.get(address).content.decode()
    assert world.alice.email in page
    assert "Move them to another subscription first" in page
    response = client.post(address, {})
    assert response.status_code == 200
    world.old.refresh_from_db()
    assert world.old.state == SubscriptionState.ACTIVE
    response = client.post(address, {"confirm_calling_loss": "on"})
    assert response.status_code == 302
    world.old.refresh_from_db()
    assert world.old.state == SubscriptionState.CANCELLED


def test_D9_delete_now_needs_the_typed_name_and_leaves_a_tombstone(client, world):
    client.force_login(world.admin)
    address = url("org_delete", world.org)
    response = client.post(address, {"name": "Fjord"})
    assert response.status_code == 200
    assert Organization.objects.filter(pk=world.org.pk).exists()
    org_pk = world.org.pk
    response = client.post(address, {"name": "Fjord Logistics"})
    assert response.status_code == 200
    assert "Organization deleted" in response.content.decode()
    assert not Organization.objects.filter(pk=org_pk).exists()
    assert not User.objects.filter(org_id=org_pk).exists()
    assert not PhoneNumber.objects.filter(org_id=org_pk).exists()
    tomb = DeletionTombstone.objects.get(org_id_value=org_pk)
    assert tomb.name == "Fjord Logistics"
    assert tomb.reason == "customer_request"
    # Signed out: the account went with the org.
    assert client.get(reverse("home")).status_code == 302


def test_D9_partner_full_admin_cannot_delete_the_customer(client, world):
    client.force_login(make_user(org=world.partner, role=Role.PARTNER_FULL_ADMIN))
    assert client.get(url("overview", world.org)).status_code == 200
    assert client.post(url("org_delete", world.org), {"name": "Fjord Logistics"}).status_code == 403


def test_partner_full_admin_can_move_calling(client, world):
    client.force_login(make_user(org=world.partner, role=Role.PARTNER_FULL_ADMIN))
    new_calling = world.new.services.get(type=ServiceType.CALLING).pk
    address = url("user_licenses_edit", world.org, pk=world.alice.pk)
    edit_steps(client, address, keep=[], add=[new_calling])
    # Messaging was unticked: only that license goes; Calling moved.
    assert calling_service_of(world.alice) == world.new


def test_new_subscription_assignment_needs_a_provisioned_active_service(client, world):
    bob = make_user(org=world.org)
    world.new.services.filter(type=ServiceType.MESSAGING).update(
        provisioning_status=ProvisioningStatus.PROVISIONING
    )
    listed_facts_changed(world.new.customer_id)
    client.force_login(world.admin)
    response = client.post(
        url("user_licenses_edit", world.org, pk=bob.pk),
        {"step": "save", "add": [world.new.services.get(type=ServiceType.MESSAGING).pk]},
    )
    assert response.status_code == 200
    assert not License.objects.filter(user=bob).exists()
    assign(user=bob, subscription=world.old, service_type=ServiceType.MESSAGING)


def test_C5_template_preview_changes_nothing_until_applied(client, world):
    client.force_login(world.admin)
    new_calling = world.new.services.get(type=ServiceType.CALLING).pk
    response = client.post(
        url("license_template", world.org), {"services": [new_calling], "preview": "1"}
    )
    page = response.content.decode()
    assert 'id="template-preview"' in page
    old_h = service_label(world.old.services.get(type=ServiceType.CALLING))
    assert f"{old_h} → " in page
    assert calling_service_of(world.alice) == world.old


def test_T3_partner_waiting_for_consent_has_no_access_yet(client, world):
    consent = pending_trial(world)
    client.force_login(make_user(org=consent.partner, role=Role.SALES_ADMIN))
    assert client.get(url("overview", world.org)).status_code == 404
    assert client.get(url("trial_provision", world.org, pk=consent.trial.pk)).status_code == 404


def test_C2_csv_that_drops_calling_asks_before_deleting_calling_data(client, world):
    client.force_login(world.admin)
    old_h = service_label(world.old.services.get(type=ServiceType.CALLING))
    text = f"Email,{old_h}\n{world.alice.email},FALSE\n"
    upload = SimpleUploadedFile("users.csv", text.encode(), "text/csv")
    preview = client.post(url("users_csv_import", world.org), {"file": upload})
    assert "Calling data deleted" in preview.content.decode()
    token = preview.context["apply_form"].initial["token"]
    response = client.post(url("users_csv_import", world.org), {"apply": "1", "token": token})
    assert response.status_code == 200
    assert 'id="calling-at-risk"' in response.content.decode()
    assert calling_service_of(world.alice) == world.old
    response = client.post(
        url("users_csv_import", world.org),
        {"apply": "1", "token": token, "confirm_calling_loss": "on"},
    )
    assert response.status_code == 302
    assert not License.objects.filter(user=world.alice, service_type=ServiceType.CALLING).exists()


def test_C4_apply_with_a_stale_token_changes_nothing(client, world):
    client.force_login(world.admin)
    response = client.post(url("users_csv_import", world.org), {"apply": "1", "token": "nope"})
    assert response.status_code == 302
    assert calling_service_of(world.alice) == world.old


def test_signed_out_people_are_sent_to_sign_in(client, world):
    response = client.get(url("overview", world.org))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
