"""CSV cells a spreadsheet will not run (CSV/formula injection, OWASP ASVS 5.3.x).

Every export writes its cells through :func:`csv_cell`. A cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return would be read as a formula by Excel, LibreOffice or
Google Sheets; it gets a leading apostrophe, which they show as text. Imports read a cell back
with :func:`csv_cell_read`, so an exported file imports unchanged.
"""

from __future__ import annotations

from typing import Any

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
