"""The partner's customer list as a django-tables2 Table (P2, P3, D2, D8).

Every column is sortable; the sort key of a computed column is an SQL annotation from
``customers.selectors.customer_sort_expressions``. ``value_*`` methods give the CSV export the
same content as the screen, as plain text.
"""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from partnerhub.accounts.models import Organization


def _status_text(row: Any) -> str:
    status = row.status.label if row.status else ""
    if row.days_left is not None and row.days_left >= 0:
        return f"{status} ({row.days_left} {_('days left')})"
    return str(status)


class CustomerTable(tables.Table):
    name = tables.Column(verbose_name=_("Customer"), order_by=("name_key",))
    provisioning_status = tables.Column(
        verbose_name=_("Provisioning status"), order_by=("provisioning_rank",), empty_values=()
    )
    subscription_status = tables.Column(
        verbose_name=_("Subscription status"), order_by=("subscription_rank",), empty_values=()
    )
    services = tables.Column(
        verbose_name=_("Services"), order_by=("services_key",), empty_values=()
    )
    data_region = tables.Column(verbose_name=_("Data location"))
    admins = tables.Column(
        verbose_name=_("Customer admins"), order_by=("admins_key",), empty_values=()
    )
    created = tables.DateColumn(verbose_name=_("Created"), short=True)

    class Meta:
        model = Organization
        fields = (
            "name",
            "provisioning_status",
            "subscription_status",
            "services",
            "data_region",
            "admins",
            "created",
        )
        template_name = "core/table.html"
        attrs = {"class": "object-list", "id": "customer-table"}
        empty_text = _("No customers match these filters.")
        orderable = True

    # ---- screen ----
    def render_name(self, record: Organization) -> Any:
        return render_to_string("customers/_name_cell.html", {"org": record})

    def render_provisioning_status(self, record: Organization) -> Any:
        status = record.provisioning_status  # type: ignore[attr-defined]
        if status is None:
            return "—"
        return format_html('<span class="prov prov-{}">{}</span>', status.value, status.label)

    def render_subscription_status(self, record: Organization) -> Any:
        return render_to_string(
            "customers/_subscription_cell.html",
            {"rows": record.subscription_rows},  # type: ignore[attr-defined]
        )

    def render_services(self, record: Organization) -> Any:
        return ", ".join(str(t.label) for t in record.service_types) or "—"  # type: ignore[attr-defined]

    def render_data_region(self, record: Organization) -> Any:
        return record.get_data_region_display()

    def render_admins(self, record: Organization) -> Any:
        return ", ".join(record.admins) or "—"  # type: ignore[attr-defined]

    # ---- CSV export ----
    def value_name(self, record: Organization) -> str:
        planned = record.planned_deletion_at  # type: ignore[attr-defined]
        if planned is None:
            return record.name
        return f"{record.name} [{_('To be deleted')} {date_format(planned, 'Y-m-d')}]"

    def value_provisioning_status(self, record: Organization) -> str:
        status = record.provisioning_status  # type: ignore[attr-defined]
        return str(status.label) if status else ""

    def value_subscription_status(self, record: Organization) -> str:
        return "; ".join(_status_text(r) for r in record.subscription_rows)  # type: ignore[attr-defined]

    def value_services(self, record: Organization) -> str:
        return ", ".join(str(t.label) for t in record.service_types)  # type: ignore[attr-defined]

    def value_data_region(self, record: Organization) -> str:
        return str(record.get_data_region_display())

    def value_admins(self, record: Organization) -> str:
        return ", ".join(record.admins)  # type: ignore[attr-defined]

    def value_created(self, record: Organization) -> str:
        return date_format(record.created, "Y-m-d")


def customer_url(org: Organization) -> str:
    return reverse("customers:customer_detail", kwargs={"pk": org.pk})
