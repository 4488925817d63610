"""The API's base view: body-size limit, Idempotency-Key on POST, form errors as problems.

Idempotency (the Stripe model): the first answer to ``(key, Idempotency-Key)`` is stored with a
hash of the request (method, path, body). A retry with the same body gets the stored answer
(``Idempotent-Replayed: true``) and changes nothing; the same key with another body is a 422.
The record is written in the same transaction as the change, so a request that failed left no
record and may be retried.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partnerhub.accounts.access import (
    ControlHubAccess,
    ControlHubAction,
    PartnerAction,
    PartnerSideAccess,
    controlhub_access,
)
from partnerhub.accounts.api_keys import ApiPrincipal
from partnerhub.accounts.models import IdempotencyRecord, Organization

from .auth import principal_of
from .problems import Conflict, PayloadTooLarge, Unprocessable

IDEMPOTENCY_HEADER = "HTTP_IDEMPOTENCY_KEY"


def form_errors(form: forms.BaseForm | forms.BaseFormSet, prefix: str = "") -> dict[str, Any]:
    """A bound, invalid Django form's errors as a DRF error dict (the same messages the page
    shows: the form is the rule, the API only translates JSON into it)."""
    if isinstance(form, forms.BaseFormSet):
        errors: dict[str, Any] = {}
        for index, sub in enumerate(form.forms):
            for name, messages in sub.errors.items():
                errors[f"{prefix}[{index}].{name}"] = list(messages)
        if form.non_form_errors():
            errors[prefix or "non_field_errors"] = list(form.non_form_errors())
        return errors
    return {
        (f"{prefix}.{name}" if prefix and name != "__all__" else name): list(messages)
        for name, messages in form.errors.items()
    }


class ApiView(APIView):
    """Every API view: the caller's principal, a body-size limit and idempotent POSTs."""

    scopes: dict[str, str] = {"GET": "read"}

    @property
    def principal(self) -> ApiPrincipal:
        return principal_of(self.request)

    def partner_side(self, action: PartnerAction) -> Organization:
        """The key's partner, if its creator may do ``action`` there: the partner side's one
        decision (``access.partner_access``, resolved once when the key was checked). A
        customer's key, or a role without the action, is a 403."""
        access = self.principal.access
        if not isinstance(access, PartnerSideAccess) or not access.may(action):
            raise PermissionDenied
        return access.partner

    def controlhub(self, org_pk: int, action: ControlHubAction) -> Organization:
        """The org of a Control Hub URL as the pages resolve it (``access.controlhub_access``):
        a customer admin of it, or a partner with access; anyone else gets a 404 (another
        tenant's org is never confirmed), a standing without ``action`` a 403."""
        own = self.principal.access
        access: ControlHubAccess | None
        if isinstance(own, ControlHubAccess) and own.org.pk == org_pk:
            access = own  # a customer admin's key in their own org: resolved already
        else:
            access = controlhub_access(self.principal.user, org_pk)  # a partner's customer
        if access is None:
            raise Http404
        if not access.may(action):
            raise PermissionDenied
        return access.org

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            too_big = int(length) > settings.API_MAX_BODY_BYTES
        except ValueError:
            too_big = False
        if too_big:
            raise PayloadTooLarge()
        super().initial(request, *args, **kwargs)

    def json_body(self) -> dict[str, Any]:
        data = self.request.data
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        return data

    def idempotent(self, handler: Callable[[], Response]) -> Response:
        """Run a POST's handler once per Idempotency-Key."""
        key = self.request.META.get(IDEMPOTENCY_HEADER, "").strip()
        if not key:
            return handler()
        if len(key) > 255:
            raise exceptions.ValidationError({"Idempotency-Key": [_("At most 255 characters.")]})
        principal = self.principal
        digest = hashlib.sha256(
            b"\n".join(
                [
                    (self.request.method or "").encode(),
                    self.request.path.encode(),
                    json.dumps(self.request.data, sort_keys=True, default=str).encode(),
                ]
            )
        ).hexdigest()
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        api_key=principal.key, key=key, request_hash=digest
                    )
            except IntegrityError:
                record = IdempotencyRecord.objects.get(api_key=principal.key, key=key)
                if record.request_hash != digest:
                    raise Unprocessable(
                        _("This Idempotency-Key was used with a different request.")
                    ) from None
                if not record.status_code:
                    raise Conflict() from None
                response = Response(record.response_body, status=record.status_code)
                response["Idempotent-Replayed"] = "true"
                return response
            response = handler()
            record.status_code = response.status_code
            record.response_body = response.data
            record.save(update_fields=["status_code", "response_body"])
        return response
