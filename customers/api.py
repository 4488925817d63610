"""POST /api/activity/: outside systems (messaging, the app's token service) report user
activity (D5), with the time it happened.

Authentication: ``Authorization: Bearer <ACTIVITY_API_TOKEN>`` (settings, from the environment),
compared in constant time. No token configured means the endpoint refuses everything.

Body: one event or ``{"events": [...]}`` (at most 1,000), each
``{"email": "...", "kind": "app_sign_in|message|token_refresh|control_hub_sign_in",
"at": "2027-03-01T09:30:00+00:00", "source": "messaging"}`` (``at`` and ``source`` optional).
All events are recorded or none: a bad one gives 400 listing every bad event by index.
Limits (bad input is a 400, never a 500): a body of at most ``ACTIVITY_API_MAX_BODY_BYTES``,
JSON nested at most ``MAX_JSON_DEPTH`` deep, text fields without NUL or other control
characters, an email of at most 254 characters.
"""

from __future__ import annotations

import hmac
import json
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from partnerhub.accounts.models import User

from .choices import ActivityKind
from .services import activity_record

MAX_EVENTS = 1000
MAX_JSON_DEPTH = 8  # {"events": [{...}]} needs 3
MAX_EMAIL_LENGTH = 254
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of outside systems drift a little


def _error(status: int, error: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": error, "message": message, **extra}, status=status)


def _authenticated(request: HttpRequest) -> bool:
    expected = getattr(settings, "ACTIVITY_API_TOKEN", "") or ""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not token.strip():
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def _json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets (outside strings) nest deeper than ``limit``. Checked before parsing:
    ``json.loads`` of 100,000 nested brackets is a RecursionError."""
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def _text_error(value: str) -> bool:
    """NUL bytes (which PostgreSQL refuses in text) and other control characters."""
    return bool(_CONTROL.search(value))


def _parse_event(raw: Any, now: datetime) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    errors: list[dict[str, str]] = []
    if not isinstance(raw, dict):
        return None, [{"field": "", "message": "An event is a JSON object."}]
    email = raw.get("email")
    if (
        not isinstance(email, str)
        or "@" not in email
        or len(email) > MAX_EMAIL_LENGTH
        or _text_error(email)
    ):
        errors.append({"field": "email", "message": "A user's email address is required."})
    kind = raw.get("kind")
    if kind not in ActivityKind.values:
        errors.append({"field": "kind", "message": f"One of: {', '.join(ActivityKind.values)}."})
    at: datetime = now
    if raw.get("at") is not None:
        try:
            if not isinstance(raw["at"], str) or len(raw["at"]) > 40:
                raise ValueError
            at = datetime.fromisoformat(raw["at"].replace("Z", "+00:00"))
        except ValueError:
            errors.append({"field": "at", "message": "An ISO-8601 date-time is required."})
        else:
            if timezone.is_naive(at):
                errors.append({"field": "at", "message": "Give a UTC offset (e.g. +00:00 or Z)."})
            elif at > now + FUTURE_TOLERANCE:
                errors.append({"field": "at", "message": "The time lies in the future."})
    source = raw.get("source", "api")
    if not isinstance(source, str) or not source.strip() or len(source) > 64 or _text_error(source):
        errors.append({"field": "source", "message": "A name of at most 64 characters."})
    if errors:
        return None, errors
    return {
        "email": str(email).strip().lower(),
        "kind": kind,
        "at": at,
        "source": str(source).strip(),
    }, []


@csrf_exempt
def activity_report(request: HttpRequest) -> JsonResponse:
    """D5: record activity reported by an outside system."""
    if request.method != "POST":
        response = _error(405, "method_not_allowed", "Use POST.")
        response["Allow"] = "POST"
        return response
    if not _authenticated(request):
        response = _error(
            401, "unauthorized", "Send 'Authorization: Bearer <token>' with a valid token."
        )
        response["WWW-Authenticate"] = 'Bearer realm="activity"'
        return response
    limit = int(getattr(settings, "ACTIVITY_API_MAX_BODY_BYTES", 512 * 1024))
    length = request.headers.get("Content-Length", "0")
    if (length.isdigit() and int(length) > limit) or len(request.body) > limit:
        return _error(413, "too_large", f"The body is larger than {limit} bytes.")
    try:
        text = request.body.decode("utf-8")
        if _json_too_deep(text):
            return _error(400, "too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        body = json.loads(text or "null")
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError covers JSONDecodeError and integers longer than Python reads.
        return _error(400, "invalid_json", "The body is not valid JSON.")
    raw_events = body.get("events") if isinstance(body, dict) and "events" in body else [body]
    if not isinstance(raw_events, list) or not raw_events:
        return _error(400, "invalid", "Send one event or a non-empty list under 'events'.")
    if len(raw_events) > MAX_EVENTS:
        return _error(400, "too_many", f"At most {MAX_EVENTS} events per request.")
    now = timezone.now()
    events: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_events):
        event, event_errors = _parse_event(raw, now)
        errors.extend({"index": index, **e} for e in event_errors)
        if event is not None:
            events.append({"index": index, **event})
    users = {u.email: u for u in User.objects.filter(email__in={e["email"] for e in events})}
    for event in events:
        if event["email"] not in users:
            errors.append(
                {"index": event["index"], "field": "email", "message": "No user has this email."}
            )
    if errors:
        errors.sort(key=lambda e: e["index"])
        return _error(400, "invalid", "No event was recorded.", errors=errors)
    recorded = 0
    with transaction.atomic():
        for event in events:
            if activity_record(
                user=users[event["email"]],
                kind=event["kind"],
                at=event["at"],
                source=event["source"],
            ):
                recorded += 1
    return JsonResponse({"recorded": recorded, "ignored": len(events) - recorded})


app_name = "activity_api"
urlpatterns = [path("", activity_report, name="report")]
