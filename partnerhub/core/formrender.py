"""Django's form renderer, with its commonest widget templates written out in Python.

A list page's filter form renders a few dozen checkboxes; through the template engine each is
four nested includes (``multiple_input`` → ``checkbox_option`` → ``input_option`` → ``input``
→ ``attrs``), which costs more than the page's SQL. ``FastFormRenderer`` renders those
templates from the same widget context Django builds (``Widget.get_context``: ids, ``checked``,
``required``, ``aria-describedby``…) with the same escaping, so the HTML is byte for byte what
the templates give (``tests/core/test_formrender.py`` compares the two). A template it does
not know — or one a project overrides (an app's ``templates/django/forms/widgets/…``) — goes
through the template engine as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import django
from django.forms.renderers import DjangoTemplates
from django.template import TemplateDoesNotExist
from django.utils.functional import cached_property
from django.utils.html import conditional_escape

_W = "django/forms/widgets/"
_DJANGO_TEMPLATES = Path(django.__file__).parent / "forms" / "templates"


def _s(value: Any) -> str:
    """``{{ value|stringformat:'s' }}`` under autoescape."""
    return str(conditional_escape(value if hasattr(value, "__html__") else str(value)))


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {conditional_escape(name)}")
        if value is not True:
            out.append(f'="{_s(value)}"')
    return "".join(out)


# Each function gives what its template file gives, trailing newline included (an include
# keeps it; only the renderer's outermost call strips).
def _input(w: Mapping[str, Any], r: FastFormRenderer) -> str:
    """``input.html`` (``text.html``, ``checkbox.html``, ``number.html``… include it)."""
    value = w["value"]
    shown = "" if value is None else f' value="{_s(value)}"'
    return (
        f'<input type="{conditional_escape(w["type"])}" name="{conditional_escape(w["name"])}"'
        f"{shown}{_attrs(w['attrs'])}>\n"
    )


def _input_option(w: Mapping[str, Any], r: FastFormRenderer) -> str:
    """``input_option.html`` (``checkbox_option.html`` and ``radio_option.html`` include it)."""
    if not w["wrap_label"]:
        return _input(w, r) + "\n"
    option_id = w["attrs"].get("id")
    label_for = f' for="{conditional_escape(option_id)}"' if option_id else ""
    return f"<label{label_for}>{_input(w, r)} {conditional_escape(w['label'])}</label>\n"


def _multiple_input(w: Mapping[str, Any], r: FastFormRenderer) -> str:
    """``multiple_input.html`` (``checkbox_select.html`` and ``radio.html`` include it)."""
    widget_id = w["attrs"].get("id")
    css = w["attrs"].get("class")
    out = [
        "<div",
        f' id="{conditional_escape(widget_id)}"' if widget_id else "",
        f' class="{conditional_escape(css)}"' if css else "",
        ">",
    ]
    for group, options, _index in w["optgroups"]:
        if group:
            out.append(f"\n  <div><label>{conditional_escape(group)}</label>")
        for option in options:
            out.append(f"<div>\n    {r.file(option['template_name'], option)}</div>")
        if group:
            out.append("\n  </div>")
    out.append("\n</div>\n")
    return "".join(out)


def _select(w: Mapping[str, Any], r: FastFormRenderer) -> str:
    """``select.html``."""
    out = [f'<select name="{conditional_escape(w["name"])}"{_attrs(w["attrs"])}>']
    for group_name, group_choices, _index in w["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            out.append(f"\n  {r.file(option['template_name'], option)}")
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>\n")
    return "".join(out)


def _select_option(w: Mapping[str, Any], r: FastFormRenderer) -> str:
    """``select_option.html``."""
    return (
        f'<option value="{_s(w["value"])}"{_attrs(w["attrs"])}>'
        f"{conditional_escape(w['label'])}</option>\n"
    )


def _including(inner: Callable[[Mapping[str, Any], FastFormRenderer], str]) -> Any:
    """A file that is one ``{% include %}`` of another, plus its own trailing newline."""
    return lambda w, r: inner(w, r) + "\n"


# template → (what it renders, the templates it includes: each must be Django's own).
_FILES: dict[str, tuple[Callable[[Mapping[str, Any], FastFormRenderer], str], tuple[str, ...]]] = {
    "input.html": (_input, ("attrs.html",)),
    **{
        f"{kind}.html": (_including(_input), ("input.html", "attrs.html"))
        for kind in ("text", "search", "email", "number", "checkbox", "hidden", "password")
    },
    "input_option.html": (_input_option, ("input.html", "attrs.html")),
    **{
        f"{kind}_option.html": (
            _including(_input_option),
            ("input_option.html", "input.html", "attrs.html"),
        )
        for kind in ("checkbox", "radio")
    },
    "multiple_input.html": (_multiple_input, ()),
    **{
        name: (_including(_multiple_input), ("multiple_input.html",))
        for name in ("checkbox_select.html", "radio.html")
    },
    "select.html": (_select, ("attrs.html",)),
    "select_option.html": (_select_option, ("attrs.html",)),
}


class FastFormRenderer(DjangoTemplates):
    """``DjangoTemplates`` with the widget templates above rendered without the engine."""

    @cached_property
    def _python(self) -> dict[str, Callable[[Mapping[str, Any], FastFormRenderer], str]]:
        # Only where the engine would load Django's own files (not a project's override),
        # includes too: input.html, say, is only ours if attrs.html is Django's as well.
        return {
            _W + name: render
            for name, (render, includes) in _FILES.items()
            if all(self._is_djangos(_W + n) for n in (name, *includes))
        }

    def _is_djangos(self, template_name: str) -> bool:
        try:
            origin = self.get_template(template_name).origin.name
        except TemplateDoesNotExist:
            return False
        return Path(origin).resolve().is_relative_to(_DJANGO_TEMPLATES.resolve())

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget") if len(context) == 1 else None
        if widget is not None and template_name in self._python and self._all_ours(widget):
            return self.file(template_name, widget).strip()
        return super().render(template_name, context, request=request)

    def file(self, template_name: str, widget: Mapping[str, Any]) -> str:
        return self._python[template_name](widget, self)

    def _all_ours(self, widget: Mapping[str, Any]) -> bool:
        """Every option's own template (``option.template_name``) is one written above."""
        return all(
            option["template_name"] in self._python
            for _group, options, _index in widget.get("optgroups", ())
            for option in options
        )


FAST_FORM_RENDERER = FastFormRenderer()

__all__ = ["FAST_FORM_RENDERER", "FastFormRenderer"]
