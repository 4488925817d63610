"""Choosing a language and a time zone (issue 14): the picker in every top bar and on the
sign-in page, the choice stored on the person and winning over the browser's, new people
getting the browser's language, ``<html lang>`` saying the language served, dates in the
person's locale and time zone, emails in the recipient's language, CSV words in the person's.

Expected words come from the catalogs (gettext under the language), never typed in English,
so these tests hold before and after the translators' work."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from customers.user_csv import users_add_csv_parse, users_add_csv_sample
from customers.user_services import org_user_add
from licensing.choices import ServiceType
from licensing.csv_io import users_csv_export, users_csv_parse
from partnerhub.accounts.choices import Role
from partnerhub.accounts.language import recipient_locales
from partnerhub.accounts.models import AuditEntry, User
from partnerhub.core.csvcells import CSV_FALSE, CSV_TRUE, csv_bool_reader
from partnerhub.core.models import OutboxEmail
from partnerhub.core.outbox import email_owe, email_render
from tests.factories import (
    PASSWORD,
    assign,
    make_customer,
    make_partner,
    make_subscription,
    make_user,
)

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "da", "sv", "it", "zh-hant"]
HTML_LANG = re.compile(r'<html lang="([^"]+)"')


def html_lang_of(response) -> str:
    match = HTML_LANG.search(response.content.decode())
    assert match, "no <html lang>"
    return match.group(1)


def served(language: str, msgid: str) -> str:
    with translation.override(language):
        return translation.gettext(msgid)


@pytest.fixture
def partner_person(db):
    partner = make_partner(name="Picker Partners")
    return make_user(org=partner, role=Role.SALES_ADMIN, email="sam@picker.example", language="en")


@pytest.fixture
def customer_admin(db):
    org = make_customer(name="Fjordpicker ApS", country="DK")
    return make_user(
        org=org, role=Role.CUSTOMER_FULL_ADMIN, email="admin@fjordpicker.example", language="en"
    )


def sign_in(client, user, **headers):
    response = client.post(
        reverse("login"), {"username": user.email, "password": PASSWORD}, **headers
    )
    assert response.status_code == 302, response.content[:500]


# ---- the picker ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_picking_a_language_stores_it_on_the_person_and_serves_it(client, partner_person, language):
    sign_in(client, partner_person)
    response = client.post(
        reverse("set_language"), {"language": language, "next": reverse("customers:customer_list")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:customer_list")
    partner_person.refresh_from_db()
    assert partner_person.language == language
    page = client.get(reverse("customers:customer_list"))
    assert page["Content-Language"] == language
    assert html_lang_of(page) == {"zh-hant": "zh-Hant"}.get(language, language)
    assert served(language, "Customers") in page.content.decode()
    if language != "en":  # the person's choice is audited (picking "en" again changes nothing)
        assert AuditEntry.objects.filter(action="person.locale_set", actor=partner_person).exists()


def test_the_stored_language_wins_over_the_browsers(client, partner_person):
    User.objects.filter(pk=partner_person.pk).update(language="sv")
    sign_in(client, partner_person, HTTP_ACCEPT_LANGUAGE="da")
    page = client.get(reverse("customers:customer_list"), HTTP_ACCEPT_LANGUAGE="da")
    assert html_lang_of(page) == "sv"
    assert page["Content-Language"] == "sv"
    partner_person.refresh_from_db()
    assert partner_person.language == "sv"  # signing in with a Danish browser changed nothing


def test_a_new_person_gets_the_browsers_language_at_the_first_sign_in(client):
    partner = make_partner(name="Fresh Partners")
    newcomer = make_user(org=partner, role=Role.SALES_ADMIN, email="new@fresh.example", language="")
    assert newcomer.language == ""
    sign_in(client, newcomer, HTTP_ACCEPT_LANGUAGE="zh-TW,zh;q=0.9,en;q=0.5")
    newcomer.refresh_from_db()
    assert newcomer.language == "zh-hant"
    # Not an audited choice of theirs: the browser said it.
    assert not AuditEntry.objects.filter(action="person.locale_set").exists()


def test_a_language_picked_on_the_sign_in_page_is_stored_at_sign_in(client, partner_person):
    page = client.get(reverse("login"))
    assert 'action="/i18n/setlang/"' in page.content.decode()
    client.post(reverse("set_language"), {"language": "it", "next": reverse("login")})
    page = client.get(reverse("login"))
    assert html_lang_of(page) == "it"
    assert served("it", "Sign in") in page.content.decode()
    sign_in(client, partner_person)
    partner_person.refresh_from_db()
    assert partner_person.language == "it"


def test_an_unknown_language_changes_nothing(client, partner_person):
    sign_in(client, partner_person)
    client.post(reverse("set_language"), {"language": "de", "next": "/"})
    partner_person.refresh_from_db()
    assert partner_person.language == "en"


def test_the_picker_never_redirects_off_site(client, partner_person):
    sign_in(client, partner_person)
    response = client.post(
        reverse("set_language"), {"language": "da", "next": "https://evil.example/"}
    )
    assert "evil.example" not in response.get("Location", "")


def test_every_console_has_the_picker_in_its_top_bar(client, customer_admin):
    """Partner Hub, Control Hub, the support console, the setup wizard's pages (anonymous)
    and the sign-in page: one form posting to set_language, the current language selected."""
    staff = make_user(org=None, email="staff@picker.example", is_staff=True, is_superuser=True)
    partner = make_partner(name="Topbar Partners")
    seller = make_user(org=partner, role=Role.SALES_ADMIN, email="s@topbar.example")
    pages = [(None, reverse("login")), (None, reverse("admin:login"))]
    pages += [(seller, reverse("customers:customer_list"))]
    pages += [(customer_admin, reverse("controlhub:overview", args=[customer_admin.org_id]))]
    pages += [(staff, reverse("admin:index")), (staff, reverse("person_settings"))]
    for user, url in pages:
        client.logout()
        if user is not None:
            client.force_login(user)
        body = client.get(url).content.decode()
        assert 'action="/i18n/setlang/"' in body, url
        assert 'name="language"' in body, url
        assert '<option value="zh-hant" lang="zh-Hant"' in body, url
        assert "<script>" not in body.split('class="language-picker"')[1][:2000]


def test_the_setup_wizard_is_served_in_the_visitors_language(client):
    """The wizard has no sign-in: Accept-Language, then the picker's cookie."""
    page = client.get("/setup/not-a-token/", HTTP_ACCEPT_LANGUAGE="sv")
    assert html_lang_of(page) == "sv"
    assert 'action="/i18n/setlang/"' in page.content.decode()
    client.post(reverse("set_language"), {"language": "da", "next": "/setup/not-a-token/"})
    assert html_lang_of(client.get("/setup/not-a-token/", HTTP_ACCEPT_LANGUAGE="sv")) == "da"


