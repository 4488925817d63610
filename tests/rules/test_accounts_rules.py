"""Table-driven tests of partnerhub/accounts/lifecycle.py: T2 region, W2 prefix and domain."""

from __future__ import annotations

import pytest

from partnerhub.accounts.choices import Country, DataRegion
from partnerhub.accounts.lifecycle import email_domain, name_prefix, region_for_country


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("US", DataRegion.AMERICAS),
        ("CA", DataRegion.AMERICAS),
        ("BR", DataRegion.AMERICAS),
        ("MX", DataRegion.AMERICAS),
        ("DK", DataRegion.EUROPE),
        ("GB", DataRegion.EUROPE),
        ("CH", DataRegion.EUROPE),
        ("JP", DataRegion.ASIA_PACIFIC),
        ("AU", DataRegion.ASIA_PACIFIC),
        ("NZ", DataRegion.ASIA_PACIFIC),
        ("IN", DataRegion.ASIA_PACIFIC),
    ],
)
def test_T2_region_for_country(country, region):
    assert region_for_country(country) == region


def test_T2_every_supported_country_has_a_region():
    assert {region_for_country(c) for c in Country.values} == set(DataRegion)


@pytest.mark.parametrize("country", ["", "XX", "dk", "DNK", "EU"])
def test_T2_unsupported_country_is_refused(country):
    with pytest.raises(ValueError, match="Unsupported country"):
        region_for_country(country)


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("Acme Corporation", "acme "),
        ("ACME corp", "acme "),
        ("  Acme   Corp  ", "acme "),  # trimmed, inner whitespace collapsed
        ("Acme\tCorp", "acme "),
        ("Acm", "acm"),  # shorter than five: the whole name
        ("", ""),
        ("Straße Bau", "stras"),  # case-folded, not just lower-cased
        ("ÅRHUS Tech", "århus"),
        ("12345678", "12345"),
    ],
)
def test_W2_name_prefix_is_first_five_case_folded(name, prefix):
    assert name_prefix(name) == prefix


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("ann@example.com", "example.com"),
        ("Ann@Example.COM", "example.com"),
        ("  ann@example.com ", "example.com"),
        ("a@b@sub.example.com", "sub.example.com"),  # the domain is after the last @
        ("ann@", ""),
        ("no-at-sign", ""),  # not an address: no domain (found by this test; was 'no-at-sign')
        ("", ""),
    ],
)
def test_W2_email_domain(email, domain):
    assert email_domain(email) == domain
