"""Webhooks (issue 15): owed in the transaction of the change, signed as documented, retried
with backoff for three days, logged per attempt, replayable; a failing endpoint is turned off
and its admins emailed; a bad receiver delays only itself; no private URLs in production."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from licensing.services import ServiceSpec
from partnerhub.accounts.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from partnerhub.accounts.webhooks import (
    url_check,
    webhook_deliver_one,
    webhook_endpoint_create,
    webhook_replay,
    webhook_secret_rotate,
)
from partnerhub.core.models import OutboxEmail
from tests.api.receiver import Receiver
from trials.services import trial_start_new_customer

pytestmark = pytest.mark.django_db


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The recipe of the docs (README, Webhooks), written out as a receiver would."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig.split(",", 1)[1] == expected for sig in headers["webhook-signature"].split(" "))


def start_trial(world, name="Hooked Co"):
    return trial_start_new_customer(
        partner=world.partner,
        actor=world.sales_admin,
        company_name=name,
        admin_email=f"it@{name.split()[0].lower()}.example",
        vertical="retail",
        country="DK",
        services=[ServiceSpec(type="messaging", quantity=5)],
        devices=[],
        length_days=30,
    )


def endpoint_for(world, url, events=("trial.started",)):
    return webhook_endpoint_create(
        partner=world.partner, actor=world.partner_full_admin, url=url, event_types=list(events)
    )


def test_an_event_is_owed_in_the_transaction_of_the_change(world):
    endpoint_for(world, "https://hooks.example/a")

    def change_then_fail() -> None:
        with transaction.atomic():
            start_trial(world)
            assert WebhookEvent.objects.filter(event_type="trial.started").count() == 1
            raise RuntimeError("the change rolls back")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert not WebhookEvent.objects.exists()
    start_trial(world)
    event = WebhookEvent.objects.get(event_type="trial.started")
    assert event.payload["data"]["customer"]["name"] == "Hooked Co"
    assert WebhookDelivery.objects.filter(event=event, status="pending").count() == 1


def test_only_subscribed_endpoints_of_the_managing_partner_get_it(world):
    endpoint_for(world, "https://hooks.example/a", events=("org.deleted",))
    webhook_endpoint_create(
        partner=world.other_partner,
        actor=world.other_sales_admin,
        url="https://hooks.example/rival",
        event_types=["trial.started"],
    )
    start_trial(world)
    assert not WebhookDelivery.objects.exists()


def test_delivery_is_signed_with_the_documented_recipe(world):
    with Receiver() as receiver:
        _endpoint, secret = endpoint_for(world, receiver.url)
        start_trial(world)
        delivery = WebhookDelivery.objects.get()
        assert webhook_deliver_one(delivery_id=delivery.pk) is True
    headers, body = receiver.received[0]
    assert verify(secret, headers, body)
    assert headers["webhook-id"] == delivery.event.event_id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert json.loads(body)["type"] == "trial.started"
    assert not verify(secret, headers, body + b" ")
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code == 200
    assert attempt.response_snippet == '{"ok":true}'


def test_a_rotated_secret_overlaps_the_old_one(world):
    with Receiver() as receiver:
        endpoint, old = endpoint_for(world, receiver.url)
        new = webhook_secret_rotate(endpoint=endpoint, actor=world.partner_full_admin).secret
        start_trial(world)
        webhook_deliver_one(delivery_id=WebhookDelivery.objects.get().pk)
        headers, body = receiver.received[0]
        assert verify(old, headers, body)
        assert verify(new, headers, body)
        assert len(headers["webhook-secret-ids"].split()) == 2
        with time_machine.travel(timezone.now() + timedelta(hours=25)):
            start_trial(world, name="Later Co")
            later = WebhookDelivery.objects.get(event__payload__data__customer__name="Later Co")
            webhook_deliver_one(delivery_id=later.pk)
        headers, body = receiver.received[1]
        assert verify(new, headers, body)
        assert not verify(old, headers, body)


def test_a_500_is_retried_with_exponential_backoff_for_three_days(world, settings):
    settings.WEBHOOK_DISABLE_AFTER = 1000
    with Receiver("500") as receiver:
        endpoint_for(world, receiver.url)
        start_trial(world)
        delivery = WebhookDelivery.objects.get()
        start = timezone.now()
        assert webhook_deliver_one(delivery_id=delivery.pk, now=start) is False
        delivery.refresh_from_db()
        assert delivery.status == "pending"
        assert delivery.next_attempt_at == start + timedelta(seconds=30)
        attempt = WebhookAttempt.objects.get(delivery=delivery)
        assert attempt.status_code == 500
        assert attempt.response_snippet == "internal trouble"
        # Not due yet: nothing is sent.
        assert (
            webhook_deliver_one(delivery_id=delivery.pk, now=start + timedelta(seconds=5)) is None
        )
        second = start + timedelta(seconds=30)
        webhook_deliver_one(delivery_id=delivery.pk, now=second)
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == second + timedelta(seconds=60)
        now = delivery.next_attempt_at
        while delivery.status == "pending":
            webhook_deliver_one(delivery_id=delivery.pk, now=now)
            delivery.refresh_from_db()
            now = delivery.next_attempt_at
        assert delivery.status == "failed"
        last = WebhookAttempt.objects.filter(delivery=delivery).order_by("-at").first()
        assert start + timedelta(days=2) < last.at <= delivery.event.created + timedelta(days=3)


def test_a_hanging_or_resetting_receiver_delays_only_its_own_endpoint(world, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    with Receiver("hang") as hang, Receiver("reset") as reset, Receiver() as good:
        for url in (hang.url, reset.url, good.url):
            endpoint_for(world, url)
        start_trial(world)
        outcomes = {}
        for delivery in WebhookDelivery.objects.select_related("endpoint"):
            started = time.monotonic()
            outcomes[delivery.endpoint.url] = (
                webhook_deliver_one(delivery_id=delivery.pk),
                time.monotonic() - started,
            )
        assert outcomes[good.url][0] is True
        assert outcomes[hang.url][0] is False
        assert outcomes[hang.url][1] < 2
        assert outcomes[reset.url][0] is False
    errors = dict(WebhookAttempt.objects.values_list("delivery__endpoint__url", "error"))
    assert "timed out" in errors[hang.url].lower() or "timeout" in errors[hang.url].lower()
    assert errors[reset.url]
    assert not errors[good.url]


def test_an_endpoint_that_keeps_failing_is_turned_off_and_its_admins_emailed(world, settings):
    settings.WEBHOOK_DISABLE_AFTER = 3
    with Receiver("500") as receiver:
        endpoint, _secret = endpoint_for(world, receiver.url)
        for i in range(3):
            start_trial(world, name=f"Fail{i} Co")
        for delivery in WebhookDelivery.objects.all():
            webhook_deliver_one(delivery_id=delivery.pk)
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    email = OutboxEmail.objects.get(kind="webhook_disabled")
    assert email.to_email == world.partner_full_admin.email
    assert receiver.url.split("://", 1)[1] in email.body_text
    start_trial(world, name="After Co")  # nothing is owed to a turned-off endpoint
    assert not WebhookEvent.objects.filter(payload__data__customer__name="After Co").exists()


def test_a_delivery_can_be_replayed(world):
    with Receiver() as receiver:
        endpoint_for(world, receiver.url)
        start_trial(world)
        delivery = WebhookDelivery.objects.get()
        webhook_deliver_one(delivery_id=delivery.pk)
        webhook_replay(delivery=delivery, actor=world.partner_full_admin)
        assert webhook_deliver_one(delivery_id=delivery.pk) is True
    assert len(receiver.received) == 2
    assert receiver.received[0][0]["webhook-id"] == receiver.received[1][0]["webhook-id"]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://localhost/x",
        "http://hooks.example/x",
    ],
)
def test_private_loopback_and_plain_http_urls_are_refused_in_production(settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(ValidationError):
        url_check(url)


def test_production_settings_refuse_private_urls():
    from pathlib import Path

    source = (Path(__file__).parents[2] / "partnerhub/settings/production.py").read_text()
    assert "WEBHOOK_ALLOW_PRIVATE_URLS = False" in source


def test_the_webhooks_page_is_for_partner_full_admins(world, client):
    client.force_login(world.sales_admin)
    assert client.get("/settings/webhooks/").status_code == 403
    client.force_login(world.partner_full_admin)
    response = client.post(
        "/settings/webhooks/", {"url": "https://hooks.example/x", "event_types": ["trial.started"]}
    )
    assert response.status_code == 200
    assert response.content.decode().count("whsec_") == 1
    endpoint = WebhookEndpoint.objects.get()
    start_trial(world)
    delivery = WebhookDelivery.objects.get()
    page = client.get(f"/settings/webhooks/{endpoint.pk}/")
    assert delivery.event.event_id in page.content.decode()
    replay = client.post(
        f"/settings/webhooks/{endpoint.pk}/", {"action": "replay", "delivery": delivery.pk}
    )
    assert replay.status_code == 302
    client.force_login(world.other_sales_admin)
    assert client.get(f"/settings/webhooks/{endpoint.pk}/").status_code == 403


def test_every_audited_lifecycle_event_is_a_known_event_type():
    from partnerhub.accounts.webhooks import AUDIT_EVENTS, EVENT_TYPES

    assert set(AUDIT_EVENTS.values()) <= set(EVENT_TYPES)


def test_D4_deleting_a_customer_owes_org_deleted_before_the_org_goes(world):
    from customers.services import org_delete

    endpoint_for(world, "https://hooks.example/d", events=("org.deleted",))
    org_delete(org=world.customer_marked, reason="unused")
    event = WebhookEvent.objects.get(event_type="org.deleted")
    assert event.payload["data"]["customer"]["name"] == "Sleepy Co"
    assert event.deliveries.count() == 1


def test_a_delivery_a_dead_worker_claimed_is_taken_over_later_with_the_same_id(world):
    from partnerhub.accounts.webhooks import CLAIM_TIMEOUT, webhook_claim, webhook_due_ids

    with Receiver() as receiver:
        endpoint_for(world, receiver.url)
        start_trial(world)
        delivery = WebhookDelivery.objects.get()
        now = timezone.now()
        assert webhook_claim(delivery_id=delivery.pk, now=now)  # the worker then dies
        assert webhook_deliver_one(delivery_id=delivery.pk, now=now) is None  # still claimed
        later = now + CLAIM_TIMEOUT + timedelta(minutes=1)
        assert delivery.pk in webhook_due_ids(now=later)  # the relay queues it again
        assert webhook_deliver_one(delivery_id=delivery.pk, now=later) is True
        assert webhook_deliver_one(delivery_id=delivery.pk, now=later) is None  # once
    assert len(receiver.received) == 1
    assert receiver.received[0][0]["webhook-id"] == delivery.event.event_id


def test_the_webhook_event_types_and_the_notification_kinds_are_one_list():
    from partnerhub.accounts.choices import (
        NOTIFICATION_KINDS,
        Event,
        NotificationKind,
        webhook_type,
    )
    from partnerhub.accounts.webhooks import EVENT_TYPES

    assert NotificationKind is Event
    assert set(NOTIFICATION_KINDS) <= set(Event)
    assert list(EVENT_TYPES) == [webhook_type(e) for e in Event]
    # The list, on the wire.
    for name in (
        "trial.started",
        "consent.accepted",
        "consent.declined",
        "consent.expired",
        "trial.ending",
        "trial.ended",
        "provisioning.failed",
        "provisioning.done",
        "order.set_up",
        "subscription.suspended",
        "subscription.renewed",
        "deletion.marked",
        "deletion.warned",
        "org.deleted",
        "buy.requested",
    ):
        assert name in EVENT_TYPES


def test_T11_trial_ending_and_trial_ended_are_owed_once_by_the_notice_sweeps(world):
    from licensing.models import Subscription
    from trials.sweeps import trial_end_notices_due, trial_ending_soon_notices_due

    endpoint_for(world, "https://hooks.example/t", events=("trial.ending", "trial.ended"))
    trial = Subscription.objects.get(customer=world.customer_trial)
    week_before = timezone.now() + timedelta(days=(trial.end_date - timezone.localdate()).days - 7)
    trial_ending_soon_notices_due(now=week_before)
    trial_ending_soon_notices_due(now=week_before)  # a second tick owes nothing again
    ending = WebhookEvent.objects.get(event_type="trial.ending")
    assert ending.payload["data"]["trial"] == {"id": trial.pk, "end_date": str(trial.end_date)}
    end_day = week_before + timedelta(days=7)
    trial_end_notices_due(now=end_day)
    trial_end_notices_due(now=end_day)
    assert WebhookEvent.objects.filter(event_type="trial.ended").count() == 1
    assert WebhookDelivery.objects.count() == 2


def test_a_buy_request_is_an_event(world):
    from licensing.buy import buy_request_create
    from licensing.models import Subscription
    from partnerhub.accounts.models import User

    endpoint_for(world, "https://hooks.example/b", events=("buy.requested",))
    trial = Subscription.objects.get(customer=world.customer_trial)
    admin = User.objects.get(email="admin@trial.example")
    buy_request_create(subscription=trial, by=admin, message="Keep it")
    event = WebhookEvent.objects.get(event_type="buy.requested")
    assert event.payload["data"]["customer"]["name"] == "Trial Co"
    assert event.deliveries.count() == 1
