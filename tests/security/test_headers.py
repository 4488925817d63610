"""Issue 9, finding 7: a served page's headers under the production settings — CSP with the
required directives, HSTS, X-Frame-Options, __Host- cookies — from gunicorn, the production
server, behind a TLS proxy (X-Forwarded-Proto); and the session lifetimes."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from partnerhub.accounts.choices import Role
from tests.factories import make_partner, make_user

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="partnerhub.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="partnerhub.example.com",
        PARTNERHUB_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "partnerhub.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, **headers: str):
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Host": "partnerhub.example.com", **headers})
    try:
        return opener.open(request, timeout=10)
    except urllib.error.HTTPError as exc:
        return exc


def test_finding_7_served_sign_in_page_headers_in_production(gunicorn):
    plain = fetch(gunicorn + "/login/")
    assert plain.status == 301  # plain HTTP goes to HTTPS
    response = fetch(gunicorn + "/login/", **{"X-Forwarded-Proto": "https"})
    assert response.status == 200
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookies = response.headers.get_all("Set-Cookie")
    csrf = next(c for c in cookies if c.startswith("__Host-csrftoken="))
    assert "Secure" in csrf
    assert "Path=/" in csrf
    assert "Domain" not in csrf
    # No inline script or style in the page: CSP would block them.
    html = response.read().decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html
    assert " style=" not in html


@pytest.mark.django_db
def test_session_cookie_is_host_prefixed_under_production_cookie_settings(client, settings):
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    settings.CSRF_COOKIE_SECURE = True
    user = make_user(org=make_partner(name="Northwind"), role=Role.SALES_ADMIN)
    response = client.post(
        reverse("login"),
        {"username": user.email, "password": "correct-horse-battery"},
        secure=True,
    )
    assert response.status_code == 302
    cookie = response.cookies["__Host-sessionid"]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["path"] == "/"
    assert not cookie["domain"]
    assert cookie["max-age"] == settings.SESSION_MAX_HOURS * 3600


@pytest.mark.django_db
def test_session_idle_timeout_and_absolute_lifetime(client):
    user = make_user(org=make_partner(name="Northwind"), role=Role.PARTNER_READ_ONLY)
    home = reverse("customers:customer_list")
    start = timezone.now()
    idle = timedelta(minutes=settings.SESSION_IDLE_MINUTES)
    with time_machine.travel(start, tick=False):
        client.force_login(user)
        assert client.get(home).status_code == 200
    with time_machine.travel(start + idle + timedelta(minutes=1), tick=False):
        assert client.get(home).status_code == 302  # idle too long: signed out
    # Active every hour, the session still ends SESSION_MAX_HOURS after sign-in.
    with time_machine.travel(start, tick=False):
        client.force_login(user)
    for hour in range(1, settings.SESSION_MAX_HOURS + 2):
        with time_machine.travel(start + timedelta(hours=hour), tick=False):
            status = client.get(home).status_code
        assert status == (200 if hour < settings.SESSION_MAX_HOURS else 302), hour
