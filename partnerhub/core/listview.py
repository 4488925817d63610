"""A generic, declarative list view in the NetBox style.

A list page only *declares* a base queryset, a FilterSet and a django-tables2 Table; this view
applies the filters, the sort and the page from the URL (so a view can be bookmarked and shared),
answers ``?export=csv`` with the filtered list (the columns on screen) and renders the one shared
template ``core/object_list.html``.

Speed: the sort and the page cut happen in one lean query over primary keys; only the rows of
the page are then loaded with whatever the visible columns need (``fetch_rows``). So the cost of
a page does not grow with the page size or with heavy per-row columns, and the number of queries
is fixed (pinned in tests).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

import django_filters
import django_tables2 as tables
from django.core.paginator import Page, Paginator
from django.db.models import Expression, F, IntegerField, Model, OrderBy, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]
from django.views import View
from django_tables2.data import TableListData

from .csvcells import csv_bool, csv_row
from .formrender import FAST_FORM_RENDERER
from .safecache import cache_get, cache_incr

EXPORT_CHUNK = 2000
MAX_PAGE_PARAM = 1_000_000  # ?page= and ?per_page= beyond this are read as this


class PreparedRows(TableListData):
    """Rows already filtered, sorted and cut to one page in SQL: the table must not sort again."""

    def order_by(self, aliases: Any) -> None:
        return None


class CountedPaginator(Paginator):
    """A paginator whose total was counted elsewhere (e.g. in the page's one aggregate query)."""

    def __init__(self, *, count: int, per_page: int) -> None:
        super().__init__([], per_page, allow_empty_first_page=True)
        self.__dict__["count"] = count  # fills the cached_property: no COUNT(*) of its own


def capped_count(queryset: QuerySet[Any], limit: int | None) -> int:
    """COUNT(*), or COUNT(*) of at most ``limit`` rows (the database may stop early)."""
    if limit is None:
        return queryset.count()
    return queryset.order_by().values("pk")[:limit].count()


def capped_count_expression(queryset: QuerySet[Any], limit: int | None) -> RawSQL:
    """The same as an expression, to count inside another query (e.g. a summary)."""
    inner = queryset.order_by().values("pk")
    if limit is not None:
        inner = inner[:limit]
    sql, params = inner.query.sql_with_params()
    return RawSQL(f"SELECT COUNT(*) FROM ({sql}) capped_count", params, IntegerField())


def fast_cells(table: tables.Table, rows: Sequence[Any]) -> list[list[tuple[str, Any]]]:
    """The page's cells, rendered without django-tables2's per-cell introspection (it costs
    more than the page's queries): a table's ``render_<column>(record)`` method when it has one,
    else the record's value, dates in the short format."""
    columns = [(c.name, getattr(table, f"render_{c.name}", None)) for c in table.columns]
    out = []
    for record in rows:
        line = []
        for name, render_cell in columns:
            if render_cell is not None:
                value = render_cell(record=record)
            else:
                value = getattr(record, name, None)
                if isinstance(value, datetime):
                    value = date_format(timezone.localtime(value), "DATE_FORMAT")
                elif isinstance(value, date):
                    value = date_format(value, "DATE_FORMAT")
            line.append((name, "—" if value in (None, "") else value))
        out.append(line)
    return out


def rows_html(cells: Sequence[Sequence[tuple[str, Any]]]) -> str:
    """The table body's rows from ``fast_cells``, as the template's loop over them would give
    them (``{{ cell }}``: localized, then escaped unless already safe), without a template
    node per cell."""
    out = []
    for line in cells:
        tds = []
        for name, cell in line:
            if not isinstance(cell, str):
                cell = str(localize(template_localtime(cell)))
            tds.append(f'<td class="col-{name}">{conditional_escape(cell)}</td>')
        out.append(f"\n  <tr>{''.join(tds)}</tr>\n")
    return mark_safe("".join(out))


def pk_url(viewname: str, kwarg: str = "pk") -> Callable[[Any], str]:
    """The URL of one object of a page by its id, ``reverse()`` once for the page: the URL is
    a prefix, the id, a suffix (a URL whose pattern gives no such split is reversed each time)."""
    sentinel = "7350918642"
    url = reverse(viewname, kwargs={kwarg: int(sentinel)})
    prefix, found, suffix = url.partition(sentinel)
    if not found or sentinel in suffix:
        return lambda pk: reverse(viewname, kwargs={kwarg: pk})
    return lambda pk: f"{prefix}{int(pk)}{suffix}"


class _EchoBuffer:
    def write(self, value: str) -> str:
        return value


class ObjectListView(View):
    """Subclasses set ``filterset_class`` and ``table_class`` and implement ``get_queryset``;
    optionally ``get_sort_expressions`` (annotations a sortable column orders by),
    ``fetch_rows`` (shape the rows of one page), ``get_count`` and ``get_extra_context``."""

    filterset_class: ClassVar[type[django_filters.FilterSet]]
    table_class: ClassVar[type[tables.Table]]
    template_name = "core/object_list.html"
    title: Any = ""
    per_page_choices: ClassVar[tuple[int, ...]] = (25, 50, 100)
    default_per_page = 25
    default_sort = ""
    # Sort keys that may be empty (computed columns): those sort last in both directions.
    nullable_sort_keys: ClassVar[frozenset[str]] = frozenset()
    # Count at most this many rows beyond the current page (a "cheap count": the page shows
    # "1,000+" instead of making the database visit every matching row). None: exact counts.
    count_cap: int | None = None
    count_pages_ahead = 10  # a capped count still reaches this many pages past the current one
    export_filename = "export"
    request: HttpRequest

    # ---- hooks --------------------------------------------------------------------------
    def get_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_filterset(self, queryset: QuerySet[Any]) -> django_filters.FilterSet:
        return self.filterset_class(
            self.request.GET or None, queryset=queryset, request=self.request
        )

    def get_sort_expressions(self) -> Mapping[str, Expression]:
        """Annotation name → expression, for columns that sort by something computed."""
        return {}

    def get_count(self, queryset: QuerySet[Any], filterset: django_filters.FilterSet) -> int:
        """Rows the filters leave, counting no further than ``self.count_limit`` when set (then
        ``self.count_capped`` says whether the limit was reached)."""
        count = capped_count(queryset, self.count_limit)
        self.count_capped = self.count_limit is not None and count >= self.count_limit
        return count

    def fetch_rows(self, queryset: QuerySet[Any]) -> list[Any]:
        """Load the rows of ``queryset`` (already restricted and ordered) for display."""
        return list(queryset)

    def page_queryset(
        self,
        queryset: QuerySet[Any],
        accessors: Sequence[str],
        *,
        offset: int,
        limit: int,
        count: int,
    ) -> QuerySet[Any]:
        """The rows of one page, in order: the cut is made over primary keys in a subquery, so
        only the page's rows are loaded with what the columns need."""
        page_pks = self.ordered(queryset, accessors).values("pk")[offset : offset + limit]
        return self.ordered(self.get_queryset().filter(pk__in=page_pks), accessors)

    def get_table_kwargs(self) -> dict[str, Any]:
        """Extra arguments of the table, e.g. the columns a person chose (``sequence``,
        ``exclude``)."""
        return {}

    def get_extra_context(self, *, filterset: django_filters.FilterSet) -> dict[str, Any]:
        return {}

    # ---- machinery ----------------------------------------------------------------------
    def _int_param(self, name: str, default: int) -> int:
        """A positive integer from the URL, bounded (bad input is the default, never a 500)."""
        raw = self.request.GET.get(name, default)
        try:
            return min(max(int(str(raw)[:12]), 1), MAX_PAGE_PARAM)
        except (TypeError, ValueError):
            return default

    def _ordering(self, table: tables.Table) -> list[str]:
        accessors: list[str] = []
        for alias in table.order_by or ():
            accessors.extend(str(a) for a in table.columns[alias.lstrip("-")].order_by)
        return accessors

    def _order_expressions(self, accessors: Sequence[str]) -> list[OrderBy]:
        exprs: list[OrderBy] = []
        for accessor in accessors:
            name = accessor.lstrip("-").replace(".", "__")
            descending = accessor.startswith("-")
            if name in self.nullable_sort_keys:
                # Empty values sort last either way: who sorts by status wants the statuses.
                exprs.append(
                    F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
                )
            else:  # plain direction, so an index on the column can serve the sort
                exprs.append(F(name).desc() if descending else F(name).asc())
        # A stable order, so pages never overlap; same direction as the sort, so the database
        # can walk one index (its entries end with the primary key) forwards or backwards.
        descending = bool(accessors) and accessors[0].startswith("-")
        exprs.append(F("pk").desc() if descending else F("pk").asc())
        return exprs

    def _with_sort_keys(self, queryset: QuerySet[Any], accessors: Sequence[str]) -> QuerySet[Any]:
        available = self.get_sort_expressions()
        wanted = {a.lstrip("-").replace(".", "__") for a in accessors}
        annotations = {name: available[name] for name in wanted if name in available}
        return queryset.annotate(**annotations) if annotations else queryset

    def ordered(self, queryset: QuerySet[Any], accessors: Sequence[str]) -> QuerySet[Any]:
        return self._with_sort_keys(queryset, accessors).order_by(
            *self._order_expressions(accessors)
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        base = self.get_queryset()
        filterset = self.get_filterset(base)
        # Its checkboxes without the template engine (the same HTML, a fraction of the time).
        filterset.form.renderer = FAST_FORM_RENDERER
        filtered = filterset.qs if filterset.is_bound and filterset.is_valid() else base
        if filterset.is_bound and not filterset.is_valid():
            filtered = base.none()

        # Not request=: django-tables2 would paginate the empty table from the raw ?page and
        # ?per_page (a 500 on ?per_page=-1); this view reads and bounds them itself.
        table = self.table_class(PreparedRows([]), **self.get_table_kwargs())
        table.request = request
        table.order_by = request.GET.get(table.prefixed_order_by_field) or self.default_sort
        accessors = self._ordering(table)

        if request.GET.get("export") == "csv":
            return self.export_csv(table=table, queryset=filtered, accessors=accessors)

        per_page = self._int_param(table.prefixed_per_page_field, self.default_per_page)
        if per_page not in self.per_page_choices:
            per_page = self.default_per_page
        wanted = self._int_param(table.prefixed_page_field, 1)
        self.count_limit = (
            None
            if self.count_cap is None
            else max(self.count_cap, (wanted + self.count_pages_ahead) * per_page) + 1
        )
        self.count_capped = False
        count = self.get_count(filtered, filterset)
        capped = self.count_capped
        if capped:
            count = self.count_limit - 1  # type: ignore[operator]
        paginator = CountedPaginator(count=count, per_page=per_page)
        number = min(wanted, paginator.num_pages)
        # A page past the last one is said, not silently replaced (the last page is shown).
        page_missing = wanted if wanted > paginator.num_pages else None
        offset = (number - 1) * per_page

        model: type[Model] = base.model
        page_qs = self.page_queryset(
            filtered, accessors, offset=offset, limit=per_page, count=count
        )
        rows = self.fetch_rows(page_qs) if count else []
        table.data.data = rows
        table.cells = fast_cells(table, rows)
        table.rows_html = rows_html(table.cells)
        table.paginator = paginator
        table.count_capped = capped
        table.page = Page(table.rows, number, paginator)

        context = {
            "title": self.title or model._meta.verbose_name_plural,
            "table": table,
            "filterset": filterset,
            "filter_form": filterset.form,
            "per_page": per_page,
            "per_page_choices": self.per_page_choices,
            "count": count,
            "count_capped": capped,
            "export_query": _query_with(request, export="csv", drop=("page",)),
            "page_missing": page_missing,
            "first_page_query": _query_with(request, drop=("page",)),
            **self.get_extra_context(filterset=filterset),
        }
        return render(request, self.template_name, context, status=404 if page_missing else 200)

    def export_csv(
        self, *, table: tables.Table, queryset: QuerySet[Any], accessors: Sequence[str]
    ) -> StreamingHttpResponse:
        """The filtered list, every page, in the order on screen, with the columns on screen."""
        pks = list(self.ordered(queryset, accessors).values_list("pk", flat=True))

        # Every column, hidden ones too (django-tables2's export semantics): export-only
        # columns keep each fact in a cell of its own.
        columns = [
            c
            for c in table.columns.iterall()
            if not getattr(c.column, "exclude_from_export", False)
        ]
        header = [str(c.header) for c in columns]
        getters = [(c.name, c.accessor, getattr(table, f"value_{c.name}", None)) for c in columns]

        def cell(record: Any, name: str, accessor: Any, value_of: Any) -> Any:
            if value_of is not None:
                return value_of(record=record)
            value = accessor.resolve(record, quiet=True) if accessor else None
            if isinstance(value, bool):
                return csv_bool(value)  # TRUE/FALSE in the person's language (issue 14)
            return "" if value is None else value

        # The rows are written while the response streams, after the view has returned: in
        # the person's language and time zone all the same.
        language, zone = translation.get_language(), timezone.get_current_timezone()

        def lines() -> Iterator[str]:
            with translation.override(language), timezone.override(zone):
                yield from rows_of()

        def rows_of() -> Iterator[str]:
            writer = csv.writer(_EchoBuffer())
            yield writer.writerow(csv_row(header))
            for start in range(0, len(pks), EXPORT_CHUNK):
                chunk = pks[start : start + EXPORT_CHUNK]
                position = {pk: i for i, pk in enumerate(chunk)}
                rows = self.fetch_rows(self.get_queryset().filter(pk__in=chunk))
                rows.sort(key=lambda row: position[row.pk])
                for record in rows:
                    yield writer.writerow(csv_row(cell(record, *g) for g in getters))

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.export_filename}.csv"'
        return response


# ---- a short-lived cache for list summaries (count bands) ---------------------------------
SUMMARY_TTL = 60  # seconds; writes that change a band clear it at once (summary_cache_clear)


def _summary_version_key(scope: str, owner_id: int) -> str:
    return f"listsummary:{scope}:{owner_id}:version"


def summary_cache_key(scope: str, owner_id: int, *parts: object) -> str:
    """Key of one owner's cached summary; ``summary_cache_clear`` makes every old key stale."""
    version = cache_get(_summary_version_key(scope, owner_id), 0)
    return ":".join(str(p) for p in ("listsummary", scope, owner_id, version, *parts))


def summary_cache_clear(scope: str, owner_id: int) -> None:
    """Forget an owner's cached summaries (call after commit of a change that moves a count).
    A cache that is down skips it with a warning: the change is committed, the page goes on,
    and a stale band lasts at most ``SUMMARY_TTL``."""
    cache_incr(_summary_version_key(scope, owner_id), timeout=None)


def filters_active(filterset: django_filters.FilterSet) -> bool:
    """Whether any filter of a bound, valid FilterSet narrows the list."""
    if not filterset.is_bound or not filterset.is_valid():
        return False
    return any(
        value not in (None, "", [], (), False) for value in filterset.form.cleaned_data.values()
    )


def _query_with(request: HttpRequest, *, drop: Sequence[str] = (), **values: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    for key, value in values.items():
        query[key] = value
    return query.urlencode()


__all__ = [
    "CountedPaginator",
    "ObjectListView",
    "PreparedRows",
    "capped_count",
    "capped_count_expression",
    "fast_cells",
    "filters_active",
    "pk_url",
    "rows_html",
    "summary_cache_clear",
    "summary_cache_key",
]
