"""Filters of the partner's order list: every filter lives in the URL."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import OrderStatus
from .models import Order


class OrderFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=OrderStatus.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Order
        fields = ["status"]
