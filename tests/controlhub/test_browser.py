"""What a customer full admin clicks in Control Hub, in a real Chromium (Playwright)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from licensing.calling import service_label
from licensing.choices import ProvisioningStatus, ServiceType, SubscriptionKind, SubscriptionState
from partnerhub.accounts.choices import PartnerAccess
from partnerhub.accounts.models import CustomerRelationship, Organization
from tests.conftest import browser_login
from tests.factories import PASSWORD, make_partner, make_subscription
from trials.choices import ConsentStatus
from trials.models import ConsentRequest

from .conftest import calling_service_of, calling_snapshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_D2_T3_full_admin_sees_the_banner_and_accepts_a_pending_trial(page, world):
    Organization.objects.filter(pk=world.org.pk).update(
        deletion_marked_at=timezone.now() - timedelta(days=1)
    )
    trial_partner = make_partner(name="Trial Partner")
    trial = make_subscription(
        customer=world.org,
        partner=trial_partner,
        kind=SubscriptionKind.TRIAL,
        state=SubscriptionState.PENDING,
        services={ServiceType.MEETINGS: 5},
        status=ProvisioningStatus.PENDING_CONSENT,
    )
    consent = ConsentRequest.objects.create(
        trial=trial,
        partner=trial_partner,
        customer=world.org,
        admin_email=world.admin.email,
        expires_at=timezone.now() + timedelta(days=10),
    )
    browser_login(page, world.admin.email, PASSWORD)
    banner = page.locator("#deletion-banner")
    banner.wait_for()
    assert "will be deleted on" in banner.inner_text()
    page.click("text=Review the request")
    page.check("#id_grant_full_admin")
    page.click("button[name=accept]")
    page.wait_for_selector(".msg-success")
    assert "full admin" in page.inner_text(".msg-success")
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACCEPTED
    rel = CustomerRelationship.objects.get(partner=trial_partner, customer=world.org)
    assert rel.access == PartnerAccess.FULL_ADMIN
    assert "Awaiting provisioning details" in page.content()


def test_C3_full_admin_moves_calling_through_the_review_step_and_keeps_the_data(page, world):
    before = calling_snapshot(world.alice)
    old_calling = world.old.services.get(type=ServiceType.CALLING)
    new_calling = world.new.services.get(type=ServiceType.CALLING)
    browser_login(page, world.admin.email, PASSWORD)
    page.click("nav >> text=Users")
    page.click(f"text={world.alice.email}")
    page.click("#edit-licenses")
    # Seed 004: untick Calling on the old subscription, Next ...
    page.locator("#licenses-step-remove").wait_for()
    assert page.locator(f"#svc-{new_calling.pk}").count() == 0
    page.uncheck(f"#svc-{old_calling.pk}")
    page.click("#licenses-next")
    # ... tick it on the new one, Next ...
    page.locator("#licenses-step-add").wait_for()
    page.check(f"#svc-{new_calling.pk}")
    page.click("#licenses-next")
    # ... validate the changes: nothing is saved yet ...
    review = page.locator("#licenses-review")
    review.wait_for()
    assert "Calling moves from" in review.inner_text()
    assert "stay with the user" in review.inner_text()
    assert calling_service_of(world.alice) == world.old
    # ... and Save: one save, one move.
    page.click("#licenses-save")
    page.wait_for_selector(".msg-success")
    assert "keeps voicemail" in page.inner_text(".msg-success")
    assert service_label(new_calling).split(" [")[1].rstrip("]") in page.inner_text("#licenses")
    assert "+4570101010" in page.inner_text("#numbers")
    assert "+4570101011" in page.inner_text("#numbers")
    assert page.inner_text("#extension") == "2001"
    assert "7391" not in page.inner_text("#voicemail-pin")
    page.click("#reveal-pin")
    assert page.inner_text("#pin-value") == "7391"
    assert calling_service_of(world.alice) == world.new
    assert calling_snapshot(world.alice) == before


def test_C4_full_admin_round_trips_the_csv(page, world, tmp_path):
    before = calling_snapshot(world.alice)
    old_h = service_label(world.old.services.get(type=ServiceType.CALLING))
    new_h = service_label(world.new.services.get(type=ServiceType.CALLING))
    browser_login(page, world.admin.email, PASSWORD)
    page.click("nav >> text=Users")
    with page.expect_download() as info:
        page.click("#csv-export")
    exported = info.value.path().read_text()
    rows = list(csv.DictReader(io.StringIO(exported)))
    for row in rows:
        if row["Email"] == world.alice.email:
            row[old_h], row[new_h] = "FALSE", "TRUE"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    edited = tmp_path / "users.csv"
    edited.write_text(out.getvalue())

    page.click("text=Import CSV")
    page.set_input_files("input[type=file]", str(edited))
    page.click("#csv-upload")
    preview = page.locator("#csv-preview")
    preview.wait_for()
    assert f"{old_h} → {new_h}" in preview.inner_text()
    assert calling_service_of(world.alice) == world.old  # only a preview so far
    page.click("#csv-apply")
    page.wait_for_selector(".msg-success")
    assert "1 users changed" in page.inner_text(".msg-success")
    assert calling_service_of(world.alice) == world.new
    assert calling_snapshot(world.alice) == before


def test_full_admin_invites_a_user_who_sets_a_password_and_signs_in(page, world, browser):
    from partnerhub.core.models import OutboxEmail

    browser_login(page, world.admin.email, PASSWORD)
    page.click("nav >> text=Users")
    page.click("#user-add")
    page.fill("#id_email", "newcomer@fjord.example")
    page.fill("#id_first_name", "Nora")
    page.select_option("#id_role", "customer_read_only")
    page.click("#user-add-form button[type=submit]")
    page.wait_for_selector(".msg-success")
    assert "invited by email" in page.inner_text(".msg-success")
    assert "Read-only admin" in page.inner_text("#user-role")
    email = OutboxEmail.objects.get(kind="user_invitation", to_email="newcomer@fjord.example")
    link = next(w for w in email.body_text.split() if "/invitation/" in w)
    path = link.split("testserver", 1)[1]
    # The invitee, in a browser of their own.
    context = browser.new_context(base_url=page.url.split("/control-hub")[0], locale="en-US")
    invitee = context.new_page()
    invitee.goto(path)
    assert "Join Fjord Logistics" in invitee.inner_text("h1")
    invitee.fill("#id_new_password1", "fjord-river-7391")
    invitee.fill("#id_new_password2", "fjord-river-7391")
    invitee.click("#invitation-form button[type=submit]")
    invitee.wait_for_selector(".msg-success")
    assert "Your password is set" in invitee.inner_text(".msg-success")
    # A read-only admin lands in Control Hub, and sees but does not change.
    assert "/control-hub/" in invitee.url
    assert invitee.locator("#user-add").count() == 0
    invitee.click("nav >> text=Users")
    assert invitee.locator("#user-add").count() == 0
    # The link works once.
    invitee.goto(path)
    assert "already used" in invitee.inner_text("#invitation-refused")
    context.close()
