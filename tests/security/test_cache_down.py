"""Issue 9, finding 4: the cache (and the broker) are never a point of failure. A real Redis
client pointed at a closed port, not a mock: every cache call raises ConnectionError."""

from __future__ import annotations

import socket

import pytest
from django.urls import reverse

from licensing.choices import SubscriptionKind
from licensing.models import Subscription
from partnerhub.accounts.choices import Role
from partnerhub.celery import app as celery_app
from tests.factories import make_customer, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nobody listens


@pytest.fixture
def redis_down(settings):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    return url


@pytest.fixture
def broker_down(redis_down):
    old = celery_app.conf.broker_url, celery_app.conf.broker_connection_retry
    # Pools an earlier test of this process built still reach the live broker: drop them, or
    # the publish goes through one of them and never meets the dead broker (as under xdist).
    _fresh_pools()
    celery_app.conf.broker_url = redis_down
    celery_app.conf.task_publish_retry = False
    yield
    celery_app.conf.broker_url = old[0]
    celery_app.conf.task_publish_retry = True
    # Drop the connections to the dead broker and let the app build fresh pools: a closed
    # pool stays closed, and later tests that queue tasks would fail on it.
    _fresh_pools()


def _fresh_pools() -> None:
    celery_app.pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_the_fixture_really_has_no_cache(redis_down):
    from django.core.cache import cache
    from redis.exceptions import ConnectionError as RedisConnectionError

    with pytest.raises(RedisConnectionError):
        cache.get("anything")


def test_finding_4_customer_list_answers_without_the_cache(client, redis_down, caplog):
    partner = make_partner(name="Northwind")
    for name in ("Alpha", "Beta"):
        make_subscription(customer=make_customer(name=name, partner=partner), partner=partner)
    client.force_login(make_user(org=partner, role=Role.SALES_ADMIN))
    for sort in ("name", "subscription_status", "-provisioning_status"):
        response = client.get(reverse("customers:customer_list"), {"sort": sort})
        assert response.status_code == 200
        assert b"Alpha" in response.content
        assert b"Beta" in response.content
    assert "Cache read" in caplog.text


def test_finding_4_starting_a_trial_with_cache_and_broker_down_is_not_an_error_page(
    client, broker_down, django_capture_on_commit_callbacks
):
    partner = make_partner(name="Northwind")
    client.force_login(make_user(org=partner, role=Role.SALES_ADMIN))
    data = {
        "company_name": "Fresh Co",
        "admin_email": "admin@fresh.example",
        "vertical": "retail",
        "country": "DK",
        "messaging": "on",
        "messaging_licenses": "25",
        "length": "30",
        "meetings_edition": "standard",
        "dev-TOTAL_FORMS": "0",
        "dev-INITIAL_FORMS": "0",
        "dev-MIN_NUM_FORMS": "0",
        "dev-MAX_NUM_FORMS": "6",
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("trials:trial_start"), data)
    assert response.status_code == 302, response.content[:500]
    assert callbacks  # the cache clear and the delivery were tried after commit
    assert Subscription.objects.filter(partner=partner, kind=SubscriptionKind.TRIAL).count() == 1


def test_broker_down_a_consent_request_is_committed_and_its_emails_wait(
    client, broker_down, django_capture_on_commit_callbacks, caplog
):
    """The request owes consent emails; queueing their delivery fails after commit; the page
    is the usual redirect and the emails wait in the outbox (the relay sends them later)."""
    from partnerhub.core.models import OutboxEmail
    from trials.models import ConsentRequest

    partner = make_partner(name="Northwind")
    org = make_customer(name="Litware")
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="admin@litware.example")
    client.force_login(make_user(org=partner, role=Role.SALES_ADMIN))
    data = {
        "admin_email": "admin@litware.example",
        "confirm": "1",
        "messaging": "on",
        "messaging_licenses": "25",
        "length": "30",
        "meetings_edition": "standard",
        "dev-TOTAL_FORMS": "0",
        "dev-INITIAL_FORMS": "0",
        "dev-MIN_NUM_FORMS": "0",
        "dev-MAX_NUM_FORMS": "6",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("trials:trial_request"), data)
    assert response.status_code == 302
    assert ConsentRequest.objects.filter(partner=partner, customer=org).count() == 1
    assert OutboxEmail.objects.filter(kind="consent_request", sent_at__isnull=True).exists()
    # Queueing the delivery was tried and failed (logged), it did not reach the page.
    assert any(r.name.startswith("partnerhub.core") for r in caplog.records), caplog.text
