"""``{% load languages %}``: the language picker's choices and ``<html lang>`` (issue 14)."""

from __future__ import annotations

from django import template

from partnerhub.accounts.language import html_lang as _html_lang
from partnerhub.accounts.language import language_choices

register = template.Library()


@register.filter
def html_lang(code: str | None) -> str:
    """``zh-hant`` → ``zh-Hant``: the tag screen readers and browsers expect."""
    return _html_lang(code)


@register.simple_tag
def picker_languages() -> list[tuple[str, str]]:
    return language_choices()
