"""The sign-in is real from the first page (issue 2, item 7)."""

import pytest
from django.urls import reverse

from partnerhub.accounts.choices import Role
from tests.factories import PASSWORD, make_partner, make_user

pytestmark = pytest.mark.django_db


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_home_requires_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sign_in_with_email_and_password(client):
    partner = make_partner(name="Acme Resellers")
    user = make_user(org=partner, role=Role.SALES_ADMIN, email="sam@acme.example")
    response = client.post(reverse("login"), {"username": "SAM@acme.example", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get(reverse("home"), follow=True)  # partners land on their customer list
    assert user.email in page.content.decode() or "Acme Resellers" in page.content.decode()


def test_wrong_password_shows_error_not_500(client):
    make_user(org=None, email="staff@example.com")
    response = client.post(reverse("login"), {"username": "staff@example.com", "password": "nope"})
    assert response.status_code == 200
    assert b"errors" in response.content
