"""Catalogs are code (issue 14): every language's catalog is complete, current and keeps every
placeholder, so no change lands with a string missing from a catalog.

- a catalog for each language of settings.LANGUAGES but English, and a glossary beside it;
- no untranslated or fuzzy entry, and a header msgfmt uses (not fuzzy, the language's plural
  forms), so the compiled catalog is the one written;
- ``makemessages`` would add nothing: the msgids extracted from the source now (in a copy of
  the project, so the catalogs here are never touched) are all in every catalog;
- every msgstr keeps the placeholders and html tags of its msgid (%(name)s, %s, {name},
  <strong>…): a dropped one loses data, a changed one crashes the page;
- the words of the source documents (seeds) are the ones the catalogs use.

Until the translations are written the completeness and seed checks fail; that is what they
are for.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import to_locale

from tests.i18n.po import Entry, header_of, messages, placeholders, read_po

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "locale"
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# What makemessages reads (the Makefile's and the README's command ignores the same).
IGNORED = (".venv", "node_modules", "tests", "var", "wip", "bench", "staticfiles", ".git")
DOMAINS = ("django",)  # static/js gets its words from data-* attributes: no djangojs domain
PLURAL_FORMS = {
    "da": "nplurals=2; plural=(n != 1);",
    "sv": "nplurals=2; plural=(n != 1);",
    "it": "nplurals=2; plural=(n != 1);",
    "zh-hant": "nplurals=1; plural=0;",
}
SHOW = 25  # entries listed in a failure


def catalog_path(language: str, domain: str = "django") -> Path:
    return LOCALE / to_locale(language) / "LC_MESSAGES" / f"{domain}.po"


def catalog(language: str, domain: str = "django") -> list[Entry]:
    return read_po(catalog_path(language, domain))


def _listing(entries: list[Entry]) -> str:
    more = f"\n… and {len(entries) - SHOW} more" if len(entries) > SHOW else ""
    return "\n".join(e.label() for e in entries[:SHOW]) + more


def test_every_language_but_english_has_a_catalog_and_a_glossary():
    assert "zh-hant" in LANGUAGES
    missing = [
        str(path.relative_to(ROOT))
        for language in LANGUAGES
        for path in (
            *(catalog_path(language, d) for d in DOMAINS),
            LOCALE / to_locale(language) / "glossary.csv",
        )
        if not path.exists()
    ]
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_glossary_has_terms(language):
    """The glossary beside the catalog: a CSV with a header row, then one term a row (the
    English term, the term in the language, then free columns: where it comes from, notes)."""
    path = LOCALE / to_locale(language) / "glossary.csv"
    assert path.exists(), path
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    assert len(rows) >= 2, "a header and at least one term"
    bad = [n for n, row in enumerate(rows[1:], 2) if len(row) < 2 or not all(row[:2])]
    assert bad == [], f"rows without an English term and a translation: {bad}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_header_is_used_by_msgfmt(language):
    """A fuzzy header is skipped by msgfmt: the plural forms and charset would be lost."""
    entries = catalog(language)
    head = next(e for e in entries if e.msgid == "" and e.msgctxt is None)
    assert not head.fuzzy, "remove '#, fuzzy' from the header"
    header = header_of(entries)
    assert header.get("Content-Type") == "text/plain; charset=UTF-8"
    assert header.get("Language", "").lower().replace("_", "-") == language
    assert header.get("Plural-Forms") == PLURAL_FORMS[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_untranslated_or_fuzzy_entry(language):
    entries = messages(catalog(language))
    assert entries, "an empty catalog"
    untranslated = [e for e in entries if e.untranslated]
    fuzzy = [e for e in entries if e.fuzzy]
    assert not untranslated, (
        f"{len(untranslated)} of {len(entries)} untranslated:\n{_listing(untranslated)}"
    )
    assert not fuzzy, f"{len(fuzzy)} fuzzy:\n{_listing(fuzzy)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_msgstr_keeps_its_placeholders_and_tags(language):
    """%(name)s, %s, {name} and html tags of the msgid, each as often, in every msgstr (a
    plural form may follow the singular's or the plural's)."""
    problems = []
    for entry in messages(catalog(language)):
        wanted = [placeholders(entry.msgid)]
        if entry.msgid_plural is not None:
            wanted.append(placeholders(entry.msgid_plural))
        for text in entry.translations:
            if text and placeholders(text) not in wanted:
                problems.append(f"{entry.label()}: {placeholders(text)} instead of {wanted[-1]}")
    assert problems == [], "\n".join(problems[:SHOW])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_plural_entry_has_each_plural_form(language):
    count = int(PLURAL_FORMS[language].split(";")[0].split("=")[1])
    wrong = [
        e
        for e in messages(catalog(language))
        if e.msgid_plural is not None and sorted(e.msgstr) != list(range(count))
    ]
    assert wrong == [], _listing(wrong)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, set[tuple[str | None, str]]]:
    """What ``makemessages`` extracts from the source now, per domain: run in a copy of the
    project so that the catalogs of the checkout are never rewritten."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext (xgettext) is required: apt-get install gettext")
    copy = tmp_path_factory.mktemp("makemessages") / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(*IGNORED, "locale", "*.pyc", "__pycache__", "*.sqlite3*"),
    )
    (copy / "locale").mkdir()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "da",
            *(arg for name in IGNORED for arg in ("-i", f"{name}/*")),
            "--settings=partnerhub.settings.test",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "PARTNERHUB_VAR_DIR": str(copy / "var")},
    )
    out = {}
    for domain in DOMAINS:
        path = copy / "locale" / "da" / "LC_MESSAGES" / f"{domain}.po"
        out[domain] = {e.key for e in messages(read_po(path))} if path.exists() else set()
    return out


