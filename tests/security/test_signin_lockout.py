"""Issue 9, finding 6: brute force. After LOGIN_FAILURE_LIMIT failed sign-ins with one address
(from any IP) or from one IP (with any address), that address or IP is locked for the cool-off,
even with the right password; the sign-in page says so; support staff unlock in the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from partnerhub.accounts.choices import Role
from tests.factories import PASSWORD, make_partner, make_user

pytestmark = pytest.mark.django_db
LOGIN = reverse("login")


@pytest.fixture
def sam(db):
    return make_user(
        org=make_partner(name="Northwind"), role=Role.SALES_ADMIN, email="sam@northwind.example"
    )


def sign_in(client, email, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_finding_6_fifty_wrong_passwords_then_the_right_one_does_not_sign_in(client, sam):
    statuses = [sign_in(client, sam.email, f"wrong-{i}").status_code for i in range(50)]
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, "wrong password"
    assert set(statuses[limit - 1 :]) == {429}
    response = sign_in(client, sam.email, PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)
    html = response.content.decode()
    assert 'id="locked-out"' in html
    assert "Too many failed sign-ins" in html


def test_lockout_by_address_from_any_ip_and_any_case(client, sam):
    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, sam.email.upper() if i % 2 else sam.email, "wrong", ip=f"10.0.1.{i}")
    assert sign_in(client, sam.email, PASSWORD, ip="10.9.9.9").status_code == 429
    assert not signed_in(client)


def test_lockout_by_ip_for_any_address(client, sam):
    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"nobody{i}@example.com", "wrong", ip="10.0.2.1")
    assert sign_in(client, sam.email, PASSWORD, ip="10.0.2.1").status_code == 429
    # Another IP with the right password is fine: the address itself was not attacked.
    assert sign_in(client, sam.email, PASSWORD, ip="10.0.2.2").status_code == 302
    assert signed_in(client)


def test_cool_off_then_sign_in_works(client, sam):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, sam.email, "wrong")
        assert sign_in(client, sam.email, PASSWORD).status_code == 429
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME - timedelta(seconds=30)):
        assert sign_in(client, sam.email, PASSWORD).status_code == 429
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME * 3, tick=False):
        assert sign_in(client, sam.email, PASSWORD).status_code == 302
        assert signed_in(client)


def test_support_staff_unlock_in_the_admin(client, sam):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, sam.email, "wrong")
    attempt = AccessAttempt.objects.get(username=sam.email)
    staff = make_user(
        org=None, email="support@partnerhub.example", is_staff=True, is_superuser=True
    )
    admin = client.__class__()
    admin.force_login(staff)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert sam.email in admin.get(changelist).content.decode()
    # Unlock: the attempt's delete page (bulk delete is off site-wide).
    response = admin.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=sam.email).exists()
    assert sign_in(client, sam.email, PASSWORD).status_code == 302
