"""W1 (placing an order, the signed single-use link), T9 (who may convert), T12 (until when)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from licensing.choices import OrderPurpose, OrderStatus, ServiceType, SubscriptionKind
from licensing.models import Order
from licensing.orders import (
    LINK_VALID_DAYS,
    LinkProblem,
    LinkRefused,
    OrderLineSpec,
    OrderRefused,
    order_from_link,
    order_link_claim,
    order_link_resend,
    order_link_token,
    order_place,
)
from partnerhub.accounts.choices import PartnerTier, Role
from partnerhub.accounts.models import AuditEntry
from partnerhub.core.models import OutboxEmail
from partnerhub.core.outbox import outbox_flush
from tests.factories import make_partner, make_subscription, make_user

from .conftest import place_conversion, setup_path

pytestmark = pytest.mark.django_db


def test_W1_placing_an_order_emails_a_signed_link_to_the_provisioning_contact(trial_world):
    order = place_conversion(trial_world, contact="Boss@NordicWidgets.dk ")
    assert order.status == OrderStatus.PLACED
    assert order.partner == trial_world["partner"]
    assert {(ln.service_type, ln.quantity) for ln in order.lines.all()} == {
        ("messaging", 10),
        ("calling", 5),
    }
    assert outbox_flush() == 1
    (message,) = mail.outbox
    assert message.to == ["boss@nordicwidgets.dk"]
    assert order.number in message.subject
    assert "Nordic Widgets" in message.subject
    assert setup_path(order) in message.body
    assert "Nordic Widgets" in message.body
    assert AuditEntry.objects.filter(action="order.place", target=order.number).exists()


def test_T9_tier_2_partner_is_sent_to_its_distributor(trial_world):
    partner = make_partner(name="Small Reseller", tier=PartnerTier.TIER_2)
    seller = make_user(org=partner, role=Role.SALES_ADMIN)
    trial = make_subscription(
        customer=trial_world["org"], partner=partner, kind=SubscriptionKind.TRIAL
    )
    with pytest.raises(OrderRefused, match="distributor"):
        order_place(
            lines=[OrderLineSpec(service_type=ServiceType.MESSAGING, quantity=3)],
            provisioning_contact_email="x@nordicwidgets.dk",
            trial=trial,
            placed_by=seller,
        )
    assert not Order.objects.exists()
    assert not OutboxEmail.objects.exists()


def test_T9_a_partner_cannot_convert_another_partners_trial(trial_world):
    other = make_partner(name="Other Tier One")
    seller = make_user(org=other, role=Role.SALES_ADMIN)
    with pytest.raises(OrderRefused):
        order_place(
            lines=[OrderLineSpec(service_type=ServiceType.MESSAGING, quantity=3)],
            provisioning_contact_email="x@nordicwidgets.dk",
            trial=trial_world["trial"],
            placed_by=seller,
        )


def test_T12_trial_converts_during_grace_but_not_after(trial_world):
    trial = trial_world["trial"]
    with time_machine.travel(trial.end_date + timedelta(days=29)):
        order = place_conversion(trial_world)
    order.delete()
    with time_machine.travel(trial.end_date + timedelta(days=30)), pytest.raises(OrderRefused):
        place_conversion(trial_world)


def test_T9_only_one_open_conversion_order_per_trial(trial_world):
    place_conversion(trial_world)
    with pytest.raises(OrderRefused, match="already waiting"):
        place_conversion(trial_world)


def test_W1_support_staff_order_without_partner(trial_world):
    staff = make_user(org=None, email="support@partnerhub.example", is_staff=True)
    order = order_place(
        lines=[OrderLineSpec(service_type=ServiceType.MEETINGS, quantity=25)],
        provisioning_contact_email="buyer@newco.example",
        purpose=OrderPurpose.CUSTOMER_SELF,
        placed_by=staff,
    )
    assert order.partner is None
    assert order.placed_by == staff
    assert OutboxEmail.objects.filter(to_email="buyer@newco.example").count() == 1


def test_W1_order_needs_a_line(trial_world):
    with pytest.raises(OrderRefused):
        order_place(lines=[], provisioning_contact_email="x@y.example")


# --- the link -----------------------------------------------------------------------------


def test_W1_tampered_link_is_refused(trial_world):
    order = place_conversion(trial_world)
    token = order_link_token(order=order)
    with pytest.raises(LinkRefused) as refused:
        order_from_link(token=token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert refused.value.problem == LinkProblem.TAMPERED
    # A signature made for another purpose (another salt) does not open the wizard either.
    from django.core import signing

    forged = signing.TimestampSigner().sign(token.rsplit(":", 2)[0])
    with pytest.raises(LinkRefused):
        order_from_link(token=forged)


def test_W1_link_expires(trial_world):
    order = place_conversion(trial_world)
    token = order_link_token(order=order)
    with time_machine.travel(
        timezone.now() + timedelta(days=LINK_VALID_DAYS) - timedelta(minutes=1)
    ):
        assert order_from_link(token=token) == order
    later = timezone.now() + timedelta(days=LINK_VALID_DAYS)
    with time_machine.travel(later), pytest.raises(LinkRefused) as refused:
        order_from_link(token=token)
    assert refused.value.problem == LinkProblem.EXPIRED


def test_W1_link_is_single_use(trial_world):
    order = place_conversion(trial_world)
    token = order_link_token(order=order)
    assert order_link_claim(order=order) is True
    assert order_link_claim(order=order) is False  # a second opener loses
    assert order_from_link(token=token, claimed=True) == order  # the first browser goes on
    with pytest.raises(LinkRefused) as refused:
        order_from_link(token=token)
    assert refused.value.problem == LinkProblem.USED


def test_W1_resend_replaces_the_link(trial_world):
    order = place_conversion(trial_world)
    old = order_link_token(order=order)
    order_link_claim(order=order)
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        order = order_link_resend(order=order, actor=trial_world["seller"])
    new = order_link_token(order=order)
    assert new != old
    with pytest.raises(LinkRefused) as refused:
        order_from_link(token=old)
    assert refused.value.problem == LinkProblem.SUPERSEDED
    assert order_from_link(token=new) == order  # fresh and unused again
    assert OutboxEmail.objects.filter(kind="order_setup_link").count() == 2


def test_W1_pages_for_bad_links_are_clear_never_500(client, trial_world):
    order = place_conversion(trial_world)
    path = setup_path(order)
    bad = client.get(path[:-3] + "xx/")
    assert bad.status_code == 400
    assert b"not valid" in bad.content
    garbage = client.get(reverse("licensing:order_setup_start", kwargs={"token": "nonsense"}))
    assert garbage.status_code == 400
    with time_machine.travel(timezone.now() + timedelta(days=LINK_VALID_DAYS, hours=1)):
        expired = client.get(path)
    assert expired.status_code == 410
    assert b"expired" in expired.content
    assert AuditEntry.objects.filter(action="order.link_refused").count() == 3


def test_W1_second_browser_gets_the_already_used_page(client, django_user_model, trial_world):
    from django.test import Client

    order = place_conversion(trial_world)
    path = setup_path(order)
    assert client.get(path).status_code == 200  # a GET (mail scanner) does not use the link
    first = client.post(path)
    assert first.status_code == 302
    assert first["Location"].endswith("/company/")
    assert client.get(first["Location"]).status_code == 200
    other = Client()
    page = other.get(path)
    assert page.status_code == 410
    assert b"already been used" in page.content
    assert other.get(path + "company/").status_code in (302, 410)
    assert other.post(path).status_code == 410
