"""The bell in the top bar: a partner person's unread count — read with the membership by
``access.partner_access`` on partner pages (no query of its own), else one COUNT query, only
when a page actually shows the bell (it is lazy)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .notifications import unread_count


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user=user))}
