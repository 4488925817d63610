"""The cache is never a point of failure (issue 9): a read that fails is a miss, a write or a
clear that fails is skipped, each with a warning in the log; the caller goes on (the customer
list's count band and sort orders fall back to SQL).

Only what the cache backend raises is caught (a Redis server that is down or unreachable, a
file cache that cannot write); everything goes through :data:`django.core.cache.cache`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger("partnerhub.cache")


def _failed(operation: str, key: str, exc: BaseException) -> None:
    logger.warning(
        "Cache %s of %s failed (%s: %s); going on without it.",
        operation,
        key,
        type(exc).__name__,
        exc,
    )


def cache_get(key: str, default: Any = None) -> Any:
    try:
        return cache.get(key, default)
    except Exception as exc:
        _failed("read", key, exc)
        return default


def cache_set(key: str, value: Any, timeout: float | None) -> bool:
    try:
        cache.set(key, value, timeout)
    except Exception as exc:
        _failed("write", key, exc)
        return False
    return True


def cache_add(key: str, value: Any, timeout: float | None) -> bool:
    try:
        return bool(cache.add(key, value, timeout))
    except Exception as exc:
        _failed("write", key, exc)
        return False


def cache_incr(key: str, *, timeout: float | None) -> int | None:
    """Increment a counter, creating it at 1 when it is missing; None when the cache failed."""
    try:
        try:
            return int(cache.incr(key))
        except ValueError:  # missing (or evicted): start it
            cache.set(key, 1, timeout)
            return 1
    except Exception as exc:
        _failed("increment", key, exc)
        return None
