"""C4: CSV export, import with every bad row reported, all rows or none, calling data kept."""

from __future__ import annotations

import csv
import io

import pytest

from licensing.calling import service_label
from licensing.choices import ServiceType
from licensing.csv_io import CsvInvalid, users_csv_export, users_csv_import, users_csv_parse
from licensing.models import CallingProfile, License, PhoneNumber
from tests.factories import (
    assign,
    listed_facts_changed,
    make_customer,
    make_subscription,
    make_user,
)

from .conftest import calling_service_of, calling_snapshot

pytestmark = pytest.mark.django_db


def header(sub, service_type):
    return service_label(sub.services.get(type=service_type))


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def db_state(org):
    """Every license and every piece of calling data of the org, to prove nothing changed."""
    return (
        sorted(License.objects.filter(user__org=org).values_list("pk", "user_id", "service_id")),
        sorted(
            CallingProfile.objects.filter(user__org=org).values_list(
                "pk", "extension", "voicemail_pin"
            )
        ),
        sorted(PhoneNumber.objects.filter(org=org).values_list("number", "user_id")),
    )


def test_C4_export_has_one_true_false_column_per_subscription_service(world):
    text = users_csv_export(org=world.org)
    rows = rows_of(text)
    assert list(rows[0]) == [
        "Email",
        "Name",
        header(world.old, ServiceType.CALLING),
        header(world.old, ServiceType.MESSAGING),
        header(world.new, ServiceType.CALLING),
        header(world.new, ServiceType.MESSAGING),
    ]
    assert header(world.old, ServiceType.CALLING) == f"Calling [{world.old.reference}]"
    alice = next(r for r in rows if r["Email"] == world.alice.email)
    assert alice[header(world.old, ServiceType.CALLING)] == "TRUE"
    assert alice[header(world.new, ServiceType.CALLING)] == "FALSE"
    assert {r["Email"] for r in rows} == {world.alice.email, world.admin.email, world.reader.email}


def test_C4_import_moves_calling_and_keeps_calling_data(world):
    before = calling_snapshot(world.alice)
    rows = rows_of(users_csv_export(org=world.org))
    for row in rows:
        if row["Email"] == world.alice.email:
            row[header(world.old, ServiceType.CALLING)] = "FALSE"
            row[header(world.new, ServiceType.CALLING)] = "TRUE"
    text = to_csv(rows)
    parsed = users_csv_parse(org=world.org, content=text)
    assert parsed.errors == []
    assert parsed.plan is not None
    assert [c.email for c in parsed.plan.moves] == [world.alice.email]
    assert users_csv_import(org=world.org, content=text, actor=world.admin) == 1
    assert calling_service_of(world.alice) == world.new
    assert calling_snapshot(world.alice) == before


def test_C4_a_bad_file_reports_every_bad_row_with_its_line_and_changes_nothing(world):
    other = make_customer(name="Other Org")
    foreign = make_subscription(customer=other, services={ServiceType.CALLING: 5})
    bob = make_user(org=world.org, email="bob@fjord.example")
    rows = rows_of(users_csv_export(org=world.org))
    # A good move for alice next to the bad rows: it must not be applied either.
    for row in rows:
        if row["Email"] == world.alice.email:
            row[header(world.old, ServiceType.CALLING)] = "FALSE"
            row[header(world.new, ServiceType.CALLING)] = "TRUE"
        if row["Email"] == world.admin.email:
            row[header(world.old, ServiceType.MESSAGING)] = "yes"
        if row["Email"] == world.reader.email:
            row[header(world.old, ServiceType.CALLING)] = "TRUE"
            row[header(world.new, ServiceType.CALLING)] = "TRUE"
    rows.append({**rows[0], "Email": "nobody@fjord.example"})
    rows.append({**rows[0], "Email": bob.email})
    for row in rows:
        row[f"Calling [{foreign.reference}]"] = "FALSE"
        row["Shoe size"] = "42"
    text = to_csv(rows)
    state = db_state(world.org)

    parsed = users_csv_parse(org=world.org, content=text)
    reasons = [(e.line, e.reason) for e in parsed.errors]
    lines = {r["Email"]: i + 2 for i, r in enumerate(rows)}
    assert any(
        line == 1 and foreign.reference in reason and "not one of this organization" in reason
        for line, reason in reasons
    )
    assert any(line == 1 and "Unknown column" in reason for line, reason in reasons)
    assert any(
        line == lines[world.admin.email] and "not TRUE or FALSE" in reason
        for line, reason in reasons
    )
    assert any(
        line == lines[world.reader.email] and "Calling is TRUE in 2 columns" in reason
        for line, reason in reasons
    )
    assert any(
        line == lines["nobody@fjord.example"] and "Unknown user" in reason
        for line, reason in reasons
    )
    with pytest.raises(CsvInvalid):
        users_csv_import(org=world.org, content=text, actor=world.admin)
    assert db_state(world.org) == state
    assert calling_service_of(world.alice) == world.old


def test_C4_over_quantity_is_reported_on_the_first_row_past_it(world):
    world.new.services.filter(type=ServiceType.CALLING).update(quantity=1)
    listed_facts_changed(world.org)
    bob = make_user(org=world.org, email="bob@fjord.example")
    assign(user=bob, subscription=world.old, service_type=ServiceType.CALLING)
    rows = rows_of(users_csv_export(org=world.org))
    for row in rows:
        if row["Email"] in (world.alice.email, bob.email):
            row[header(world.old, ServiceType.CALLING)] = "FALSE"
            row[header(world.new, ServiceType.CALLING)] = "TRUE"
    text = to_csv(rows)
    state = db_state(world.org)
    parsed = users_csv_parse(org=world.org, content=text)
    line = next(i + 2 for i, r in enumerate(rows) if r["Email"] == bob.email)
    assert [(e.line, "has 1 license; this change needs 2" in e.reason) for e in parsed.errors] == [
        (line, True)
    ]
    with pytest.raises(CsvInvalid):
        users_csv_import(org=world.org, content=text, actor=world.admin)
    assert db_state(world.org) == state


def test_C4_empty_and_garbage_files_are_errors_not_500(world):
    assert users_csv_parse(org=world.org, content="").errors[0].line == 1
    parsed = users_csv_parse(org=world.org, content="just some text\nmore\n")
    assert parsed.errors
    assert not parsed.ok


def test_C4_columns_left_out_leave_those_licenses_alone(world):
    text = f"Email,{header(world.new, ServiceType.MESSAGING)}\n{world.alice.email},TRUE\n"
    users_csv_import(org=world.org, content=text, actor=world.admin)
    assert calling_service_of(world.alice) == world.old
    assert License.objects.filter(user=world.alice).count() == 3


def test_C4_export_keeps_a_name_from_being_read_as_a_formula(world):
    User = type(world.alice)
    User.objects.filter(pk=world.alice.pk).update(first_name="=HYPERLINK(1)")
    row = next(
        r for r in rows_of(users_csv_export(org=world.org)) if r["Email"] == world.alice.email
    )
    assert row["Name"] == "'=HYPERLINK(1)"
