"""The rules' calendar (issue 14). Every day a rule counts (a trial's end, a deletion date, a
setup link's expiry day) is a day in the site's time zone (``settings.TIME_ZONE``, UTC), whoever
is looking: a person's own time zone (activated per request by
``partnerhub.accounts.middleware.PersonLocaleMiddleware``) changes how instants are *shown*,
never which day it is for the rules, so a trial started from Taipei at 23:30 and one started
from New York at the same instant get the same dates."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone


def business_today() -> date:
    """Today in the rules' calendar."""
    return business_date(timezone.now())


def business_date(at: datetime) -> date:
    """The day of the rules' calendar that ``at`` falls on."""
    return timezone.localtime(at, timezone.get_default_timezone()).date()
