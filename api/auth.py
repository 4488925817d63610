"""Who is calling, what they may do, how often (issue 15).

``ApiKeyAuthentication`` turns ``Authorization: Bearer ph_…`` into the key's principal (its
creator, their org and current role). ``HasScope`` checks the view's scope for the method;
role rules stay in the services and in ``partnerhub.accounts`` (T1), so a key never does more
than its creator could do on the pages. ``ApiKeyRateThrottle`` counts per key in the cache.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.request import Request

from partnerhub.accounts.api_keys import ApiPrincipal, api_key_authenticate


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiPrincipal] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if not header:
            return None
        if scheme.lower() != self.keyword or not token.strip():
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <API key>'.")
        principal = api_key_authenticate(
            token=token.strip(), ip=request.META.get("REMOTE_ADDR"), now=timezone.now()
        )
        if principal is None:
            raise exceptions.AuthenticationFailed("The API key is unknown, expired or revoked.")
        return principal.user, principal

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API key, ph_…"}


def principal_of(request: Request) -> ApiPrincipal:
    principal = request.auth
    if not isinstance(principal, ApiPrincipal):
        raise exceptions.NotAuthenticated()
    return principal


class HasScope(permissions.BasePermission):
    """The view names a scope per method (``scopes = {"GET": "read", "POST": "trials"}``)."""

    message = "This API key lacks the scope this request needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.auth
        if not isinstance(principal, ApiPrincipal):
            raise exceptions.NotAuthenticated()
        scopes: dict[str, str] = getattr(view, "scopes", {})
        needed = scopes.get(request.method or "GET", scopes.get("*", "read"))
        return needed in principal.scopes


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    """Per key, through the cache (Redis in production); DRF answers 429 with Retry-After."""

    scope = "api_key"

    def get_rate(self) -> str:
        return str(settings.API_RATE_LIMIT)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        principal = request.auth
        if isinstance(principal, ApiPrincipal):
            return f"throttle:api:{principal.key.prefix}"
        return f"throttle:api:ip:{self.get_ident(request)}"
