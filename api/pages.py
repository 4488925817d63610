"""Settings pages (server-rendered): API keys and webhook endpoints (issue 15).

API keys: every admin (partner or customer) sees their own keys; a full admin sees and revokes
every key of their org. A new token is shown once, on the page that created it. Webhooks: the
partner's full admins register endpoints, rotate secrets, read the attempt log, replay.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from partnerhub.accounts.access import ControlHubAccess, PartnerAction, PartnerSideAccess
from partnerhub.accounts.api_keys import (
    SCOPES,
    api_key_create,
    api_key_revoke,
    manages_every_key,
    person_access,
    scopes_allowed,
)
from partnerhub.accounts.models import (
    ApiKey,
    Organization,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from partnerhub.accounts.webhooks import (
    EVENT_TYPES,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_set_active,
    webhook_replay,
    webhook_secret_rotate,
)

from .forms import ApiKeyForm, WebhookEndpointForm


def _apply_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


class _SettingsView(LoginRequiredMixin, View):
    access: PartnerSideAccess | ControlHubAccess
    org: Organization
    role: str

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        access = person_access(user=request.user)
        if access is None:
            raise PermissionDenied
        self.access = access
        self.org = access.partner if isinstance(access, PartnerSideAccess) else access.org
        self.role = access.role
        return super().dispatch(request, *args, **kwargs)

    @property
    def actor(self) -> User:
        return self.request.user  # type: ignore[return-value]


class ApiKeyListView(_SettingsView):
    """Create keys (the token is shown once) and list them with their last use."""

    def keys(self) -> QuerySet[ApiKey]:
        qs = ApiKey.objects.filter(org=self.org).select_related("created_by")
        if not manages_every_key(self.access):
            qs = qs.filter(created_by=self.actor)
        return qs

    def render_page(self, form: ApiKeyForm, token: str = "") -> HttpResponse:
        return render(
            self.request,
            "api/apikey_list.html",
            {
                "form": form,
                "keys": self.keys(),
                "token": token,
                "scope_labels": SCOPES,
                "read_only": scopes_allowed(role=self.role) == ["read"],
            },
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page(ApiKeyForm(allowed=scopes_allowed(role=self.role)))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ApiKeyForm(request.POST, allowed=scopes_allowed(role=self.role))
        if form.is_valid():
            days = form.cleaned_data["expires_in_days"]
            try:
                _key, token = api_key_create(
                    actor=self.actor,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_in_days=int(days) if days else None,
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                fresh = ApiKeyForm(allowed=scopes_allowed(role=self.role))
                return self.render_page(fresh, token=token)
        return self.render_page(form)


class ApiKeyRevokeView(ApiKeyListView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        return redirect("api_settings:apikey_list")

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        key = get_object_or_404(self.keys(), pk=pk)
        api_key_revoke(key=key, actor=self.actor)
        messages.success(request, _("The key %(name)s no longer works.") % {"name": key.name})
        return redirect("api_settings:apikey_list")


class _WebhookView(_SettingsView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().dispatch(request, *args, **kwargs)
        return response

    def endpoints(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.filter(partner=self.org)

    def check(self) -> None:
        access = self.access
        if not (isinstance(access, PartnerSideAccess) and access.may(PartnerAction.INTEGRATIONS)):
            raise PermissionDenied


class WebhookListView(_WebhookView):
    def render_page(self, form: WebhookEndpointForm, secret: str = "") -> HttpResponse:
        return render(
            self.request,
            "api/webhook_list.html",
            {"form": form, "endpoints": self.endpoints(), "secret": secret, "labels": EVENT_TYPES},
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        self.check()
        return self.render_page(WebhookEndpointForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        self.check()
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                _endpoint, secret = webhook_endpoint_create(
                    partner=self.org,
                    actor=self.actor,
                    url=form.cleaned_data["url"],
                    event_types=form.cleaned_data["event_types"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                return self.render_page(WebhookEndpointForm(), secret=secret)
        return self.render_page(form)


class WebhookDetailView(_WebhookView):
    """One endpoint: its recent deliveries with every attempt; rotate, turn off/on, replay."""

    def get(self, request: HttpRequest, pk: int, secret: str = "") -> HttpResponse:
        self.check()
        endpoint = get_object_or_404(self.endpoints(), pk=pk)
        deliveries = (
            WebhookDelivery.objects.filter(endpoint=endpoint)
            .select_related("event")
            .prefetch_related(
                Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-at"))
            )
            .order_by("-event__created")[:50]
        )
        return render(
            request,
            "api/webhook_detail.html",
            {
                "endpoint": endpoint,
                "deliveries": deliveries,
                "secrets": endpoint.secrets.all(),
                "secret": secret,
                "labels": EVENT_TYPES,
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.check()
        endpoint = get_object_or_404(self.endpoints(), pk=pk)
        action = request.POST.get("action", "")
        if action == "rotate":
            secret = webhook_secret_rotate(endpoint=endpoint, actor=self.actor)
            return self.get(request, pk, secret=secret.secret)
        if action in ("enable", "disable"):
            webhook_endpoint_set_active(
                endpoint=endpoint, actor=self.actor, active=action == "enable"
            )
            messages.success(request, _("Saved."))
        elif action == "delete":
            webhook_endpoint_delete(endpoint=endpoint, actor=self.actor)
            messages.success(request, _("The endpoint was removed."))
            return redirect("api_settings:webhook_list")
        elif action == "replay":
            delivery = get_object_or_404(
                WebhookDelivery.objects.select_related("endpoint__partner"),
                endpoint=endpoint,
                pk=request.POST.get("delivery")
                if str(request.POST.get("delivery", "")).isdigit()
                else 0,
            )
            webhook_replay(delivery=delivery, actor=self.actor)
            messages.success(request, _("The event is being sent again."))
        return redirect("api_settings:webhook_detail", pk=endpoint.pk)
