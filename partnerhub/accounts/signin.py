"""Sign-in protection (OWASP ASVS 2.2): django-axes counts failed sign-ins per address typed and
per client IP; after ``AXES_FAILURE_LIMIT`` failures either is locked for ``AXES_COOLOFF_TIME``.
Support staff unlock in the admin (*Axes › Access attempts*: delete the rows)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


class SignInGuardBackend(AxesStandaloneBackend):
    """Axes' check for every sign-in through a web request. Sign-ins without a request (a
    shell, ``Client.login`` in tests) are not web traffic and pass to the next backend."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def signin_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The address as the sign-in reads it (case and spaces do not make a fresh counter)."""
    data = credentials or getattr(request, "POST", {}) or {}
    typed = data.get("username") or data.get("email") or ""
    return str(typed).strip().lower()[:255]


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP: behind ``TRUSTED_PROXY_COUNT`` proxies (the TLS proxy in production) it
    is the entry they added to X-Forwarded-For; a forged entry further left is ignored."""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    remote = request.META.get("REMOTE_ADDR")
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part
    ]
    if len(forwarded) >= proxies:
        return forwarded[-proxies]
    return remote
