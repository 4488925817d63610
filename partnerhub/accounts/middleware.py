"""Session lifetimes (OWASP ASVS 3.3): a session ends after ``SESSION_IDLE_MINUTES`` without a
request, and ``SESSION_MAX_HOURS`` after sign-in however active it is.

The last request's time is written back at most once a minute (``TOUCH_EVERY``), so pages do
not pay a session write each.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseBase

SIGNED_IN_AT = "_signed_in_at"
SEEN_AT = "_seen_at"
TOUCH_EVERY = 60  # seconds


def session_started(sender: object, request: HttpRequest | None, **kwargs: object) -> None:
    """``user_logged_in`` receiver (connected in AccountsConfig.ready)."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT] = now
        request.session[SEEN_AT] = now


def session_expired(session: dict, now: float) -> bool:
    started = session.get(SIGNED_IN_AT)
    seen = session.get(SEEN_AT, started)
    if started is None or seen is None:
        return False
    return (
        now - float(started) > settings.SESSION_MAX_HOURS * 3600
        or now - float(seen) > settings.SESSION_IDLE_MINUTES * 60
    )


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            if SIGNED_IN_AT not in session:  # a session from before this rule starts now
                session[SIGNED_IN_AT] = session[SEEN_AT] = int(now)
            elif session_expired(session, now):
                logout(request)
            elif now - float(session.get(SEEN_AT, 0)) >= TOUCH_EVERY:
                session[SEEN_AT] = int(now)
        return self.get_response(request)
