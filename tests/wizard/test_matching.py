"""W2/W3/W6: the wizard's matching, table-driven, with its query count pinned."""

from __future__ import annotations

import pytest

from licensing.choices import SubscriptionState
from licensing.lifecycle import wizard_name_matches
from licensing.selectors import WIZARD_CANDIDATE_LIMIT, wizard_match
from partnerhub.accounts.choices import Role
from tests.factories import make_customer, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    orgs = {
        "widgets": make_customer(name="Nordic Widgets"),
        "widgets_old": make_customer(name="NORDIC widgets (old)"),
        "wood": make_customer(name="Nordic Wood"),
        "other": make_customer(name="Other Co"),
        "acme": make_customer(name="Acme"),
        "acmes": make_customer(name="Acmes Ltd"),
        "partner": make_partner(name="Nordic Partners"),
    }
    make_user(org=orgs["widgets"], role=Role.CUSTOMER_FULL_ADMIN, email="anna@nordicwidgets.dk")
    make_user(org=orgs["widgets"], role=Role.USER, email="bo@nordicwidgets.dk")
    make_user(org=orgs["widgets"], email="cy@nordicwidgets.dk")
    make_user(org=orgs["widgets_old"], email="old@nordicwidgets.dk")
    make_user(org=orgs["wood"], role=Role.CUSTOMER_FULL_ADMIN, email="wendy@nordicwood.dk")
    make_user(org=orgs["other"], email="stray@nordicwidgets.dk")
    make_user(org=orgs["acme"], email="a@acme.example")
    make_user(org=orgs["acmes"], email="b@acme.example")
    make_user(org=orgs["partner"], role=Role.PARTNER_FULL_ADMIN, email="pat@nordicpartners.dk")
    make_subscription(customer=orgs["widgets"])
    make_subscription(customer=orgs["widgets"], state=SubscriptionState.CANCELLED)
    return orgs


# (case, company name, admin email, expected (a) orgs, expected (b) orgs)
MATCH_TABLE = [
    ("W2a_exact_admin_email", "Anything", "anna@nordicwidgets.dk", ["widgets"], []),
    ("W2a_case_and_whitespace", "  x ", "  ANNA@NordicWidgets.DK ", ["widgets"], []),
    ("W2a_partner_admin", "Nordic Partners", "pat@nordicpartners.dk", ["partner"], []),
    (
        "W2b_not_admin_falls_to_prefix_and_domain",
        "Nordic Widgets",
        "bo@nordicwidgets.dk",
        [],
        ["widgets", "widgets_old"],
    ),
    (
        "W2b_several_candidates_case_and_whitespace",
        "   NORDIC    widgets A/S",
        "New.Person@NORDICWIDGETS.dk",
        [],
        ["widgets", "widgets_old"],
    ),
    ("W2b_four_char_name", "Acme", "new@acme.example", [], ["acme"]),
    ("W2b_four_char_name_case_and_space", " ACME ", "new@ACME.example", [], ["acme"]),
    ("W2b_five_chars_not_four", "Acmes", "new@acme.example", [], ["acmes"]),
    ("W2b_prefix_shared_domain_not", "Nordic Wood", "z@elsewhere.dk", [], []),
    ("W2b_domain_shared_prefix_not", "Othello", "z@nordicwidgets.dk", [], []),
    (
        "W2b_wood_not_listed_for_widgets_domain",
        "Nordic W",
        "z@nordicwidgets.dk",
        [],
        ["widgets", "widgets_old"],
    ),
    ("W2b_none", "Zebra Industries", "q@zebra.example", [], []),
    ("W2b_empty_name", "   ", "q@nordicwidgets.dk", [], []),
]


@pytest.mark.parametrize(
    ("case", "company", "email", "admin_orgs", "candidates"),
    MATCH_TABLE,
    ids=[row[0] for row in MATCH_TABLE],
)
def test_W2_matching_table(world, case, company, email, admin_orgs, candidates):
    match = wizard_match(company_name=company, admin_email=email)
    assert {o.pk for o in match.admin_orgs} == {world[k].pk for k in admin_orgs}
    assert {o.pk for o in match.candidates} == {world[k].pk for k in candidates}
    assert match.is_admin_match == bool(admin_orgs)


def test_W2_name_rule_agrees_with_the_index_column(world):
    """The indexed ``name_prefix`` column and the pure rule say the same thing."""
    for org in world.values():
        assert wizard_name_matches(company_name="nordic widgets", org_name=org.name) == (
            org.name_prefix == "nordi"
        )


def test_W3_candidates_carry_created_user_count_and_active_subscriptions(world):
    match = wizard_match(company_name="Nordic Widgets", admin_email="new@nordicwidgets.dk")
    facts = {o.pk: (o.user_count, o.active_subscription_count, o.created) for o in match.orgs}
    assert facts[world["widgets"].pk][:2] == (3, 1)  # the cancelled one does not count
    assert facts[world["widgets_old"].pk][:2] == (1, 0)
    assert facts[world["widgets"].pk][2] == world["widgets"].created


def test_W6_match_reveals_no_user_names(world):
    match = wizard_match(company_name="Nordic Widgets", admin_email="new@nordicwidgets.dk")
    for org in match.orgs:
        loaded = set(org.__dict__) - {"_state"}
        assert loaded <= {
            "id",
            "name",
            "kind",
            "created",
            "user_count",
            "active_subscription_count",
        }


def test_W2_admin_match_is_one_query(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        wizard_match(company_name="x", admin_email="anna@nordicwidgets.dk")


def test_W2_prefix_and_domain_match_is_two_queries(world, django_assert_num_queries):
    with django_assert_num_queries(2):
        match = wizard_match(company_name="Nordic Widgets", admin_email="n@nordicwidgets.dk")
        assert [o.user_count for o in match.orgs]  # counts come with the rows


def test_W6_candidate_list_is_capped():
    for i in range(WIZARD_CANDIDATE_LIMIT + 2):
        org = make_customer(name=f"Bulky Org {i}")
        make_user(org=org, email=f"u{i}@bulky.example")
    match = wizard_match(company_name="Bulky", admin_email="new@bulky.example")
    assert len(match.candidates) == WIZARD_CANDIDATE_LIMIT
    assert match.more


def test_W2_W6_each_match_says_which_rule_matched_without_user_names(world):
    """Issue 16: the wizard explains its matches; the words name the rule, never a person."""
    admin = wizard_match(company_name="Anything", admin_email="anna@nordicwidgets.dk")
    assert "admin email" in admin.reason
    by_name = wizard_match(company_name="Nordic Widgets", admin_email="bo@nordicwidgets.dk")
    assert "same first five letters" in by_name.reason
    assert "nordicwidgets.dk" in by_name.reason
    for text in (admin.reason, by_name.reason):
        assert "anna" not in text
        assert "bo@" not in text
