"""Control Hub's words: every page its own <title>; licenses as used / available; an expired
trial reads "Trial expired" with the *Expired* tag on its licenses (T11), never both side by
side and never "Provisioned"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from licensing.choices import ProvisioningStatus, ServiceType, SubscriptionKind, SubscriptionState
from tests.factories import make_subscription

pytestmark = pytest.mark.django_db


def url(name, org, **kw):
    return reverse(f"controlhub:{name}", kwargs={"org_pk": org.pk, **kw})


def title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, html[:300]
    return " ".join(match.group(1).split())


def test_every_control_hub_page_has_its_own_title(client, world):
    client.force_login(world.admin)
    pages = [
        url("overview", world.org),
        url("user_list", world.org),
        url("user_add", world.org),
        url("users_add_csv", world.org),
        url("user_detail", world.org, pk=world.alice.pk),
        url("user_licenses_edit", world.org, pk=world.alice.pk),
        url("users_csv_import", world.org),
        url("license_template", world.org),
        url("subscription_list", world.org),
        url("subscription_cancel", world.org, pk=world.old.pk),
        url("org_delete", world.org),
    ]
    titles = {}
    for address in pages:
        response = client.get(address)
        assert response.status_code == 200, address
        titles[address] = title(response.content.decode())
    assert len(set(titles.values())) == len(pages), titles
    assert all("Fjord Logistics" in t and "Control Hub" in t for t in titles.values())


def _expired_trial(world):
    today = timezone.localdate()
    return make_subscription(
        customer=world.org,
        kind=SubscriptionKind.TRIAL,
        state=SubscriptionState.SUSPENDED,
        start=today - timedelta(days=40),
        end=today - timedelta(days=5),
        services={ServiceType.MEETINGS: 5},
        status=ProvisioningStatus.PROVISIONED,
    )


@pytest.mark.parametrize("page", ["overview", "subscription_list"])
def test_T11_expired_trial_not_tagged_twice_and_not_provisioned(client, world, page):
    trial = _expired_trial(world)
    client.force_login(world.admin)
    html = client.get(url(page, world.org)).content.decode()
    row = re.search(rf'<tr id="sub-{trial.pk}">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    state = next(c for c in cells if "Trial expired" in c)
    assert "Expired<" not in state  # the tag is on the licenses, not beside the status
    licenses = next(c for c in cells if "Meetings" in c)
    assert ">Expired<" in licenses
    assert "Provisioned" not in licenses


def test_licenses_read_used_and_available_on_overview_and_subscriptions(client, world):
    client.force_login(world.admin)
    for page in ("overview", "subscription_list"):
        html = client.get(url(page, world.org)).content.decode()
        assert "1 used · 9 available of 10" in html  # Alice's Calling and Messaging
        assert "0 used · 10 available of 10" in html
    edit = client.post(url("user_licenses_edit", world.org, pk=world.alice.pk), {"step": "remove"})
    assert "0 used · 10 available of 10" in edit.content.decode()
