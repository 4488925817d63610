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
