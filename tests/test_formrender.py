"""The fast form renderer (``partnerhub/core/formrender.py``) gives byte for byte the HTML of
Django's own widget templates, for every widget it writes out in Python and in every state a
form can be in (bound, invalid, help text, optgroups, odd attribute values, lazy and safe
labels); templates it does not write out still go through the engine."""

from __future__ import annotations

from pathlib import Path

import django
import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from partnerhub.core.formrender import FAST_FORM_RENDERER, FastFormRenderer

CHOICES = [("a", "Alpha & <b>"), ("b", gettext_lazy("Customers")), ("c", mark_safe("<i>C</i>"))]
GROUPED = [("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Zed"), ("", "(none)")]


class EveryWidget(forms.Form):
    text = forms.CharField(max_length=5, help_text="Some help", required=True)
    search = forms.CharField(widget=forms.SearchInput(attrs={"placeholder": 'say "hi"'}))
    email = forms.EmailField(required=False, widget=forms.EmailInput(attrs={"autofocus": True}))
    number = forms.IntegerField(min_value=1, max_value=9, required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    flag = forms.BooleanField(required=False)
    off = forms.BooleanField(required=False, widget=forms.CheckboxInput(attrs={"disabled": False}))
    many = forms.MultipleChoiceField(
        choices=CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    grouped = forms.MultipleChoiceField(
        choices=GROUPED, required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "c"})
    )
    radio = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect)
    radio_grouped = forms.ChoiceField(choices=GROUPED, required=False, widget=forms.RadioSelect)
    pick = forms.ChoiceField(choices=[("", "---"), *CHOICES], required=False)
    pick_grouped = forms.ChoiceField(choices=GROUPED, required=False)
    pick_many = forms.MultipleChoiceField(choices=GROUPED, required=False)
    # Not written out in Python: the engine renders it, inside the fast renderer too.
    when = forms.SplitDateTimeField(required=False)
    notes = forms.CharField(widget=forms.Textarea, required=False)


STATES = [
    None,
    {},
    {
        "text": 'toolong"<>',
        "search": "a&b",
        "email": "not-an-email",
        "number": "42",
        "hidden": "<h>",
        "secret": 'pa"ss',
        "flag": "on",
        "many": ["a", "c"],
        "grouped": ["x", "z", ""],
        "radio": "b",
        "radio_grouped": "y",
        "pick": "c",
        "pick_grouped": "x",
        "pick_many": ["y", "z"],
        "when_0": "2026-12-02",
        "notes": "<script>",
    },
    {"radio": "nope", "many": ["nope"], "number": "x"},
]


@pytest.mark.parametrize("data", STATES, ids=["unbound", "empty", "full", "invalid"])
@pytest.mark.parametrize("language", ["en", "da", "zh-hant"])
def test_every_widget_renders_as_djangos_templates_do(data, language):
    with override(language):
        slow, fast = EveryWidget(data), EveryWidget(data)
        slow.renderer, fast.renderer = DjangoTemplates(), FAST_FORM_RENDERER
        if data is not None:  # errors, aria-invalid
            slow.is_valid(), fast.is_valid()
        for name in EveryWidget.base_fields:
            assert str(fast[name]) == str(slow[name]), name
        assert fast.as_div() == slow.as_div()
        assert fast.as_p() == slow.as_p()


def test_the_customer_filter_form_is_rendered_without_the_template_engine(monkeypatch, rf):
    """The list's filter form (every widget it has) takes the Python path, and gives the
    engine's HTML."""
    from customers.filters import CustomerFilterSet
    from licensing.models import CustomerRow
    from partnerhub.accounts.models import Organization

    data = {"provisioning_status": ["failed"], "region": ["emea"], "q": "a<b", "quiet": "on"}
    forms_ = []
    for renderer in (DjangoTemplates(), FastFormRenderer()):
        filterset = CustomerFilterSet(
            data, queryset=CustomerRow.objects.none(), partner=Organization(pk=1)
        )
        filterset.form.renderer = renderer
        forms_.append(filterset.form)
    slow, fast = forms_
    engine = []
    real = DjangoTemplates.render
    monkeypatch.setattr(
        DjangoTemplates, "render", lambda *a, **k: engine.append(a[1]) or real(*a, **k)
    )
    fast_html = [str(fast[name]) for name in fast.fields]
    assert engine == []
    assert fast_html == [str(slow[name]) for name in slow.fields]


def test_a_widget_template_a_project_overrides_goes_through_the_engine(tmp_path, settings):
    """An app's own ``django/forms/widgets/input.html`` wins over the Python version (and so
    over everything that includes it)."""
    override_dir = tmp_path / "django" / "forms" / "widgets"
    override_dir.mkdir(parents=True)
    (override_dir / "input.html").write_text('<input data-mine name="{{ widget.name }}">')

    class Renderer(FastFormRenderer):
        @cached_property
        def engine(self):  # type: ignore[override]
            djangos = Path(django.__file__).parent / "forms" / "templates"
            return self.backend(
                {"APP_DIRS": True, "DIRS": [tmp_path, djangos], "NAME": "mine", "OPTIONS": {}}
            )

    form = EveryWidget()
    form.renderer = Renderer()
    assert 'data-mine name="text"' in str(form["text"])
    assert 'data-mine name="many"' in str(form["many"])
    assert "<select" in str(form["pick"])  # select.html includes only attrs.html: still fast
