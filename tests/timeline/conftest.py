"""Fixtures of the issue 16 tests: the partner world, and a clean cache (the count band is
cached per partner, and ids repeat between tests)."""

from __future__ import annotations

from tests.partner.conftest import _fresh_cache, world

__all__ = ["_fresh_cache", "world"]
