"""Which language and time zone a person reads (issue 14): pages, emails and CSV files.

One place decides it, for every surface:

- a signed-in person reads their stored ``User.language`` (chosen with the picker, or taken
  from the browser at their first sign-in), which wins over Accept-Language; their time zone
  is ``User.time_zone``, else their org's (``Organization.time_zone``, else the country's).
  ``PersonLocaleMiddleware`` activates both for each request;
- an email is rendered in its recipient's language and time zone (``recipient_locales``,
  registered with the outbox): the account's, else — an address with no account — the
  language of the org's country, else the sender's (the language active when it is owed).

The pure mappings (country → language, country → time zone) are in ``lifecycle.py``.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.utils import timezone, translation

from partnerhub.core.sweeps import chunks

from .lifecycle import language_for_country, person_language, person_time_zone
from .models import Organization, User

# Session keys: the language an anonymous visitor picked (applied to them at sign-in) and the
# org's time zone, read once per session so that pages cost no extra query.
LANGUAGE_PICKED = "_language_picked"
ORG_TIME_ZONE = "_org_time_zone"


def supported_languages() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def language_supported(code: str | None) -> str | None:
    """``code`` as one of settings.LANGUAGES (``zh-Hant-TW`` → ``zh-hant``), or None."""
    if not code:
        return None
    try:
        variant = translation.get_supported_language_variant(code.strip().lower())
    except LookupError:
        return None
    return variant if variant in supported_languages() else None


def active_language() -> str:
    """The language active now (the sender's in a request; the default in a worker)."""
    return language_supported(translation.get_language()) or settings.LANGUAGE_CODE


def html_lang(code: str | None) -> str:
    """A BCP 47 tag for ``<html lang>``: ``zh-hant`` → ``zh-Hant``."""
    code = code or settings.LANGUAGE_CODE
    language, _sep, rest = code.partition("-")
    if not rest:
        return language
    return f"{language}-{rest.title() if len(rest) == 4 else rest.upper()}"


@cache
def time_zone_valid(name: str) -> bool:
    if not name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def org_time_zone(org: Organization | None) -> str:
    """The org's time zone: its own, else its country's, else the site's."""
    if org is None:
        return settings.TIME_ZONE
    return person_time_zone(
        stored="", org_zone=org.time_zone, org_country=org.country, default=settings.TIME_ZONE
    )


def user_time_zone(user: Any, *, org_zone: str | None = None) -> str:
    """The person's time zone (one query for their org unless ``org_zone`` is given)."""
    if user.time_zone and time_zone_valid(user.time_zone):
        return user.time_zone
    if org_zone is None:
        org_zone = org_time_zone(user.org) if user.org_id else settings.TIME_ZONE
    return org_zone


def time_zone_choices() -> list[tuple[str, str]]:
    """Canonical Area/City zones, sorted (the person-settings form)."""
    areas = ("Africa", "America", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
    zones = sorted(
        z for z in zoneinfo.available_timezones() if z.split("/", 1)[0] in areas and "/" in z
    )
    return [("UTC", "UTC"), *((z, z.replace("_", " ")) for z in zones)]


# ---- emails --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientLocale:
    language: str
    time_zone: str


def recipient_locales(
    items: Iterable[tuple[str, int | None]],
) -> dict[tuple[str, int | None], RecipientLocale]:
    """The language and time zone of each (address, org id) an email is owed to, keyed by the
    lower-cased address and the org id.

    An address with an account reads its person's language (stored; else their org's
    country's) and time zone. An address with no account reads the language of the email's
    org's country, else the sender's; the org's time zone, else the sender's. Two queries at
    most, whatever the number of recipients (the outbox calls this once per batch).
    """
    wanted = {(to.strip().lower(), org_id) for to, org_id in items}
    if not wanted:
        return {}
    supported = supported_languages()
    sender_language = active_language()
    sender_zone = timezone.get_current_timezone_name()
    people: dict[str, tuple[str, str, str | None, str | None]] = {}
    for part in chunks(sorted({to for to, _org in wanted})):
        for email, *row in User.objects.filter(email__in=part).values_list(
            "email", "language", "time_zone", "org__country", "org__time_zone"
        ):
            people[email] = (row[0], row[1], row[2], row[3])
    org_ids = {org_id for to, org_id in wanted if to not in people and org_id is not None}
    orgs = (
        {
            pk: (country, zone)
            for pk, country, zone in Organization.objects.filter(pk__in=org_ids).values_list(
                "pk", "country", "time_zone"
            )
        }
        if org_ids
        else {}
    )
    out: dict[tuple[str, int | None], RecipientLocale] = {}
    for to, org_id in wanted:
        if to in people:
            stored, zone, person_country, person_org_zone = people[to]
            out[(to, org_id)] = RecipientLocale(
                language=person_language(
                    stored=stored,
                    org_country=person_country,
                    fallback=sender_language,
                    supported=supported,
                ),
                time_zone=person_time_zone(
                    stored=zone if time_zone_valid(zone) else "",
                    org_zone=person_org_zone or "",
                    org_country=person_country,
                    default=sender_zone,
                ),
            )
            continue
        country, org_zone = orgs.get(org_id, ("", "")) if org_id is not None else ("", "")
        by_country = language_for_country(country, default=sender_language) if country else ""
        out[(to, org_id)] = RecipientLocale(
            language=by_country if by_country in supported else sender_language,
            time_zone=person_time_zone(
                stored="", org_zone=org_zone, org_country=country, default=sender_zone
            ),
        )
    return out


# ---- sign-in -------------------------------------------------------------------------------


def person_locale_on_sign_in(sender: object, request: Any, user: Any, **kwargs: object) -> None:
    """``user_logged_in`` receiver (AccountsConfig.ready). A language picked on the sign-in
    page is the person's choice and is stored; a new person (no language yet) gets the
    browser's. The org's time zone is kept in the session for the pages that follow."""
    from .services import person_locale_set

    if request is None or not hasattr(request, "session"):
        return
    picked = language_supported(request.session.pop(LANGUAGE_PICKED, None))
    if picked:
        person_locale_set(person=user, language=picked)
    elif not language_supported(user.language):
        browser = language_supported(translation.get_language_from_request(request))
        person_locale_set(person=user, language=browser or settings.LANGUAGE_CODE, audited=False)
    request.session[ORG_TIME_ZONE] = org_time_zone(user.org) if user.org_id else settings.TIME_ZONE


def language_choices() -> list[tuple[str, str]]:
    """Each language named in itself (a Dane looking for *dansk* finds it in any language)."""
    return [
        (code, str(translation.get_language_info(code)["name_local"]))
        for code, _name in settings.LANGUAGES
    ]