@pytest.mark.parametrize("language", LANGUAGES)
def test_makemessages_would_add_no_msgid(language, extracted):
    for domain in DOMAINS:
        have = {e.key for e in messages(catalog(language, domain))}
        new = sorted(extracted[domain] - have, key=lambda k: (k[1], k[0] or ""))
        assert new == [], (
            f"{len(new)} strings are not in {catalog_path(language, domain).relative_to(ROOT)}"
            " (run the README's makemessages command, then translate them):\n"
            + "\n".join(f"{ctx or ''} {msgid[:80]!r}" for ctx, msgid in new[:SHOW])
        )


def test_the_extraction_finds_the_strings_of_every_kind_of_source(extracted):
    """The copy-and-extract above sees Python, templates and emails (a broken run finding
    nothing would pass the check above vacuously)."""
    ids = {msgid for _ctx, msgid in extracted["django"]}
    assert "Partner Hub" in ids  # templates
    assert "Customers" in ids
    assert len(ids) > 1000


# The terms the source documents use where they name a screen, status, tag or filter (issue
# 14): (context, msgid) → the word of the language.
SEED_TERMS = {
    "da": {
        (None, "To be deleted"): "Til at blive slettet",  # seed 000: the tag and filter
    },
    "sv": {
        ("CSV cell: a ticked box", "TRUE"): "SANT",  # seed 004: the CSV columns
        ("CSV cell: an unticked box", "FALSE"): "FALSK",
        (None, "Keep existing users' licenses"): "Bevara licenser för befintliga användare",
    },
}


@pytest.mark.parametrize("language", sorted(SEED_TERMS))
def test_catalogs_use_the_terms_of_the_source_documents(language):
    by_key = {e.key: e for e in messages(catalog(language))}
    wrong = {
        key: (by_key[key].translations if key in by_key else "missing")
        for key, term in SEED_TERMS[language].items()
        if key not in by_key or by_key[key].translations != [term]
    }
    assert wrong == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_the_one_served(language):
    """The .mo is built from the .po (``make messages``; the test session compiles a stale
    one): a translated entry comes back from gettext in that language."""
    entry = next(
        (
            e
            for e in messages(catalog(language))
            if e.msgctxt is None
            and e.msgid_plural is None
            and e.translations
            and e.translations[0]
            and not e.fuzzy
        ),
        None,
    )
    if entry is None:
        pytest.fail("nothing translated yet")
    with translation.override(language):
        assert translation.gettext(entry.msgid) == entry.translations[0]
