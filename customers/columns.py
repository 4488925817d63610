"""The customer list's column chooser (issue 16), as NetBox's table configuration: a person
shows, hides and orders the list's columns; the choice is the list's ``columns`` parameter
(names in order), so a saved view keeps it like any filter and the CSV export follows it.

The checkbox and the customer's name always show (the name is the link to the customer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .tables import CustomerTable

ALWAYS = ("select", "name")
EXPORT_ONLY = ("deletion_planned",)  # never on screen; exported beside the name
DEFAULT_HIDDEN = ("licenses_used",)  # offered in the chooser, not shown until ticked


def default_columns() -> list[str]:
    """The columns shown when the person has chosen none (saved views without ``columns``)."""
    return [name for name in choosable() if name not in DEFAULT_HIDDEN]


def choosable() -> list[str]:
    """The columns a person may show or hide, in the table's own order."""
    return [
        name
        for name in CustomerTable.base_columns
        if name not in ALWAYS and name not in EXPORT_ONLY
    ]


def columns_parse(value: str | None) -> list[str] | None:
    """The chosen columns in order (unknown names dropped); None: the table's default."""
    if not value:
        return None
    known = set(choosable())
    picked: list[str] = []
    for name in value.split(","):
        name = name.strip()
        if name in known and name not in picked:
            picked.append(name)
    return picked


def columns_from_form(data: Mapping[str, Any]) -> str:
    """The ``columns`` value of the chooser's form: the ticked columns (``col``), ordered by
    their position fields (``pos_<name>``), ties in the table's order."""
    ticked = set(data.getlist("col")) if hasattr(data, "getlist") else set(data.get("col", ()))
    order = choosable()

    def position(name: str) -> tuple[int, int]:
        try:
            wanted = int(data.get(f"pos_{name}", ""))
        except ValueError:
            wanted = len(order) + 1
        return wanted, order.index(name)

    # "none": every choosable column hidden (an empty value would mean the default columns).
    return ",".join(sorted((n for n in order if n in ticked), key=position)) or "none"


def table_kwargs(chosen: list[str] | None) -> dict[str, Any]:
    if chosen is None:
        return {"exclude": list(DEFAULT_HIDDEN)}
    hidden = [n for n in choosable() if n not in chosen]
    return {"sequence": (*ALWAYS, *EXPORT_ONLY, *chosen), "exclude": hidden}


@dataclass(frozen=True)
class ColumnChoice:
    name: str
    label: str
    shown: bool
    position: int


def column_choices(chosen: list[str] | None) -> list[ColumnChoice]:
    """The chooser's rows: shown columns in their order, then the hidden ones."""
    order = choosable()
    shown: Sequence[str] = default_columns() if chosen is None else chosen
    rest = [n for n in order if n not in shown]
    labels = {n: str(CustomerTable.base_columns[n].verbose_name) for n in order}
    return [
        ColumnChoice(name, labels[name], name in shown, i + 1)
        for i, name in enumerate([*shown, *rest])
    ]
