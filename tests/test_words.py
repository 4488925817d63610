"""Words and dates (issue 13): no rule id (D4, T2, …) in anything a user reads, one date
format per locale, every page its own <title>.

The pages are rendered as every demo identity over the demo world; the email templates are
rendered with an empty context (their fixed words are what is checked)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES, OrgKind
from partnerhub.accounts.models import Membership, Organization, User
from partnerhub.demo.world import demo_world_build

pytestmark = pytest.mark.django_db

RULE_ID = re.compile(r"\b[DSPTWC]\d+\b")
TEMPLATES = Path(settings.BASE_DIR) / "templates"
READ_ATTRS = {"title", "aria-label", "placeholder", "alt", "value"}


class _Words(HTMLParser):
    """What a person reads: text outside script/style, plus titles, labels and button values."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        hidden_input = tag == "input" and ("type", "hidden") in attrs
        for name, value in attrs:
            shown = name != "value" or tag in {"button", "input"}
            if name in READ_ATTRS and value and not hidden_input and shown:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if not self._skip:
            self.parts.append(data)


def words(html: str) -> _Words:
    parser = _Words()
    parser.feed(html)
    return parser


def leaks(text: str, data: set[str]) -> list[str]:
    """Rule ids in ``text``, minus those inside names and data (an org called "Suite C3")."""
    found = set(RULE_ID.findall(text))
    return sorted(f for f in found if not any(f in d for d in data))


def _pages_for(user: User) -> list[str]:
    org = user.org
    urls = [reverse("home")]
    if user.is_staff:
        urls += [
            reverse("admin:index"),
            reverse("admin:accounts_organization_changelist"),
            reverse("admin:licensing_service_changelist"),
            reverse("admin:licensing_order_changelist"),
            reverse("admin:licensing_order_add"),
            reverse("admin:trials_extensionrequest_changelist"),
            reverse("admin:customers_deletionhold_changelist"),
        ]
        first_org = Organization.objects.filter(kind=OrgKind.CUSTOMER).order_by("pk").first()
        if first_org is not None:
            urls.append(reverse("admin:accounts_organization_change", args=[first_org.pk]))
        return urls
    if org is not None and org.kind == OrgKind.PARTNER:
        urls += [
            reverse("customers:customer_list"),
            reverse("customers:customer_list") + "?page=99",
            reverse("licensing:order_list"),
            reverse("trials:trial_start"),
        ]
        if org.partner_certified:
            for customer in Organization.objects.filter(
                partner_relationships__partner=org
            ).order_by("pk")[:40]:
                urls.append(reverse("customers:customer_detail", args=[customer.pk]))
        return urls
    membership = Membership.objects.filter(user=user, role__in=CUSTOMER_ADMIN_ROLES).first()
    if membership is not None:
        pk = membership.org_id
        urls += [
            reverse("controlhub:overview", args=[pk]),
            reverse("controlhub:user_list", args=[pk]),
            reverse("controlhub:subscription_list", args=[pk]),
            reverse("controlhub:license_template", args=[pk]),
            reverse("controlhub:user_detail", args=[pk, user.pk]),
        ]
    return urls


@pytest.fixture
def demo(settings):
    settings.DEBUG = False
    return demo_world_build()


def _data_strings() -> set[str]:
    """Names and identifiers that are data, not words: they may contain anything."""
    data: set[str] = set()
    data.update(Organization.objects.values_list("name", flat=True))
    data.update(User.objects.values_list("email", flat=True))
    from licensing.models import Subscription
    from trials.models import Device

    data.update(Subscription.objects.values_list("reference", flat=True))
    data.update(Device.objects.values_list("serial_number", flat=True))
    return data


def test_no_rule_id_on_any_main_page_for_any_demo_identity(client, demo):
    data = _data_strings()
    problems: list[str] = []
    titles: dict[str, str] = {}
    emails = [login.email for login in demo.logins]
    assert len(emails) > 10
    for email in emails:
        user = User.objects.get(email=email)
        client.force_login(user)
        for url in _pages_for(user):
            response = client.get(url, follow=True)
            assert response.status_code in {200, 403, 404}, (email, url, response.status_code)
            page = words(response.content.decode())
            found = leaks(" ".join(page.parts), data)
            if found:
                problems.append(f"{email} {url}: {found}")
            if response.status_code == 200 and "?" not in url:
                titles.setdefault(page.title.strip(), url)
        client.logout()
    assert problems == []
    # Different pages, different titles (one title per page, not one for the whole site).
    assert len(titles) > 20


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(TEMPLATES).as_posix() for p in (TEMPLATES / "emails").iterdir())
)
def test_no_rule_id_in_any_email_template(path):
    text = render_to_string(path, _Anything())
    assert leaks(text, set()) == [], path


class _Two(int):
    """2, which a ``{% for %}`` may also loop over (no items)."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(())


class _Anything(dict):  # type: ignore[type-arg]
    """A template context in which every variable is the number 2 (counts need numbers)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> int:
        return _Two(2)


LITERAL_DATE_FORMAT = re.compile(r"""\|date:(["'])(?![A-Z_]+_FORMAT\1)""")


def test_dates_on_pages_use_the_locale_formats_only():
    """One date format per locale: every ``|date`` names DATE_FORMAT / DATETIME_FORMAT (or none,
    which is DATE_FORMAT). Literal formats are allowed only in data-* attributes, where a
    script reads a machine date."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in LITERAL_DATE_FORMAT.finditer(line):
                before = line[: match.start()]
                if re.search(r'data-[\w-]+="[^"]*$', before):
                    continue
                offenders.append(f"{path.relative_to(TEMPLATES)}:{number}")
    assert offenders == []
    assert "SHORT_DATE_FORMAT" not in "".join(p.read_text() for p in TEMPLATES.rglob("*.html"))
