"""The partner's dashboard page (issue 16): the numbers of ``customers.dashboard``, each a link
to the customer list filtered by the same condition, and a 12-week SVG chart (no script)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from partnerhub.accounts.permissions import PartnerMemberMixin
from partnerhub.core.clock import business_today

from .dashboard import CHART_WEEKS, DAYS, partner_dashboard
from .forecast_views import CHART_HEIGHT, CHART_WIDTH


class DashboardView(PartnerMemberMixin, View):
    """The partner's landing page: totals, what needs attention, each a link to the list."""

    def get(self, request: HttpRequest) -> HttpResponse:
        # The days the numbers count are the site's, as the list's filters count them.
        today, now = business_today(), timezone.now()
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
                "days": DAYS,
                "chart": {
                    "width": CHART_WIDTH,
                    "height": CHART_HEIGHT,
                    "top": top,
                    "weeks": CHART_WEEKS,
                },
            },
        )
