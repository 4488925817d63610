"""P1 in templates: ``{{ service.provisioning_status|status_meaning }}`` and ``|status_next_step``
read the one mapping in ``licensing.choices.PROVISIONING_STATUS_HELP``."""

from __future__ import annotations

from django import template

from licensing.choices import PROVISIONING_STATUS_HELP

register = template.Library()


@register.filter
def status_meaning(status: str) -> str:
    found = PROVISIONING_STATUS_HELP.get(status)
    return str(found.meaning) if found else ""


@register.filter
def status_next_step(status: str) -> str:
    found = PROVISIONING_STATUS_HELP.get(status)
    return str(found.next_step) if found else ""
