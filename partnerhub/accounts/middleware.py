"""Session lifetimes (OWASP ASVS 3.3): a session ends after ``SESSION_IDLE_MINUTES`` without a
request, and ``SESSION_MAX_HOURS`` after sign-in however active it is.

The last request's time is written back at most once a minute (``TOUCH_EVERY``), so pages do
not pay a session write each.
"""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone, translation

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


class PersonLocaleMiddleware:
    """Issue 14: a signed-in person reads their own language (it wins over the browser's, which
    LocaleMiddleware, before this one, chose for everyone else) and their time zone (their
    own, else their org's, read once per session). Costs no query: the user row is loaded by
    AuthenticationMiddleware, the org's zone is kept in the session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from .language import ORG_TIME_ZONE, language_supported, time_zone_valid, user_time_zone

        user = getattr(request, "user", None)
        chosen = None
        if user is not None and user.is_authenticated:
            chosen = language_supported(user.language)
            if chosen:
                translation.activate(chosen)
                request.LANGUAGE_CODE = chosen
            zone = user.time_zone if time_zone_valid(user.time_zone) else ""
            if not zone:
                zone = request.session.get(ORG_TIME_ZONE) or ""
                if not time_zone_valid(zone):
                    zone = user_time_zone(user)
                    request.session[ORG_TIME_ZONE] = zone
            timezone.activate(zoneinfo.ZoneInfo(zone))
        else:
            timezone.deactivate()
        try:
            response = self.get_response(request)
        finally:
            # The zone is the request's only (a streamed CSV keeps its own, see listview):
            # the next request on this thread, or code after a test client's request, starts
            # from the site's zone. (The language stays, as LocaleMiddleware leaves it.)
            timezone.deactivate()
        # The sign-in page after sign-out speaks the person's language too.
        cookie = settings.LANGUAGE_COOKIE_NAME
        if chosen and request.COOKIES.get(cookie) != chosen:
            response.set_cookie(
                cookie,
                chosen,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
            )
        return response
