"""Control Hub's words for numbers and settings: licenses as used / available, call settings
as sentences (translatable), never a raw dump of stored keys."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def license_use(service: Any) -> str:
    """ "7 used · 8 available of 15" for a service annotated with ``assigned``."""
    used = int(getattr(service, "assigned", 0) or 0)
    quantity = int(service.quantity)
    return _("%(used)d used · %(available)d available of %(quantity)d") % {
        "used": used,
        "available": max(quantity - used, 0),
        "quantity": quantity,
    }


@register.filter
def service_name(service: Any) -> str:
    """``Calling [SUB-123]``: the service and its subscription."""
    from licensing.calling import service_label

    return service_label(service)


def _on_off(value: Any) -> str:
    return _("on") if value else _("off")


def call_settings_words(settings: dict[str, Any] | None) -> list[str]:
    """C1's call settings as the admin reads them: "Call forwarding when busy", "Do not
    disturb: off", "Rings for 20 seconds before voicemail". A key this page does not know is
    still shown, as words from its name."""
    lines: list[str] = []
    for key, value in (settings or {}).items():
        if key == "call_forwarding":
            forwarding = {
                "off": _("Call forwarding: off"),
                "busy": _("Call forwarding when busy"),
                "always": _("Call forwarding: always"),
                "no_answer": _("Call forwarding when not answered"),
            }
            lines.append(forwarding.get(str(value), _("Call forwarding: %(v)s") % {"v": value}))
        elif key == "forward_to":
            lines.append(_("Calls forward to %(number)s") % {"number": value})
        elif key == "do_not_disturb":
            lines.append(_("Do not disturb: %(state)s") % {"state": _on_off(value)})
        elif key == "ring_seconds":
            n = int(value) if str(value).isdigit() else 0
            lines.append(
                ngettext(
                    "Rings for %(n)d second before voicemail",
                    "Rings for %(n)d seconds before voicemail",
                    n,
                )
                % {"n": n}
            )
        else:
            label = str(key).replace("_", " ").strip().capitalize()
            shown = _on_off(value) if isinstance(value, bool) else value
            lines.append(f"{label}: {shown}")
    return lines


register.filter("call_settings_words", call_settings_words)
