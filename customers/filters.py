"""Filters of the partner's customer list (P4, D2): every filter lives in the URL."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licensing.choices import ProvisioningStatus, ServiceType, SubscriptionStatus
from partnerhub.accounts.choices import DataRegion
from partnerhub.accounts.models import Organization

from .selectors import (
    customer_has_service,
    customer_ids_with_admin_email,
    customers_with_provisioning_status,
    customers_with_subscription_status,
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
    region = django_filters.MultipleChoiceFilter(
        label=_("Data-location region"),
        field_name="data_region",
        choices=DataRegion.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Organization
        fields: list[str] = []

    def __init__(self, *args: Any, partner: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partner = partner
        self.today = timezone.localdate()

    def filter_search(self, queryset: QuerySet[Organization], name: str, value: str) -> Any:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(pk__in=customer_ids_with_admin_email(text=value))
        )

    def filter_to_be_deleted(self, queryset: QuerySet[Organization], name: str, value: Any) -> Any:
        # D2: unticked means "everyone", not "only those not marked".
        return queryset.filter(deletion_marked_at__isnull=False) if value else queryset

    def filter_provisioning(self, queryset: QuerySet[Organization], name: str, value: Any) -> Any:
        if not value:
            return queryset
        return queryset.filter(
            customers_with_provisioning_status(partner=self.partner, statuses=value)
        )

    def filter_subscription(self, queryset: QuerySet[Organization], name: str, value: Any) -> Any:
        if not value:
            return queryset
        return queryset.filter(
            customers_with_subscription_status(
                partner=self.partner, today=self.today, statuses=value
            )
        )

    def filter_service(self, queryset: QuerySet[Organization], name: str, value: Any) -> Any:
        if not value:
            return queryset
        return queryset.filter(customer_has_service(partner=self.partner, types=value))
