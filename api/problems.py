"""RFC 9457 problem details for every 4xx (and the rare 5xx) of the API.

``{"type", "title", "status", "detail", "errors": [{"field", "message"}]}`` with content type
``application/problem+json``. Validation errors name their field (``""`` for the whole
request, ``rows[3].email`` for an item of a list).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_TYPE = "https://partnerhub.local/problems/"
CONTENT_TYPE = "application/problem+json"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "payload_too_large"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy("The request cannot be processed.")
    default_code = "unprocessable"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("A request with this idempotency key is still being processed.")
    default_code = "conflict"


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error dict/list → a flat list of field errors."""
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for name, value in detail.items():
            field = "" if name in ("non_field_errors", "__all__") else str(name)
            out += _flatten(value, f"{prefix}.{field}" if prefix and field else prefix or field)
        return out
    if isinstance(detail, list):
        if detail and all(isinstance(d, str) for d in detail):
            return [{"field": prefix, "message": str(d)} for d in detail]
        out = []
        for index, value in enumerate(detail):
            if value:
                out += _flatten(value, f"{prefix}[{index}]")
        return out
    return [{"field": prefix, "message": str(detail)}]


def django_validation_detail(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def problem(
    status_code: int,
    title: str,
    detail: str = "",
    errors: list[dict[str, str]] | None = None,
    code: str = "",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + (code or str(status_code)),
        "title": title,
        "status": status_code,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    return body


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_validation_detail(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = problem(
            response.status_code,
            _("Your request has invalid fields."),
            errors=_flatten(exc.detail),
            code="validation",
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else ""
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else ""
        body = problem(
            response.status_code,
            str(detail) if isinstance(detail, str) else _("Error"),
            code=code if isinstance(code, str) else "",
        )
    response.data = body
    response.content_type = CONTENT_TYPE
    return response


def problem_response(request: HttpRequest, status_code: int, title: str) -> JsonResponse:
    """A problem outside DRF (unknown API URL, the 404/405 of plain Django views)."""
    return JsonResponse(problem(status_code, title), status=status_code, content_type=CONTENT_TYPE)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return problem_response(request, 404, _("Not found."))
