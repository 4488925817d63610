"""Filters of the partner's customer list (P4, D2): every filter lives in the URL, and each is a
condition on the list's read model (``licensing.CustomerRow``): equalities, and bit masks for
the "at least one subscription" filters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from licensing.choices import ProvisioningStatus, ServiceType, SubscriptionStatus
from licensing.models import CustomerRow
from partnerhub.accounts.choices import DataRegion
from partnerhub.accounts.models import Organization
from partnerhub.core.clock import business_today

from .lifecycle import NO_SIGNIN_DAYS
from .selectors import (
    NEARING,
    low_assignment_percent,
    no_signin_cutoff,
    rows_matching_search,
    rows_over_license_limit,
    rows_quiet_since,
    rows_with_low_assignment,
    rows_with_provisioning_status,
    rows_with_service,
    rows_with_subscription_status,
    rows_with_trial_ending,
    rows_without_admin_signin,
)


class CustomerFilterSet(django_filters.FilterSet):
    """The request's partner scopes every filter; choices are fixed lists, never other
    partners' data."""

    q = django_filters.CharFilter(
        label=_("Search name or admin email"),
        help_text=_("Part of the name, the start of an admin's email, or its domain"),
        method="filter_search",
        max_length=200,
    )
    to_be_deleted = django_filters.BooleanFilter(
        label=_("To be deleted"),
        method="filter_to_be_deleted",
        widget=forms.CheckboxInput,
    )
    provisioning_status = django_filters.MultipleChoiceFilter(
        label=_("Provisioning status"),
        choices=ProvisioningStatus.choices,
        method="filter_provisioning",
        widget=forms.CheckboxSelectMultiple,
    )
    subscription_status = django_filters.MultipleChoiceFilter(
        label=_("Subscription status"),
        choices=SubscriptionStatus.choices,
        method="filter_subscription",
        widget=forms.CheckboxSelectMultiple,
    )
    service = django_filters.MultipleChoiceFilter(
        label=_("Service"),
        choices=ServiceType.choices,
        method="filter_service",
        widget=forms.CheckboxSelectMultiple,
    )
    # Issue 16: the dashboard's numbers link here.
    trial_ends_within = django_filters.ChoiceFilter(
        label=_("Trial ends within (days)"),
        choices=[(str(d), str(d)) for d in NEARING],
        method="filter_trial_ends_within",
    )
    quiet = django_filters.BooleanFilter(
        label=_("Nobody signed in lately"),
        method="filter_quiet",
        widget=forms.CheckboxInput,
    )
    no_admin_signin = django_filters.BooleanFilter(
        label=_("No admin sign-in lately"),  # with its period, per request (``__init__``)
        method="filter_no_admin_signin",
        widget=forms.CheckboxInput,
    )
    low_assignment = django_filters.BooleanFilter(
        label=_("Low license assignment"),
        method="filter_low_assignment",
        widget=forms.CheckboxInput,
    )
    over_limit = django_filters.BooleanFilter(
        label=_("Over the license limit"),
        method="filter_over_limit",
        widget=forms.CheckboxInput,
    )
    region = django_filters.MultipleChoiceFilter(
        label=_("Data-location region"),
        field_name="data_region",
        choices=DataRegion.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = CustomerRow
        fields: list[str] = []

    def __init__(self, *args: Any, partner: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partner = partner
        # Periods and the threshold are said in the request's language (a lazy plural
        # formatted at import time would stay English).
        self.form.fields["no_admin_signin"].label = ngettext(
            "No admin sign-in for %(days)d day",
            "No admin sign-in for %(days)d days",
            NO_SIGNIN_DAYS,
        ) % {"days": NO_SIGNIN_DAYS}
        self.form.fields["low_assignment"].help_text = _(
            "Under %(percent)d%% of the licenses bought are assigned"
        ) % {"percent": low_assignment_percent()}

    def filter_search(self, queryset: QuerySet[CustomerRow], name: str, value: str) -> Any:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(rows_matching_search(text=value))

    def filter_to_be_deleted(self, queryset: QuerySet[CustomerRow], name: str, value: Any) -> Any:
        # D2: unticked means "everyone", not "only those not marked".
        return queryset.filter(deletion_marked_at__isnull=False) if value else queryset

    def filter_trial_ends_within(
        self, queryset: QuerySet[CustomerRow], name: str, value: Any
    ) -> Any:
        if not value:
            return queryset
        # The site's day, as the dashboard counts it (partnerhub.core.clock).
        return queryset.filter(rows_with_trial_ending(today=business_today(), days=int(value)))

    def filter_quiet(self, queryset: QuerySet[CustomerRow], name: str, value: Any) -> Any:
        if not value:
            return queryset
        since = timezone.now() - timedelta(days=NO_SIGNIN_DAYS)
        return queryset.filter(rows_quiet_since(since=since))

    # Issue 16: the dashboard's numbers, with the dashboard's conditions.
    def filter_no_admin_signin(self, queryset: QuerySet[CustomerRow], name: str, value: Any) -> Any:
        if not value:
            return queryset
        return queryset.filter(rows_without_admin_signin(since=no_signin_cutoff(timezone.now())))

    def filter_low_assignment(self, queryset: QuerySet[CustomerRow], name: str, value: Any) -> Any:
        if not value:
            return queryset
        return queryset.filter(rows_with_low_assignment(percent=low_assignment_percent()))

    def filter_over_limit(self, queryset: QuerySet[CustomerRow], name: str, value: Any) -> Any:
        return queryset.filter(rows_over_license_limit()) if value else queryset

    def filter_provisioning(self, queryset: QuerySet[CustomerRow], name: str, value: Any) -> Any:
        return queryset.filter(rows_with_provisioning_status(statuses=value)) if value else queryset

    def filter_subscription(self, queryset: QuerySet[CustomerRow], name: str, value: Any) -> Any:
        return queryset.filter(rows_with_subscription_status(statuses=value)) if value else queryset

    def filter_service(self, queryset: QuerySet[CustomerRow], name: str, value: Any) -> Any:
        return queryset.filter(rows_with_service(types=value)) if value else queryset
