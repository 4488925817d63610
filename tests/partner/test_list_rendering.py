"""How the customer list renders (issue 11: at 100k on SQLite the list must not be slower than
the admin changelist in any case; its SQL was a few ms, the rest Python): the page's template
work does not grow with its rows, its filter form's checkboxes never go through the widget
templates, the rows it loads say what the full models say, and the cells built as strings
are escaped and read like the template's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.forms.renderers import DjangoTemplates
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from customers.selectors import _listed_services, customer_page
from licensing.choices import ServiceType, SubscriptionKind
from licensing.models import Service
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import Organization
from partnerhub.core.listview import rows_html
from tests.factories import make_customer, make_subscription, make_user

pytestmark = pytest.mark.django_db
URL = reverse("customers:customer_list")


def _customers(world, n, prefix="Row"):
    today = timezone.localdate()
    for i in range(n):
        org = make_customer(name=f"{prefix} {i:03d}", partner=world.partner)
        make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
        make_subscription(
            customer=org,
            partner=world.partner,
            kind=SubscriptionKind.TRIAL if i % 2 else SubscriptionKind.PAID,
            end=today + timedelta(days=i % 70),
            services={ServiceType.MESSAGING: 2, ServiceType.CALLING: 3},
        )


def _variable_nodes(monkeypatch):
    from django.template import base

    seen = []
    real = base.VariableNode.render
    monkeypatch.setattr(
        base.VariableNode, "render", lambda self, context: seen.append(1) or real(self, context)
    )
    return seen


def test_the_pages_template_work_does_not_grow_with_its_rows(client, world, monkeypatch):
    """Cells are built in Python (``fast_cells``, ``rows_html``): 100 rows render as many
    template variables as 25 do (a template loop made 9 per row)."""
    _customers(world, 25, prefix="Few")
    _customers(world, 100, prefix="Many")
    client.force_login(world.sales_admin)
    seen = _variable_nodes(monkeypatch)
    counts = {}
    for per_page, q in ((25, "few"), (100, "many")):  # one full page each
        seen.clear()
        response = client.get(URL, {"per_page": per_page, "q": q, "sort": "name"})
        assert response.status_code == 200
        assert response.content.decode().count('<td class="col-name">') == per_page
        counts[per_page] = len(seen)
    assert counts[100] == counts[25]


def test_no_checkbox_of_the_filter_form_goes_through_the_widget_templates(
    client, world, monkeypatch
):
    """~40 checkboxes were five nested template includes each; ``FastFormRenderer`` writes
    the same HTML (tests/test_formrender.py) without them."""
    client.force_login(world.sales_admin)
    rendered = []
    real = DjangoTemplates.render
    monkeypatch.setattr(
        DjangoTemplates,
        "render",
        lambda self, name, *a, **k: rendered.append(name) or real(self, name, *a, **k),
    )
    response = client.get(URL, {"provisioning_status": "failed", "q": "row"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="provisioning_status" value="failed"' in html
    assert 'id="id_provisioning_status_0"' in html
    assert [name for name in rendered if name.startswith("django/forms/widgets/")] == []


SERVICE_FACTS = ("pk", "type", "quantity", "provisioning_status", "provisioning_reason")
SUBSCRIPTION_FACTS = ("pk", "customer_id", "kind", "state", "start_date", "end_date")
SUBSCRIPTION_FACTS += ("period_end_date", "is_trial")


def test_the_listed_services_are_the_services_as_the_models_load_them(world):
    """The page's services come from narrow rows as plain objects (one per subscription,
    shared by its services): every fact the list and the API read is the full model's, and
    reading anything else fails loudly instead of costing a query per row."""
    _customers(world, 6)
    customers = list(world.partner.customer_relationships.values_list("customer_id", flat=True))
    listed = _listed_services(partner=world.partner, customer_ids=customers)
    full = list(
        Service.objects.filter(
            subscription__partner=world.partner, subscription__customer_id__in=customers
        )
        .select_related("subscription")
        .order_by("subscription__start_date", "subscription_id", "type")
    )
    assert len(listed) == len(full) > 6
    for mine, theirs in zip(listed, full, strict=True):
        for name in SERVICE_FACTS:
            assert getattr(mine, name) == getattr(theirs, name), name
        for name in SUBSCRIPTION_FACTS:
            assert getattr(mine.subscription, name) == getattr(theirs.subscription, name), name
    by_sub = {}
    for service in listed:
        assert by_sub.setdefault(service.subscription.pk, service.subscription) is (
            service.subscription
        )
    with pytest.raises(AttributeError):
        listed[0].provisioned_at  # noqa: B018


def test_a_listed_row_shows_what_the_customer_page_shows(client, world):
    """P2/P3: the list's subscription lines (status, days left, services) are the customer
    page's, which loads full models."""
    _customers(world, 4)
    client.force_login(world.sales_admin)
    table = client.get(URL, {"per_page": 100}).context["table"]
    today, now = timezone.localdate(), timezone.now()
    for row in table.data.data:
        customer = Organization.objects.get(pk=row.customer_id)
        page = customer_page(partner=world.partner, customer=customer, today=today, now=now)

        def lines(rows):
            return [
                (
                    r.status,
                    r.days_left,
                    r.renewable,
                    [(s.type, s.provisioning_status) for s in r.services],
                )
                for r in rows
            ]

        assert lines(row.subscription_rows) == lines(
            [r for r in page.subscription_rows if r.status is not None]
        )
        assert row.provisioning_status == page.org.provisioning_status


def test_names_and_emails_are_escaped_in_the_cells(client, world):
    org = make_customer(name='<script>alert("x")</script> & Co', partner=world.partner)
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="a&b@x.example")
    make_subscription(customer=org, partner=world.partner, services={ServiceType.CALLING: 1})
    client.force_login(world.sales_admin)
    html = client.get(URL, {"q": "script"}).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</a>" in html
    assert 'aria-label="Select &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"' in html
    assert "a&amp;b<wbr>@x.example" in html


def test_rows_html_is_what_the_template_loop_gave():
    loop = Template(
        "{% for line in cells %}\n"
        '  <tr>{% for name, cell in line %}<td class="col-{{ name }}">{{ cell }}</td>'
        "{% endfor %}</tr>\n{% endfor %}"
    )
    cells = [
        [("a", "<b>&"), ("b", mark_safe("<i>safe</i>")), ("c", 1234567), ("d", 2.5)],
        [("a", gettext_lazy("Customers")), ("b", "—"), ("c", timezone.now().date()), ("d", "")],
    ]
    assert rows_html(cells) == loop.render(Context({"cells": cells}))
