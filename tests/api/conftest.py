"""API tests: the partner-side world plus keys made through the real service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from partnerhub.accounts.api_keys import api_key_create
from partnerhub.accounts.models import User
from tests.partner.conftest import World, world  # noqa: F401 - the shared fixture

API = "/api/v1"


class ApiClient:
    """A test client that sends the key and JSON."""

    def __init__(self, token: str) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, data: Any = None, **headers: str) -> Any:
        return self.client.get(API + path, data, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.client.post(
            API + path,
            body if body is not None else {},
            content_type="application/json",
            headers=self._headers(headers),
        )

    def put(self, path: str, body: Any, **headers: str) -> Any:
        return self.client.put(
            API + path, body, content_type="application/json", headers=self._headers(headers)
        )

    def delete(self, path: str, **headers: str) -> Any:
        return self.client.delete(API + path, headers=self._headers(headers))


@pytest.fixture
def api_for() -> Callable[..., ApiClient]:
    def make(user: User, scopes: list[str] | None = None, days: int | None = 30) -> ApiClient:
        _key, token = api_key_create(
            actor=user, name="test", scopes=scopes or ["read"], expires_in_days=days
        )
        return ApiClient(token)

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and count bands live in the cache; start every test clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
