"""The partner's customer list as a django-tables2 Table (P2, P3, D2, D8).

Every column is sortable; a column's ``order_by`` names its key in the list's read model
(``customers.selectors.SORT_COLUMNS`` maps it to the indexed columns). Records are read-model
rows (``licensing.CustomerRow``) decorated with their org's display data by
``customers.selectors.customer_rows_attach``. ``value_*`` methods give the CSV export the same
content as the screen, as plain text.
"""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from licensing.choices import PROVISIONING_STATUS_HELP, SubscriptionStatus
from licensing.models import CustomerRow

ADMINS_SHOWN = 3  # the CSV export lists them all

STATUS_TAGS = {
    SubscriptionStatus.TRIAL_EXPIRED: "tag-danger",
    SubscriptionStatus.CANCELLED: "tag-danger",
    SubscriptionStatus.EXPIRING_30: "tag-warn",
    SubscriptionStatus.TRIAL_EXPIRING_30: "tag-warn",
    SubscriptionStatus.ACTIVE: "tag-ok",
    SubscriptionStatus.TRIAL_ACTIVE: "tag-ok",
}


def _days_left_text(days: int) -> str:
    return ngettext("%(days)d day left", "%(days)d days left", days) % {"days": days}


def _days_left_html(row: Any) -> str:
    if row.days_left is None or row.days_left < 0:
        return ""
    return format_html(
        ' <span class="muted small days-left">{}</span>', _days_left_text(row.days_left)
    )


def _status_text(row: Any) -> str:
    status = row.status.label if row.status else ""
    if row.days_left is not None and row.days_left >= 0:
        return f"{status} ({_days_left_text(row.days_left)})"
    return str(status)


def _licenses_used_text(row: Any) -> str:
    """Issue 16: the licenses of the partner's active subscriptions assigned, of those bought."""
    return ngettext(
        "%(assigned)d of %(bought)d license used (%(percent)d%%)",
        "%(assigned)d of %(bought)d licenses used (%(percent)d%%)",
        row.licenses_bought,
    ) % {
        "assigned": row.licenses_assigned,
        "bought": row.licenses_bought,
        "percent": row.licenses_used_percent,
    }


class CustomerTable(tables.Table):
    # Issue 16: the bulk actions' checkbox (its form is above the table: ``form="bulk-form"``).
    select = tables.Column(
        verbose_name=_("Select"), orderable=False, empty_values=(), exclude_from_export=True
    )
    name = tables.Column(verbose_name=_("Customer"), order_by=("name_key",))
    # Export only: the planned deletion date in its own cell, never glued to the name.
    deletion_planned = tables.Column(
        verbose_name=_("To be deleted on"), visible=False, orderable=False, empty_values=()
    )
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
    created = tables.DateColumn(verbose_name=_("Created"))
    # Issue 16: in the column chooser, hidden by default (``customers.columns.DEFAULT_HIDDEN``).
    licenses_used = tables.Column(verbose_name=_("Licenses used"), orderable=False, empty_values=())

    class Meta:
        model = CustomerRow
        fields = (
            "select",
            "name",
            "deletion_planned",
            "provisioning_status",
            "subscription_status",
            "services",
            "data_region",
            "admins",
            "created",
            "licenses_used",
        )
        template_name = "core/table.html"
        attrs = {"class": "object-list", "id": "customer-table"}
        empty_text = _("No customers match these filters.")
        orderable = True

    # ---- screen ----
    # Cells are built with format_html, not a template per cell: a page of 100 rows renders
    # in a few milliseconds.
    def render_select(self, record: Any) -> Any:
        return format_html(
            '<input type="checkbox" name="customer" value="{}" form="bulk-form" '
            'class="bulk-pick" aria-label="{}">',
            record.customer_id,
            _("Select %(name)s") % {"name": record.name},
        )

    def render_name(self, record: Any) -> Any:
        link = format_html('<a href="{}">{}</a>', customer_url(record), record.name)
        planned = record.planned_deletion_at
        if planned is None:
            return link
        return format_html(
            '{} <span class="tag tag-danger" title="{}">{}</span> '
            '<span class="muted small">{}</span>',
            link,
            _("Marked for deletion: unused organization"),
            _("To be deleted"),
            _("planned %(date)s") % {"date": date_format(planned, "DATE_FORMAT")},
        )

    def render_provisioning_status(self, record: Any) -> Any:
        status = record.provisioning_status
        if status is None:
            return "—"
        help = PROVISIONING_STATUS_HELP[status]
        # P1: the status's meaning on hover, and what comes next under it.
        return format_html(
            '<span class="prov prov-{}" title="{}">{}</span>'
            '<div class="muted small prov-help">{}</div>',
            status.value,
            help.meaning,
            status.label,
            help.next_step,
        )

    def render_subscription_status(self, record: Any) -> Any:
        rows = record.subscription_rows
        if not rows:
            return "—"
        return format_html_join(
            "",
            '<div class="substatus"><span class="tag {}">{}</span>{}</div>',
            ((STATUS_TAGS.get(r.status, ""), r.status.label, _days_left_html(r)) for r in rows),
        )

    def render_services(self, record: Any) -> Any:
        return ", ".join(str(t.label) for t in record.service_types) or "—"

    def render_data_region(self, record: Any) -> Any:
        return record.get_data_region_display()

    def render_created(self, record: Any) -> Any:
        return date_format(timezone.localtime(record.created), "DATE_FORMAT")

    def render_admins(self, record: Any) -> Any:
        admins = record.admins
        if not admins:
            return "—"
        # One address a line, each breakable at its @ (long addresses never widen the list).
        shown = format_html_join(
            "",
            '<span class="admin-email">{}<wbr>@{}</span>',
            (a.partition("@")[::2] for a in admins[:ADMINS_SHOWN]),
        )
        if len(admins) <= ADMINS_SHOWN:
            return shown
        more = _("+%(n)d more") % {"n": len(admins) - ADMINS_SHOWN}
        return format_html(
            '{} <span class="muted small" title="{}">{}</span>', shown, ", ".join(admins), more
        )

    def render_licenses_used(self, record: Any) -> Any:
        if not record.licenses_bought:
            return "—"
        text = _licenses_used_text(record)
        if not record.licenses_over_bits:
            return text
        return format_html(
            '{} <span class="tag tag-danger">{}</span>', text, _("Over the license limit")
        )

    # ---- CSV export ----
    def value_name(self, record: Any) -> str:
        return record.name

    def value_deletion_planned(self, record: Any) -> str:
        planned = record.planned_deletion_at
        return "" if planned is None else date_format(planned, "Y-m-d")

    def value_provisioning_status(self, record: Any) -> str:
        status = record.provisioning_status
        return str(status.label) if status else ""

    def value_subscription_status(self, record: Any) -> str:
        return "; ".join(_status_text(r) for r in record.subscription_rows)

    def value_services(self, record: Any) -> str:
        return ", ".join(str(t.label) for t in record.service_types)

    def value_data_region(self, record: Any) -> str:
        return str(record.get_data_region_display())

    def value_admins(self, record: Any) -> str:
        return ", ".join(record.admins)

    def value_created(self, record: Any) -> str:
        return date_format(timezone.localtime(record.created), "Y-m-d")

    def value_licenses_used(self, record: Any) -> str:
        return _licenses_used_text(record) if record.licenses_bought else ""


def customer_url(record: Any) -> str:
    return reverse("customers:customer_detail", kwargs={"pk": record.customer_id})
