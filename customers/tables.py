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
from django.utils import dateformat, timezone
from django.utils.encoding import force_str
from django.utils.formats import date_format, get_format
from django.utils.functional import cached_property
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from licensing.choices import PROVISIONING_STATUS_HELP, ProvisioningStatus, SubscriptionStatus
from licensing.models import CustomerRow
from partnerhub.core.listview import pk_url

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


def _status_text(row: Any) -> str:
    status = row.status.label if row.status else ""
    if row.days_left is not None and row.days_left >= 0:
        return f"{status} ({_days_left_text(row.days_left)})"
    return str(status)


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
        )
        template_name = "core/table.html"
        attrs = {"class": "object-list", "id": "customer-table"}
        empty_text = _("No customers match these filters.")
        orderable = True

    # ---- screen ----
    # Cells are built as strings, not a template per cell, from words translated once per
    # page (``_words``: the table lives for one request, in one language): a page of 100 rows
    # renders in a few milliseconds. Every value from the data is escaped here.
    @cached_property
    def _words(self) -> _Words:
        return _Words()

    def render_select(self, record: Any) -> Any:
        label = escape(self._words.select % {"name": record.name})
        return mark_safe(
            f'<input type="checkbox" name="customer" value="{escape(record.customer_id)}" '
            f'form="bulk-form" class="bulk-pick" aria-label="{label}">'
        )

    def render_name(self, record: Any) -> Any:
        words = self._words
        link = f'<a href="{escape(words.detail_url(record.customer_id))}">{escape(record.name)}</a>'
        planned = record.planned_deletion_at
        if planned is None:
            return mark_safe(link)
        date = escape(words.planned % {"date": dateformat.format(planned, words.date_format)})
        return mark_safe(f'{link} {words.to_be_deleted} <span class="muted small">{date}</span>')

    def render_provisioning_status(self, record: Any) -> Any:
        status = record.provisioning_status
        if status is None:
            return "—"
        return self._words.provisioning(status)

    def render_subscription_status(self, record: Any) -> Any:
        rows = record.subscription_rows
        if not rows:
            return "—"
        words = self._words
        return mark_safe(
            "".join(
                f"{words.status_tag(r.status)}{words.days_left(r.days_left)}</div>" for r in rows
            )
        )

    def render_services(self, record: Any) -> Any:
        return self._words.services(tuple(record.service_types)) or "—"

    def render_data_region(self, record: Any) -> Any:
        return self._words.region(record.data_region)

    def render_created(self, record: Any) -> Any:
        return dateformat.format(timezone.localtime(record.created), self._words.date_format)

    def render_admins(self, record: Any) -> Any:
        admins = record.admins
        if not admins:
            return "—"
        # One address a line, each breakable at its @ (long addresses never widen the list).
        shown = "".join(
            f'<span class="admin-email">{escape(user)}<wbr>@{escape(domain)}</span>'
            for user, _at, domain in (a.partition("@") for a in admins[:ADMINS_SHOWN])
        )
        if len(admins) <= ADMINS_SHOWN:
            return mark_safe(shown)
        more = escape(self._words.more % {"n": len(admins) - ADMINS_SHOWN})
        everyone = escape(", ".join(admins))
        return mark_safe(f'{shown} <span class="muted small" title="{everyone}">{more}</span>')

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


class _Words:
    """What the cells say that is the same on every row, translated and escaped once (for
    the page's language), and the per-value parts (a status's cell, a set of services…)
    memoised as the rows ask for them."""

    def __init__(self) -> None:
        self.select = gettext("Select %(name)s")
        self.planned = gettext("planned %(date)s")
        self.more = gettext("+%(n)d more")
        self.to_be_deleted = format_html(
            '<span class="tag tag-danger" title="{}">{}</span>',
            gettext("Marked for deletion: unused organization"),
            gettext("To be deleted"),
        )
        self.date_format = get_format("DATE_FORMAT")
        self.detail_url = pk_url("customers:customer_detail")
        self._provisioning: dict[Any, str] = {}
        self._status_tags: dict[Any, str] = {}
        self._days_left: dict[Any, str] = {}
        self._services: dict[tuple[Any, ...], str] = {}
        self._regions: dict[str, Any] = {}

    def provisioning(self, status: ProvisioningStatus) -> str:
        cell = self._provisioning.get(status)
        if cell is None:
            help = PROVISIONING_STATUS_HELP[status]
            # P1: the status's meaning on hover, and what comes next under it.
            cell = self._provisioning[status] = format_html(
                '<span class="prov prov-{}" title="{}">{}</span>'
                '<div class="muted small prov-help">{}</div>',
                status.value,
                help.meaning,
                status.label,
                help.next_step,
            )
        return cell

    def status_tag(self, status: SubscriptionStatus) -> str:
        """The start of one subscription's line: its status tag (the days left follow)."""
        tag = self._status_tags.get(status)
        if tag is None:
            tag = self._status_tags[status] = format_html(
                '<div class="substatus"><span class="tag {}">{}</span>',
                STATUS_TAGS.get(status, ""),
                status.label,
            )
        return tag

    def days_left(self, days: int | None) -> str:
        if days is None or days < 0:
            return ""
        text = self._days_left.get(days)
        if text is None:
            text = self._days_left[days] = format_html(
                ' <span class="muted small days-left">{}</span>', _days_left_text(days)
            )
        return text

    def services(self, types: tuple[Any, ...]) -> str:
        text = self._services.get(types)
        if text is None:
            text = self._services[types] = ", ".join(str(t.label) for t in types)
        return text

    def region(self, value: str) -> Any:
        """``get_data_region_display()``, once per region."""
        if value not in self._regions:
            labels = dict(CustomerRow._meta.get_field("data_region").flatchoices)
            self._regions[value] = force_str(labels.get(value, value), strings_only=True)
        return self._regions[value]
