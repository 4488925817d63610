"""CSV cells a spreadsheet will not run (CSV/formula injection, OWASP ASVS 5.3.x).

Every export writes its cells through :func:`csv_cell`. A cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return would be read as a formula by Excel, LibreOffice or
Google Sheets; it gets a leading apostrophe, which they show as text. Imports read a cell back
with :func:`csv_cell_read`, so an exported file imports unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import translation
from django.utils.translation import pgettext_lazy

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """The value to write; text that a spreadsheet would evaluate is made plain text."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value  # a number is a number, even a negative one
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_row(values: Any) -> list[Any]:
    return [csv_cell(v) for v in values]


def csv_cell_read(text: str) -> str:
    """Undo :func:`csv_cell` for a cell read from an imported file."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


# ---- words in the person's language (issue 14) ---------------------------------------------
# A file exported in Swedish says SANT/FALSK and "E-post"; an import accepts the English words
# and those of the importing person's language (the active one), in any case.

CSV_TRUE = pgettext_lazy("CSV cell: a ticked box", "TRUE")
CSV_FALSE = pgettext_lazy("CSV cell: an unticked box", "FALSE")


def csv_forms(word: Any) -> set[str]:
    """The case-folded forms of a header or cell word an import accepts: its English form and
    its form in the active language."""
    with translation.override("en"):
        english = str(word)
    return {english.casefold(), str(word).casefold()}


def csv_bool(value: bool) -> str:
    """TRUE/FALSE in the active language (SANT/FALSK in Swedish)."""
    return str(CSV_TRUE if value else CSV_FALSE)


def csv_bool_reader() -> Callable[[str], bool | None]:
    """A reader of TRUE/FALSE cells in English or the active language (True, False, or None
    for anything else). The words are looked up once per file, not once per cell."""
    true, false = csv_forms(CSV_TRUE), csv_forms(CSV_FALSE)

    def read(text: str) -> bool | None:
        value = csv_cell_read(text.strip()).casefold()
        if value in true:
            return True
        if value in false:
            return False
        return None

    return read
