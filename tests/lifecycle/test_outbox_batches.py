"""The outbox at wire speed (issue 11) and a short claim timeout (issue 9, finding 9)."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from partnerhub.core import outbox
from partnerhub.core.models import OutboxEmail
from partnerhub.core.sweeps import OwedEmail, emails_owe_bulk

pytestmark = pytest.mark.django_db


def _owe(count: int, *, same_content: bool = True) -> list[int]:
    with transaction.atomic():
        emails_owe_bulk(
            OwedEmail(
                key=f"batch:{i}",
                kind="deletion_warning",
                to=f"person{i}@example.com",
                template="deletion_warning",
                context={
                    "org_name": "Shared Org" if same_content else f"Org {i}",
                    "org_pk": 1,
                    "deletion_date": "2027-03-05",
                },
            )
            for i in range(count)
        )
    return list(OutboxEmail.objects.order_by("pk").values_list("pk", flat=True))


def test_mime_bytes_are_stored_when_owed_one_per_recipient():
    _owe(3)
    rows = list(OutboxEmail.objects.order_by("pk"))
    parsed = [message_from_bytes(bytes(row.message)) for row in rows]
    assert [m["To"] for m in parsed] == [f"person{i}@example.com" for i in range(3)]
    assert len({m["Message-ID"] for m in parsed}) == 3
    assert all("Shared Org will be deleted on" in m["Subject"] for m in parsed)
    parts = [p.get_content_type() for p in parsed[0].walk()]
    assert parts == ["multipart/alternative", "text/plain", "text/html"]


def test_a_batch_is_claimed_in_one_transaction_and_sent_over_one_connection(
    django_assert_num_queries,
):
    ids = _owe(50)
    # The claim: one transaction (a savepoint inside the test's), one UPDATE, one SELECT; then
    # one UPDATE per accepted email marks it sent (a SIGKILL can leave one email unmarked).
    with django_assert_num_queries(4 + 50):
        result = outbox.outbox_deliver_batch(ids=ids)
    assert result.sent == 50
    assert len(mail.outbox) == 50
    assert not OutboxEmail.objects.filter(sent_at__isnull=True).exists()
    # Delivering again (a retried task, the relay) claims nothing and sends nothing.
    assert outbox.outbox_deliver_batch(ids=ids).sent == 0
    assert len(mail.outbox) == 50


def test_claims_of_a_killed_delivery_are_retaken_after_about_a_minute():
    """Issue 9 finding 9: the claim timeout was 10 minutes."""
    assert timedelta(minutes=1) >= outbox.CLAIM_TIMEOUT
    (email_id,) = _owe(1)
    now = timezone.now()
    OutboxEmail.objects.filter(pk=email_id).update(claimed_at=now, claim_token="dead:x:y")
    with time_machine.travel(now + timedelta(seconds=30), tick=False):
        assert outbox.outbox_unsent_ids() == []
    with time_machine.travel(now + outbox.CLAIM_TIMEOUT + timedelta(seconds=1), tick=False):
        assert outbox.outbox_unsent_ids() == [email_id]
        assert outbox.outbox_deliver_batch(ids=[email_id]).sent == 1


def test_a_restarted_worker_releases_only_its_own_nodes_stale_claims():
    first, second, third = _owe(3)
    now = timezone.now()
    OutboxEmail.objects.filter(pk=first).update(claimed_at=now, claim_token="w1@h:oldboot:b")
    OutboxEmail.objects.filter(pk=second).update(
        claimed_at=now, claim_token=f"w1@h:{outbox.BOOT_ID}:b"
    )
    OutboxEmail.objects.filter(pk=third).update(claimed_at=now, claim_token="w2@h:other:b")
    assert outbox.outbox_claims_release(node="w1@h") == 1
    assert outbox.outbox_unsent_ids() == [first]