# ---- time zones and formats --------------------------------------------------------------


def test_a_person_reads_times_in_their_time_zone_else_their_orgs(client, customer_admin):
    org = customer_admin.org
    sign_in(client, customer_admin)
    page = client.get(reverse("person_settings"))
    # The org names no zone: its country's (Denmark) is the default.
    assert "Europe/Copenhagen" in page.content.decode()
    assert timezone.get_current_timezone_name() == "UTC"  # the zone ends with the request
    response = client.post(
        reverse("person_settings"), {"language": "da", "time_zone": "Asia/Taipei"}
    )
    assert response.status_code == 302
    customer_admin.refresh_from_db()
    assert (customer_admin.language, customer_admin.time_zone) == ("da", "Asia/Taipei")
    page = client.get(reverse("person_settings"))
    assert html_lang_of(page) == "da"
    assert served("da", "Your language and time zone are saved.") in page.content.decode()
    # Back to the org's zone, which the org now names itself.
    org.time_zone = "America/Sao_Paulo"
    org.save()
    client.post(reverse("person_settings"), {"language": "da", "time_zone": ""})
    customer_admin.refresh_from_db()
    assert customer_admin.time_zone == ""


def test_an_invalid_time_zone_is_refused(client, customer_admin):
    sign_in(client, customer_admin)
    response = client.post(
        reverse("person_settings"), {"language": "en", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 200
    customer_admin.refresh_from_db()
    assert customer_admin.time_zone == ""


def test_pages_cost_no_extra_query_for_the_language_and_zone(
    client, partner_person, django_assert_num_queries
):
    sign_in(client, partner_person)
    url = reverse("person_settings")
    client.get(url)  # the session knows the org's zone from now on
    # session, user, org (the top bar and the form's default zone), the bell's count: none for
    # the language or the zone, which the user row and the session carry.
    with django_assert_num_queries(4):
        client.get(url)


# ---- emails ------------------------------------------------------------------------------

AT = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)


def test_an_email_is_rendered_in_its_recipients_language_and_time_zone(customer_admin):
    User.objects.filter(pk=customer_admin.pk).update(language="sv", time_zone="Asia/Taipei")
    email_owe(
        key="t-sv",
        kind="user_invitation",
        to=customer_admin.email,
        template="user_invitation",
        context={
            "org_name": "Fjordpicker ApS",
            "inviter": "",
            "accept_url": "http://testserver/x/",
            "expires_at": AT,
            "valid_days": 7,
        },
        org_id=customer_admin.org_id,
    )
    owed = OutboxEmail.objects.get(key="t-sv")
    subject, text, _html = email_render(
        template="user_invitation",
        context={
            "org_name": "Fjordpicker ApS",
            "inviter": "",
            "accept_url": "http://testserver/x/",
            "expires_at": AT,
            "valid_days": 7,
        },
        language="sv",
        time_zone="Asia/Taipei",
    )
    assert (owed.subject, owed.body_text) == (subject, text)
    # Swedish dates (Django's sv formats), Taipei time: 23:30 UTC is 07:30 the next day.
    with translation.override("sv"), timezone.override("Asia/Taipei"):
        assert date_format(timezone.localtime(AT), "DATETIME_FORMAT") in owed.body_text
    assert "07:30" in owed.body_text
    assert "(CST)" in owed.body_text  # the zone named, no longer a fixed "(UTC)"


def test_an_address_with_no_account_reads_its_orgs_countrys_language():
    danish = make_customer(name="Uden Konto A/S", country="DK")
    taiwanese = make_customer(name="Taipei Co", country="TW")
    american = make_customer(name="Nowhere Inc", country="US")
    found = recipient_locales(
        [
            ("nobody@uden.example", danish.pk),
            ("nobody@taipei.example", taiwanese.pk),
            ("nobody@nowhere.example", american.pk),
        ]
    )
    assert found[("nobody@uden.example", danish.pk)].language == "da"
    assert found[("nobody@uden.example", danish.pk)].time_zone == "Europe/Copenhagen"
    assert found[("nobody@taipei.example", taiwanese.pk)].language == "zh-hant"
    assert found[("nobody@taipei.example", taiwanese.pk)].time_zone == "Asia/Taipei"
    # A country the product does not speak: the sender's language (here the active one).
    with translation.override("it"):
        found = recipient_locales([("nobody@nowhere.example", american.pk)])
    assert found[("nobody@nowhere.example", american.pk)].language == "it"


def test_an_address_with_no_account_and_no_org_reads_the_senders_language():
    with translation.override("da"):
        found = recipient_locales([("support@elsewhere.example", None)])
    assert found[("support@elsewhere.example", None)].language == "da"


def test_a_person_who_never_signed_in_reads_their_orgs_countrys_language(customer_admin):
    """Users added in Control Hub have no language until they sign in: the invitation is
    written in the language of their org's country."""
    sweden = make_customer(name="Svensk AB", country="SE")
    admin = make_user(org=sweden, role=Role.CUSTOMER_FULL_ADMIN, email="a@svensk.example")
    person = org_user_add(org=sweden, email="ny@svensk.example", invite=True, actor=admin)
    assert person.language == ""
    email = OutboxEmail.objects.get(kind="user_invitation", to_email="ny@svensk.example")
    with translation.override("sv"):
        expected = translation.gettext(
            "What to do: open the link and choose a password. "
            "Then you sign in with this email address and that "
            "password."
        )
    assert expected in email.body_text


def test_bulk_emails_render_each_recipient_in_their_language(customer_admin):
    """A sweep's chunk (``emails_owe_bulk``) resolves every recipient in one go."""
    from partnerhub.core.sweeps import OwedEmail, emails_owe_bulk

    other = make_user(
        org=customer_admin.org, role=Role.USER, email="it@fjordpicker.example", language="it"
    )
    context = {
        "org_name": "Fjordpicker ApS",
        "inviter": "",
        "accept_url": "u",
        "expires_at": AT,
        "valid_days": 7,
    }
    emails_owe_bulk(
        OwedEmail(
            key=f"bulk-{u.pk}",
            kind="user_invitation",
            to=u.email,
            template="user_invitation",
            context=context,
            org_id=u.org_id,
        )
        for u in (customer_admin, other)
    )
    for user in (customer_admin, other):
        owed = OutboxEmail.objects.get(key=f"bulk-{user.pk}")
        _subject, text, _html = email_render(
            template="user_invitation",
            context=context,
            language=user.language,
            time_zone="Europe/Copenhagen",
        )
        assert owed.body_text == text
    assert len(mail.outbox) == 0 or all(m.subject for m in mail.outbox)


# ---- CSV ---------------------------------------------------------------------------------


@pytest.fixture
def csv_org(customer_admin):
    org = customer_admin.org
    sub = make_subscription(customer=org, services={ServiceType.CALLING: 5})
    alice = make_user(org=org, role=Role.USER, email="alice@fjordpicker.example")
    assign(user=alice, subscription=sub, service_type=ServiceType.CALLING)
    return org, sub, alice


@pytest.mark.parametrize("language", LANGUAGES)
def test_csv_export_speaks_the_persons_language(csv_org, language):
    org, _sub, _alice = csv_org
    with translation.override(language):
        text = users_csv_export(org=org)
        true, false = str(CSV_TRUE), str(CSV_FALSE)
        email_header = translation.pgettext("CSV column", "Email")
        calling = str(ServiceType.CALLING.label)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == email_header
    assert rows[0][2].startswith(calling)
    values = {row[0]: row[2] for row in rows[1:]}
    assert values["alice@fjordpicker.example"] == true
    assert values["admin@fjordpicker.example"] == false


@pytest.mark.parametrize("language", ["da", "sv", "it", "zh-hant"])
def test_csv_import_accepts_english_and_the_persons_words(csv_org, language):
    org, _sub, _alice = csv_org
    with translation.override("en"):
        english = users_csv_export(org=org)
    with translation.override(language):
        own = users_csv_export(org=org)
        for text in (english, own):
            parsed = users_csv_parse(org=org, content=text)
            assert parsed.errors == [], (language, parsed.errors)
            assert parsed.rows == 2
        read = csv_bool_reader()
        assert read("TRUE") is True
        assert read("false") is False
        assert read(str(CSV_TRUE)) is True
        assert read(str(CSV_FALSE).lower()) is False
        assert read("maybe") is None


def test_swedish_csv_says_sant_and_falsk_from_the_catalog(csv_org):
    """Seed 004: the Swedish CSV columns are SANT/FALSK (the catalog's words; an import of a
    Swedish person takes them, and the English ones)."""
    org, _sub, _alice = csv_org
    with translation.override("sv"):
        assert (str(CSV_TRUE), str(CSV_FALSE)) == ("SANT", "FALSK")
        text = users_csv_export(org=org)
        assert "SANT" in text
        assert "FALSK" in text
        assert users_csv_parse(org=org, content=text.replace("SANT", "sant")).errors == []


@pytest.mark.parametrize("language", ["da", "sv", "it", "zh-hant"])
def test_users_add_csv_takes_headers_and_roles_in_english_or_the_persons_language(
    csv_org, language
):
    org, _sub, _alice = csv_org
    with translation.override(language):
        sample = users_add_csv_sample()
        parsed = users_add_csv_parse(org=org, content=sample, template_licenses=False)
        assert parsed.errors == [], parsed.errors
        english = "Email,First name,Last name,Role\nbo@fjordpicker.example,Bo,,Read-only admin\n"
        parsed = users_add_csv_parse(org=org, content=english, template_licenses=False)
        assert parsed.errors == [], parsed.errors
        assert parsed.users[0].role == Role.CUSTOMER_READ_ONLY


def test_the_customer_list_export_writes_in_the_persons_language(client, partner_person):
    customer = make_customer(name="Exported ApS", partner=partner_person.org)
    make_subscription(customer=customer, partner=partner_person.org)
    User.objects.filter(pk=partner_person.pk).update(language="sv")
    sign_in(client, partner_person)
    response = client.get(reverse("customers:customer_list") + "?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    expected = [served("sv", w) for w in ("Customer", "Provisioning status", "Data location")]
    assert [h for h in rows[0] if h in expected] == expected
    assert any("Exported ApS" in row for row in rows[1:])


def test_dates_in_an_email_follow_the_recipient_even_when_owed_in_another_request():
    """The sender's language and zone do not leak into the recipient's email."""
    org = make_customer(name="Zone Co", country="IT")
    person = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="p@zone.example", language="")
    with translation.override("da"), timezone.override("America/New_York"):
        email_owe(
            key="zone",
            kind="user_invitation",
            to=person.email,
            template="user_invitation",
            context={
                "org_name": "Zone Co",
                "inviter": "",
                "accept_url": "u",
                "expires_at": AT + timedelta(hours=1),
                "valid_days": 7,
            },
            org_id=org.pk,
        )
    body = OutboxEmail.objects.get(key="zone").body_text
    # Rome: 00:30 on 3 December; Italian formats.
    with translation.override("it"), timezone.override("Europe/Rome"):
        assert date_format(timezone.localtime(AT + timedelta(hours=1)), "DATETIME_FORMAT") in body
