"""Aggregates both databases spell differently."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Aggregate, Expression, F, Func, TextField, Value


class _Object(Func):
    """``json_object`` of SQLite (3.38+ has it built in; no feature probe, unlike Django's
    ``JSONObject``, which asks the database once per connection), ``json_build_object`` of
    PostgreSQL."""

    function = "JSON_OBJECT"
    output_field = TextField()

    def __init__(self, **fields: Expression | str) -> None:
        pairs: list[Any] = []
        for key, value in fields.items():
            pairs += [Value(key), F(value) if isinstance(value, str) else value]
        super().__init__(*pairs)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="JSON_BUILD_OBJECT", **extra)


class JSONRows(Aggregate):
    """Rows of a subquery as one JSON array of objects, read back with ``json_rows``: so a
    handful of small rows (a person's saved views) can ride on another query instead of costing
    one of their own. ``json_group_array`` on SQLite, ``json_agg`` on PostgreSQL (as text, so
    both databases hand back the same string)."""

    function = "JSON_GROUP_ARRAY"
    output_field = TextField()

    def __init__(self, **fields: Expression | str) -> None:
        super().__init__(_Object(**fields))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            compiler,
            connection,
            function="JSON_AGG",
            template="%(function)s(%(expressions)s)::text",
            **extra,
        )


def json_rows(raw: str | None) -> list[dict[str, Any]]:
    """What ``JSONRows`` read: a list of dicts (none when the subquery had no rows)."""
    rows = json.loads(raw) if raw else []
    return [row for row in rows if row is not None]
