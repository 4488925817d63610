"""The partner's order list as a django-tables2 Table (W1, T9)."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .choices import OrderStatus
from .models import Order


def order_customer(order: Order) -> Any:
    """The org the order was set up on, else the customer whose trial it converts."""
    if order.customer is not None:
        return order.customer
    return order.trial.customer if order.trial is not None else None


def setup_link_state(order: Order, *, now: Any) -> str:
    """Where the order's single-use setup link stands (W1), in words."""
    if order.status == OrderStatus.COMPLETED:
        used = order.link_used_at or order.completed_at
        if used is None:
            return gettext("Used")
        return gettext("Used on %(date)s") % {
            "date": date_format(timezone.localtime(used), "DATE_FORMAT")
        }
    if order.status == OrderStatus.CANCELLED:
        return gettext("No link: order cancelled")
    if order.link_expires_at is None:
        return gettext("Not sent")
    if order.link_expires_at <= now:
        return gettext("Expired on %(date)s: send a new one") % {
            "date": date_format(timezone.localtime(order.link_expires_at), "DATE_FORMAT")
        }
    return gettext("Sent, valid until %(date)s") % {
        "date": date_format(timezone.localtime(order.link_expires_at), "DATE_FORMAT")
    }


class OrderTable(tables.Table):
    number = tables.Column(verbose_name=_("Order"))
    status = tables.Column(verbose_name=_("Status"))
    customer = tables.Column(verbose_name=_("Customer"), empty_values=(), orderable=False)
    placed_at = tables.Column(verbose_name=_("Created"))
    setup_link = tables.Column(verbose_name=_("Setup link"), empty_values=(), orderable=False)

    class Meta:
        model = Order
        fields = ("number", "status", "customer", "placed_at", "setup_link")
        template_name = "core/table.html"
        attrs = {"class": "object-list", "id": "order-table"}
        empty_text = _("No orders yet. Orders are placed from a customer's trial page.")
        orderable = True

    def render_number(self, record: Order) -> Any:
        url = reverse("licensing:order_detail", kwargs={"order_pk": record.pk})
        return format_html('<a href="{}">{}</a>', url, record.number)

    def render_status(self, record: Order) -> Any:
        return record.get_status_display()

    def render_customer(self, record: Order) -> Any:
        customer = order_customer(record)
        if customer is None:
            return record.company_name or "—"
        url = reverse("customers:customer_detail", kwargs={"pk": customer.pk})
        return format_html('<a href="{}">{}</a>', url, customer.name)

    def render_placed_at(self, record: Order) -> Any:
        return date_format(timezone.localtime(record.placed_at), "DATE_FORMAT")

    def render_setup_link(self, record: Order) -> Any:
        return setup_link_state(record, now=timezone.now())

    # ---- CSV export ----
    def value_status(self, record: Order) -> str:
        return str(record.get_status_display())

    def value_number(self, record: Order) -> str:
        return record.number

    def value_customer(self, record: Order) -> str:
        customer = order_customer(record)
        return customer.name if customer is not None else record.company_name

    def value_placed_at(self, record: Order) -> str:
        return date_format(timezone.localtime(record.placed_at), "Y-m-d")

    def value_setup_link(self, record: Order) -> str:
        return setup_link_state(record, now=timezone.now())
