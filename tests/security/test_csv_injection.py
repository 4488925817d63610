"""Issue 9, finding 3: no export writes a cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from licensing.csv_io import users_csv_export, users_csv_parse
from partnerhub.accounts.choices import Role
from partnerhub.core.csvcells import csv_cell, csv_cell_read
from tests.factories import make_customer, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db

NASTY = ["=cmd|' /C calc'!A0", "+SUM(1+1)", "-2+3", "@SUM(1)", "\tTAB", "\rCR"]


@pytest.mark.parametrize("text", NASTY)
def test_csv_cell_escapes_formula_starts(text):
    assert csv_cell(text) == "'" + text
    assert csv_cell_read(csv_cell(text)) == text


def test_csv_cell_keeps_plain_text_and_numbers():
    assert csv_cell("Litware") == "Litware"
    assert csv_cell(-3) == -3
    assert csv_cell(None) == ""


def _cells(content: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content)) for cell in row]


def test_finding_3_partner_customer_list_export_escapes_org_names(client):
    partner = make_partner(name="Northwind")
    for name in NASTY:
        make_subscription(customer=make_customer(name=name, partner=partner), partner=partner)
    client.force_login(make_user(org=partner, role=Role.SALES_ADMIN))
    response = client.get(reverse("customers:customer_list"), {"export": "csv"})
    content = b"".join(response.streaming_content).decode()
    cells = _cells(content)
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), repr(cell)
    # Names are normalised on create (whitespace collapsed); the formula ones come out escaped.
    for name in NASTY[:4]:
        assert "'" + name in cells


def test_control_hub_user_export_escapes_emails_names_and_imports_back():
    org = make_customer(name="Litware")
    make_subscription(customer=org)
    make_user(org=org, email="=evil@litware.example", first_name="@SUM(1)", last_name="")
    content = users_csv_export(org=org)
    cells = _cells(content)
    assert "'=evil@litware.example" in cells
    assert "'@SUM(1)" in cells
    parsed = users_csv_parse(org=org, content=content)
    assert parsed.ok, parsed.errors
