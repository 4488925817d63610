"""Pure rules about organizations and people: no ORM, no clock."""

from __future__ import annotations

from .choices import Country, DataRegion

_REGION_BY_COUNTRY: dict[str, DataRegion] = {
    **dict.fromkeys(("BR", "CA", "MX", "US"), DataRegion.AMERICAS),
    **dict.fromkeys(("AU", "HK", "IN", "JP", "NZ", "SG", "TW"), DataRegion.ASIA_PACIFIC),
}


def region_for_country(country: str) -> DataRegion:
    """T2: the data-location region is derived from the country; unknown countries are refused."""
    if country not in Country.values:
        raise ValueError(f"Unsupported country: {country!r}")
    return _REGION_BY_COUNTRY.get(country, DataRegion.EUROPE)


def email_domain(email: str) -> str:
    """The lower-cased domain of an email address ('' when there is none). Used by W2."""
    _local, at, domain = email.strip().rpartition("@")
    if not at:  # not an address: no domain, so W2 never matches on the whole string
        return ""
    return domain.lower()


def name_prefix(name: str, length: int = 5) -> str:
    """W2: the first five characters of a company name, trimmed and case-folded."""
    return " ".join(name.split()).casefold()[:length]


# ---- languages and time zones (issue 14) ---------------------------------------------------

# The language a country's people read when nobody has said otherwise: an address with no
# account, a person who never signed in. Countries whose language the product does not speak
# get English (settings.LANGUAGE_CODE).
_LANGUAGE_BY_COUNTRY: dict[str, str] = {
    "DK": "da",
    "SE": "sv",
    "IT": "it",
    "TW": "zh-hant",
    "HK": "zh-hant",
}

# An org's time zone when it names none: the zone of the country's capital or largest city
# (countries with several zones get that one; the org or the person can say otherwise).
_TIME_ZONE_BY_COUNTRY: dict[str, str] = {
    "AU": "Australia/Sydney",
    "AT": "Europe/Vienna",
    "BE": "Europe/Brussels",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "DK": "Europe/Copenhagen",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "DE": "Europe/Berlin",
    "HK": "Asia/Hong_Kong",
    "IN": "Asia/Kolkata",
    "IE": "Europe/Dublin",
    "IT": "Europe/Rome",
    "JP": "Asia/Tokyo",
    "MX": "America/Mexico_City",
    "NL": "Europe/Amsterdam",
    "NZ": "Pacific/Auckland",
    "NO": "Europe/Oslo",
    "SG": "Asia/Singapore",
    "ES": "Europe/Madrid",
    "SE": "Europe/Stockholm",
    "CH": "Europe/Zurich",
    "TW": "Asia/Taipei",
    "GB": "Europe/London",
    "US": "America/New_York",
}


def language_for_country(country: str, *, default: str) -> str:
    """The language of an org's country (for an address with no account), else ``default``."""
    return _LANGUAGE_BY_COUNTRY.get(country, default)


def time_zone_for_country(country: str, *, default: str) -> str:
    """The time zone of an org that names none: its country's, else ``default``."""
    return _TIME_ZONE_BY_COUNTRY.get(country, default)


def person_language(
    *, stored: str, org_country: str | None, fallback: str, supported: set[str]
) -> str:
    """The language a person reads: the one they chose (stored), else their org's country's,
    else ``fallback`` (the sender's language, or the browser's). Only supported codes count."""
    if stored in supported:
        return stored
    if org_country:
        by_country = _LANGUAGE_BY_COUNTRY.get(org_country)
        if by_country in supported:
            return by_country
    return fallback


def person_time_zone(*, stored: str, org_zone: str, org_country: str | None, default: str) -> str:
    """A person's time zone: their own setting, else their org's, else the org's country's."""
    if stored:
        return stored
    if org_zone:
        return org_zone
    if org_country:
        return time_zone_for_country(org_country, default=default)
    return default


def validate_time_zone(value: str) -> None:
    """A time zone field holds an IANA name (``Europe/Copenhagen``) or nothing."""
    import zoneinfo

    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if not value:
        return
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("“%(zone)s” is not a time zone (for example Europe/Copenhagen).") % {"zone": value}
        ) from None
