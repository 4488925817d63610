"""The count band above the customer list, served stale-while-revalidate (P3, P4, D2).

The band is counted from the read model in one query. A change that moves a count marks the
partner's band stale after it commits (``licensing.readmodel`` bumps the summary version), and
the next request revalidates it — one request at a time, under a cache lock; the others serve
the last band counted meanwhile. So a burst of requests after a change costs one count, never
one per request (no stampede).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet

from licensing.models import CustomerRow
from partnerhub.accounts.models import Organization
from partnerhub.core.listview import summary_cache_key

from .selectors import customer_list_summary

logger = logging.getLogger(__name__)

BAND_TTL = 24 * 3600  # seconds; a change makes the band stale sooner (a new version key)
LOCK_TTL = 30  # seconds; a request that dies while counting frees the lock by then


@dataclass(frozen=True)
class Band:
    counts: dict[str, int] | None  # None: never counted yet and another request is counting
    fresh: bool
    filtered: int | None = None  # the filtered count, when counted together with the band


def _keys(partner_id: int) -> tuple[str, str, str]:
    base = f"listsummary:customers:{partner_id}:band"
    return summary_cache_key("customers", partner_id, "band"), f"{base}:last", f"{base}:lock"


def customer_band(
    *,
    partner: Organization,
    filtered: QuerySet[CustomerRow] | None = None,
    count_limit: int | None = None,
) -> Band:
    """The partner's band: fresh from the cache; else recounted by this request if it gets the
    lock (with ``filtered``'s capped count in the same query); else the last band counted."""
    try:
        fresh_key, last_key, lock_key = _keys(partner.pk)
        cached = cache.get_many([fresh_key, last_key])
        if fresh_key in cached:
            return Band(counts=cached[fresh_key], fresh=True)
        locked = cache.add(lock_key, 1, LOCK_TTL)
    except Exception:  # the cache is down: count without it (correct, only slower)
        logger.warning("Count band cache unavailable; counting without it", exc_info=True)
        return _count(partner, filtered, count_limit)
    if not locked:
        return Band(counts=cached.get(last_key), fresh=False)
    try:
        band = _count(partner, filtered, count_limit)
        cache.set_many({fresh_key: band.counts, last_key: band.counts}, BAND_TTL)
        return band
    finally:
        try:
            cache.delete(lock_key)
        except Exception:
            logger.warning("Could not release the count band lock", exc_info=True)


def _count(
    partner: Organization, filtered: QuerySet[CustomerRow] | None, count_limit: int | None
) -> Band:
    counts: dict[str, Any] = customer_list_summary(
        partner=partner, filtered=filtered, count_limit=count_limit
    )
    found = counts.pop("filtered", None)
    return Band(counts=counts, fresh=True, filtered=found)
