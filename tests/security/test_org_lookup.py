"""Issue 9, finding 8: look-ups of an existing org by an admin's email (the T3 request form)
are limited per partner user per hour and each one is audited; the answer is still shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import AuditEntry
from tests.factories import make_customer, make_partner, make_user

pytestmark = pytest.mark.django_db
URL = reverse("trials:trial_request")


def form(email: str) -> dict[str, str]:
    return {
        "admin_email": email,
        "messaging": "on",
        "messaging_licenses": "25",
        "length": "30",
        "meetings_edition": "standard",
        "dev-TOTAL_FORMS": "0",
        "dev-INITIAL_FORMS": "0",
        "dev-MIN_NUM_FORMS": "0",
        "dev-MAX_NUM_FORMS": "6",
    }


def test_finding_8_lookups_are_limited_per_user_and_audited(client, settings):
    settings.TRIAL_ORG_LOOKUPS_PER_HOUR = 20
    partner = make_partner(name="Northwind")
    sam = make_user(org=partner, role=Role.SALES_ADMIN)
    other = make_user(org=partner, role=Role.SALES_FULL_ADMIN)
    litware = make_customer(name="Litware")
    make_user(org=litware, role=Role.CUSTOMER_FULL_ADMIN, email="admin@litware.example")
    client.force_login(sam)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for i in range(20):
            html = client.post(URL, form(f"probe{i}@nowhere.example")).content.decode()
            assert "No organization has an admin with this email." in html  # still answered
        response = client.post(URL, form("admin@litware.example"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "the most allowed" in html
        assert not litware.consent_requests.exists()
    rows = AuditEntry.objects.filter(actor=sam, action="trial.org_lookup")
    assert rows.count() == 20
    assert rows.filter(details__found=False).count() == 20
    assert AuditEntry.objects.filter(actor=sam, action="trial.org_lookup_refused").count() == 1
    # The limit is per person: a colleague still looks up; the hour passes for sam.
    client.force_login(other)
    with time_machine.travel(start, tick=False):
        assert (
            client.post(URL, {**form("admin@litware.example"), "confirm": "1"}).status_code == 302
        )
    client.force_login(sam)
    with time_machine.travel(start + timedelta(hours=1, minutes=1), tick=False):
        html = client.post(URL, form("nobody@nowhere.example")).content.decode()
        assert "No organization has an admin with this email." in html
    # The page's look-up and the service's own check are both recorded.
    for found in AuditEntry.objects.filter(actor=other, action="trial.org_lookup"):
        assert found.details["found"] is True
        assert found.org_id_value == litware.pk
