"""No English left on a page in another language, except names and data (issue 14).

A pseudo-translation of the catalog (every msgstr is its msgid in ⟦brackets⟧) is compiled into
a temporary locale and served as Danish; every main page of the demo, as every demo identity
and every email kind, is then read: a word that is not inside brackets, not data (names,
addresses, references) and is a word of the English messages is a string that reaches the
page without passing through a catalog — unwrapped, or wrapped in a way ``makemessages`` does
not see. This holds whatever the state of the real translations.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from licensing.models import Service
from partnerhub.accounts.language import language_choices
from partnerhub.accounts.models import User
from tests.i18n.po import messages, read_po
from tests.test_words import _Anything, _data_strings, _pages_for, _Words


class _Shown(_Words):
    """What a person reads, less the values of checkboxes and radio buttons (machine values a
    page never shows)."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input" and dict(attrs).get("type") in {"checkbox", "radio"}:
            attrs = [(k, v) for k, v in attrs if k != "value"]
        super().handle_starttag(tag, attrs)


def words(html: str) -> _Shown:
    parser = _Shown()
    parser.feed(html)
    return parser


pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
INNERMOST = re.compile(r"⟦[^⟦⟧]*⟧")
WORD = re.compile(r"[A-Za-z][A-Za-z']{2,}")


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\t", "\\t") + '"'


@pytest.fixture
def pseudo_danish(tmp_path, settings):
    """The catalog's msgids, bracketed, as the only Danish catalog of the project."""
    if shutil.which("msgfmt") is None:
        pytest.fail("GNU gettext (msgfmt) is required: apt-get install gettext")
    entries = messages(read_po(LOCALE / "da" / "LC_MESSAGES" / "django.po"))
    out = [
        'msgid ""',
        'msgstr ""',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"',
        "",
    ]
    for e in entries:
        if e.msgctxt is not None:
            out.append(f"msgctxt {_quote(e.msgctxt)}")
        out.append(f"msgid {_quote(e.msgid)}")
        if e.msgid_plural is not None:
            out.append(f"msgid_plural {_quote(e.msgid_plural)}")
            out.append(f"msgstr[0] {_quote('⟦' + e.msgid + '⟧')}")
            out.append(f"msgstr[1] {_quote('⟦' + e.msgid_plural + '⟧')}")
        else:
            out.append(f"msgstr {_quote('⟦' + e.msgid + '⟧')}")
        out.append("")
    folder = tmp_path / "locale" / "da" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "django.po").write_text("\n".join(out), encoding="utf-8")
    subprocess.run(
        ["msgfmt", "-o", str(folder / "django.mo"), str(folder / "django.po")], check=True
    )
    settings.LOCALE_PATHS = [tmp_path / "locale"]  # resets Django's translation caches
    vocabulary = {
        w.lower()
        for e in entries
        for text in (e.msgid, e.msgid_plural or "")
        for w in WORD.findall(re.sub(r"%\([^)]*\)\w|<[^>]*>|\{[^}]*\}", " ", text))
    }
    yield vocabulary
    settings.LOCALE_PATHS = [LOCALE]


# An address or a path (any token with a slash), a machine value (snake_case: a checkbox's).
EMAIL = re.compile(r"[\w.+-]+\s*@\s*[\w.-]+")  # a page may break an address after its local part
URL = re.compile(r"\S*/\S*|\S*@\S*|\S+\.\S+\.\S+|\w*_\w*")


def english_left(text: str, vocabulary: set[str], data: set[str]) -> set[str]:
    previous = None
    while previous != text:
        previous, text = text, INNERMOST.sub(" ", text)
    text = URL.sub(" ", EMAIL.sub(" ", text))  # addresses and links are data, not words
    for item in sorted(data, key=len, reverse=True):
        if item:
            text = text.replace(item, " ")
    return {w for w in WORD.findall(text) if w.lower() in vocabulary}


def where(text: str, word: str) -> str:
    match = re.search(rf"(?<![⟦\w]){re.escape(word)}\b(?![^⟦]*⟧)", text)
    at = match.start() if match else text.find(word)
    return " ".join(text[max(0, at - 60) : at + 60].split())


def test_no_english_on_any_main_page_for_any_demo_identity(client, pseudo_danish):
    from partnerhub.demo.world import demo_world_build

    demo = demo_world_build()
    User.objects.update(language="da")
    data = _data_strings() | {
        f"{first} {last}".strip()
        for first, last in User.objects.values_list("first_name", "last_name")
    }
    data |= set(User.objects.values_list("first_name", flat=True))
    data |= set(User.objects.values_list("last_name", flat=True))
    data |= {"Partner Hub", "Control Hub"}  # product names are the same in every language
    # Each language in the picker is named in itself; time zones are IANA names (data).
    data |= {name for _code, name in language_choices()}
    data |= {z.rsplit("/", 1)[-1].replace("_", " ") for z in zoneinfo.available_timezones()}
    # What the (simulated) vendor said about a service is the vendor's text.
    data |= set(
        Service.objects.exclude(provisioning_reason="").values_list(
            "provisioning_reason", flat=True
        )
    )
    problems: list[str] = []
    for login in demo.logins:
        user = User.objects.get(email=login.email)
        if user.is_staff:
            continue  # the support console mixes in Django's own (real) Danish
        client.force_login(user)
        for url in _pages_for(user):
            response = client.get(url, follow=True)
            if response.status_code != 200:
                continue
            text = " ".join(words(response.content.decode()).parts)
            left = english_left(text, pseudo_danish, data)
            if left:
                first = sorted(left)[0]
                problems.append(f"{login.email} {url}: {sorted(left)[:12]} «{where(text, first)}»")
        client.logout()
    assert problems == [], "\n".join(problems[:40])


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(TEMPLATES).as_posix() for p in (TEMPLATES / "emails").iterdir())
)
def test_no_english_in_any_email_template(path, pseudo_danish):
    with translation.override("da"):
        text = render_to_string(path, _Anything())
    if path.endswith(".html"):
        text = " ".join(words(text).parts)
    assert english_left(text, pseudo_danish, {"Partner Hub", "Control Hub"}) == set(), path
