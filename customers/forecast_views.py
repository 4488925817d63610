"""The deletion forecast pages (issue 16): the partner's customers, and support's view across
all orgs with a day-by-day chart and a dry-run tick at any date."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from partnerhub.accounts.models import Organization
from partnerhub.accounts.permissions import PartnerMemberMixin

from .forecast import (
    DEFAULT_HORIZON,
    HORIZONS,
    ForecastDay,
    ForecastRow,
    deletion_forecast,
    deletions_by_day,
    forecast_csv,
    forecast_page,
)
from .lifecycle import ForecastKind
from .tick import lifecycle_tick

CHART_WIDTH, CHART_HEIGHT = 720, 160
ROWS_SHOWN = 500  # the page shows the soonest; the CSV has every row


def _horizon(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", DEFAULT_HORIZON))
    except ValueError:
        return DEFAULT_HORIZON
    return days if days in HORIZONS else DEFAULT_HORIZON


def _csv(rows: list[Any]) -> HttpResponse:
    response = HttpResponse(forecast_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="deletion-forecast.csv"'
    return response


class _DayLabels(dict[date, str]):
    """Each day in the locale's DATE_FORMAT, formatted once however many rows show it (what
    the template's ``|date:"DATE_FORMAT"`` gives, without its cost on every row)."""

    def __missing__(self, day: date) -> str:
        self[day] = label = date_format(day, "DATE_FORMAT")
        return label


def _org_links(url_name: str) -> tuple[str, str]:
    """The link to an org, as the text before and after its id: reversed once per page, not
    once per row (a reverse per row was a tenth of the support forecast's time at 100k)."""
    marker = 9_876_543_210  # an id no route contains otherwise
    before, _sep, after = reverse(url_name, args=[marker]).partition(str(marker))
    return before, after


def display_rows(
    rows: Iterable[ForecastRow], *, url_name: str, days: _DayLabels
) -> list[dict[str, Any]]:
    """The table's rows with what the template shows already formatted: the link, what
    happens, the date in the locale's format (the page's cost at 500 rows)."""
    before, after = _org_links(url_name)
    what = {
        ForecastKind.DELETION: gettext("Deletion"),
        ForecastKind.WARNING: gettext("Deletion warning"),
    }
    return [
        {
            "kind": r.kind,
            "url": f"{before}{r.org_id}{after}",
            "name": r.name,
            "what": what[r.kind],
            "on": days[r.on],
            "reason": r.reason,
        }
        for r in rows
    ]


def chart_bars(days: list[ForecastDay], labels: _DayLabels | None = None) -> dict[str, Any]:
    """Geometry of a server-rendered SVG bar chart (no script, no inline style)."""
    labels = _DayLabels() if labels is None else labels
    top = max((d.deletions for d in days), default=0) or 1
    width = CHART_WIDTH / max(len(days), 1)
    bars = [
        {
            "x": round(i * width, 1),
            "width": max(round(width - 1, 1), 1),
            "height": round(d.deletions / top * (CHART_HEIGHT - 20), 1),
            "y": round(CHART_HEIGHT - d.deletions / top * (CHART_HEIGHT - 20), 1),
            "day": d,
            "label": labels[d.on],
        }
        for i, d in enumerate(days)
    ]
    return {"bars": bars, "width": CHART_WIDTH, "height": CHART_HEIGHT, "top": top}


class PartnerForecastView(PartnerMemberMixin, View):
    """D2/D8: the partner's customers that will be warned or deleted if nothing happens."""

    def get(self, request: HttpRequest) -> HttpResponse:
        days = _horizon(request)
        now = timezone.now()
        if request.GET.get("export") == "csv":
            return _csv(deletion_forecast(partner=self.partner, now=now, days=days))
        page = forecast_page(partner=self.partner, now=now, days=days, limit=ROWS_SHOWN)
        return render(
            request,
            "customers/forecast.html",
            {
                "rows": display_rows(
                    page.rows, url_name="customers:customer_detail", days=_DayLabels()
                ),
                "total": page.total,
                "more": max(page.total - ROWS_SHOWN, 0),
                "days": days,
                "horizons": HORIZONS,
                "support": False,
            },
        )


class DryRunForm(forms.Form):
    at = forms.DateField(
        label=_("Run the daily tick as of"), widget=forms.DateInput(attrs={"type": "date"})
    )


@method_decorator(staff_member_required, name="dispatch")
class SupportForecastView(View):
    """Support staff: the forecast across all orgs, a day-by-day chart of expected deletions
    with the days the safety limit would hold a batch, and a dry-run tick at any date."""

    def get(self, request: HttpRequest) -> HttpResponse:
        days = _horizon(request)
        now = timezone.now()
        if request.GET.get("export") == "csv":
            return _csv(deletion_forecast(partner=None, now=now, days=days))
        page = forecast_page(partner=None, now=now, days=days, limit=ROWS_SHOWN)
        per_day = deletions_by_day(
            page.deletions_per_day,
            org_count=Organization.objects.count(),
            start=now.date(),
            days=days,
        )
        report = None
        form = DryRunForm(request.GET if "at" in request.GET else None)
        if form.is_bound and form.is_valid():
            at = datetime.combine(form.cleaned_data["at"], time(2, 0), tzinfo=UTC)
            report = lifecycle_tick(now=at, dry_run=True)
        labels = _DayLabels()
        return render(
            request,
            "customers/forecast.html",
            {
                "rows": display_rows(
                    page.rows, url_name="admin:accounts_organization_change", days=labels
                ),
                "total": page.total,
                "more": max(page.total - ROWS_SHOWN, 0),
                "days": days,
                "horizons": HORIZONS,
                "support": True,
                "chart": chart_bars(per_day, labels),
                "held_days": [
                    {"label": labels[d.on], "deletions": d.deletions} for d in per_day if d.held
                ],
                "form": form,
                "report": report,
            },
        )


class DashboardView(PartnerMemberMixin, View):
    """The partner's landing page: totals, what needs attention, each a link to the list."""

    def get(self, request: HttpRequest) -> HttpResponse:
        from .dashboard import CHART_WEEKS, partner_dashboard
        from .lifecycle import NO_SIGNIN_DAYS

        today, now = timezone.localdate(), timezone.now()
        board = partner_dashboard(partner=self.partner, today=today, now=now)
        top = max((max(w.trial_ends, w.deletions) for w in board.weeks), default=0) or 1
        slot = CHART_WIDTH / CHART_WEEKS
        bars = [
            {
                "week": w,
                "x": round(i * slot + 4, 1),
                "x2": round(i * slot + slot / 2, 1),
                "width": round(slot / 2 - 4, 1),
                "trial_h": round(w.trial_ends / top * (CHART_HEIGHT - 20), 1),
                "trial_y": round(CHART_HEIGHT - w.trial_ends / top * (CHART_HEIGHT - 20), 1),
                "del_h": round(w.deletions / top * (CHART_HEIGHT - 20), 1),
                "del_y": round(CHART_HEIGHT - w.deletions / top * (CHART_HEIGHT - 20), 1),
            }
            for i, w in enumerate(board.weeks)
        ]
        return render(
            request,
            "customers/dashboard.html",
            {
                "board": board,
                "bars": bars,
                "quiet_days": NO_SIGNIN_DAYS,
                "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT, "top": top},
            },
        )
