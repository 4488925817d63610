"""C5 on the template page: a preview that fails saves nothing and says so of the org (not of
one user); the demo world has an org where the move succeeds."""

from __future__ import annotations

import pytest
from django.urls import reverse

from licensing.choices import ServiceType
from licensing.models import AutoLicenseTemplate, CallingProfile, License
from partnerhub.accounts.models import AuditEntry, Organization, User
from partnerhub.demo.world import demo_world_build
from tests.factories import listed_facts_changed, make_user

from .conftest import calling_service_of

pytestmark = pytest.mark.django_db


def url(org):
    return reverse("controlhub:license_template", kwargs={"org_pk": org.pk})


def test_C5_a_failing_preview_does_not_save_the_template_and_names_no_user(client, world):
    # Ten Calling licenses on the new subscription, twelve users to move onto it.
    world.new.services.filter(type=ServiceType.CALLING).update(quantity=10)
    listed_facts_changed(world.org)
    for i in range(9):
        make_user(org=world.org, email=f"uma.{i + 1}@fjord.example")
    users = User.objects.filter(org=world.org, is_active=True).count()
    assert users == 12
    new_calling = world.new.services.get(type=ServiceType.CALLING).pk
    client.force_login(world.admin)
    for button in ("preview", "apply"):
        response = client.post(url(world.org), {"services": [new_calling], button: "1"})
        page = response.content.decode()
        assert response.status_code == 200
        assert 'id="template-not-saved"' in page
        assert f"Calling on {world.new.reference} has 10 licenses; this change needs 12." in page
        assert "uma." not in page  # an org-wide shortage is not one user's fault
        assert not AutoLicenseTemplate.objects.filter(org=world.org).exists()
        assert not AuditEntry.objects.filter(action="license_template.save").exists()
    assert calling_service_of(world.alice) == world.old


def test_C5_a_failing_preview_leaves_the_saved_template_as_it_was(client, world):
    old_calling = world.old.services.get(type=ServiceType.CALLING).pk
    client.force_login(world.admin)
    client.post(url(world.org), {"services": [old_calling], "keep_existing_licenses": "on"})
    saved = AutoLicenseTemplate.objects.get(org=world.org)
    assert list(saved.services.values_list("pk", flat=True)) == [old_calling]
    world.new.services.filter(type=ServiceType.CALLING).update(quantity=0)
    listed_facts_changed(world.org)
    new_calling = world.new.services.get(type=ServiceType.CALLING).pk
    client.post(url(world.org), {"services": [new_calling], "preview": "1"})
    saved.refresh_from_db()
    assert list(saved.services.values_list("pk", flat=True)) == [old_calling]
    assert saved.keep_existing_licenses is True


def test_C5_a_preview_that_holds_saves_and_shows_the_changes(client, world):
    new_calling = world.new.services.get(type=ServiceType.CALLING).pk
    client.force_login(world.admin)
    response = client.post(url(world.org), {"services": [new_calling], "preview": "1"})
    assert 'id="template-preview"' in response.content.decode()
    template = AutoLicenseTemplate.objects.get(org=world.org)
    assert list(template.services.values_list("pk", flat=True)) == [new_calling]


def test_C5_template_page_shows_used_and_available(client, world):
    client.force_login(world.admin)
    page = client.get(url(world.org)).content.decode()
    assert "1 used · 9 available of 10" in page  # Calling on the old subscription (Alice)


def test_C5_succeeds_in_the_demo_world(client):
    """Litware: move every user's Calling to the second Calling subscription with the template
    (keep existing licenses unticked): it previews, applies, and keeps the calling data."""
    demo_world_build()
    litware = Organization.objects.get(name="Litware Inc")
    admin = User.objects.get(email="admin@litware.example")
    _main, second = sorted(
        litware.subscriptions.filter(services__type=ServiceType.CALLING),
        key=lambda s: s.start_date,
    )
    template = litware.auto_license_template
    ids = [s.pk for s in template.services.all() if s.type != ServiceType.CALLING]
    ids.append(second.services.get(type=ServiceType.CALLING).pk)
    profiles = {
        p.user_id: (p.pk, p.voicemail_pin) for p in CallingProfile.objects.filter(user__org=litware)
    }
    client.force_login(admin)
    preview = client.post(url(litware), {"services": ids, "preview": "1"})
    page = preview.content.decode()
    assert 'id="template-not-saved"' not in page, page
    assert 'id="template-preview"' in page
    response = client.post(url(litware), {"services": ids, "apply": "1"})
    assert response.status_code == 302
    active = User.objects.filter(org=litware, is_active=True).count()
    on_second = License.objects.filter(
        service__subscription=second, service_type=ServiceType.CALLING
    ).count()
    assert on_second == active
    after = {
        p.user_id: (p.pk, p.voicemail_pin) for p in CallingProfile.objects.filter(user__org=litware)
    }
    assert after == profiles  # C1: the data stayed with the users who had it
