"""Forms of the trial pages (T2–T8, T10). They validate input and build the arguments of one
service; bad input is a field error, never a 500."""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from licensing.choices import MeetingsEdition, ServiceType
from licensing.models import Service
from licensing.services import ServiceSpec
from partnerhub.accounts.choices import Country, Vertical
from partnerhub.accounts.lifecycle import region_for_country
from partnerhub.accounts.models import User

from .choices import DeviceType, TrialLength
from .selectors import REASON_BOUGHT, REASON_OTHER_TRIAL, REASON_OWN_TRIAL
from .services import DeviceOrder

SITE_RE = re.compile(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
# Services counted in licenses (one per user); Devices are counted as shipped quantities.
LICENSED_SERVICES = (ServiceType.MEETINGS, ServiceType.MESSAGING, ServiceType.CALLING)
DEFAULT_LICENSES = 25
TIME_ZONE_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@functools.cache
def current_time_zones() -> tuple[str, ...]:
    """Canonical ``Area/City`` zones in use today, without the obsolete aliases
    (``US/Eastern``, ``Europe/Kiev``, ``Etc/GMT+5`` …): the zones of the IANA ``zone.tab``
    when the system has it, else every available ``Area/…`` name; always a subset of what
    ``zoneinfo`` can load."""
    available = zoneinfo.available_timezones()
    for base in zoneinfo.TZPATH:
        # zone.tab keeps one zone per country (Copenhagen, not only Berlin as in zone1970.tab).
        tab = Path(base) / "zone.tab"
        if tab.exists():
            names = {
                line.split("\t")[2]
                for line in tab.read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("#") and len(line.split("\t")) > 2
            }
            return tuple(sorted(names & available))
    return tuple(sorted(z for z in available if "/" in z and z.split("/")[0] in TIME_ZONE_AREAS))


def time_zone_choices() -> list[Any]:
    """Grouped by area, each labelled by its city ("America/New_York" → "New York"), so the
    list can be searched by typing the city's first letters."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for zone in current_time_zones():
        area, _sep, city = zone.partition("/")
        groups.setdefault(area, []).append((zone, city.replace("_", " ").replace("/", " – ")))
    return [("", "—")] + [(area, zones) for area, zones in sorted(groups.items())]


def country_choices() -> list[tuple[str, str]]:
    """T2: supported countries, each labelled with the data-location region it maps to."""
    return [("", "—")] + [
        (code, f"{label} — {region_for_country(code).label}") for code, label in Country.choices
    ]


class DeviceLineForm(forms.Form):
    device_type = forms.ChoiceField(
        label=_("Device type"), choices=[("", "—"), *DeviceType.choices], required=False
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=500, required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("device_type") and not data.get("quantity"):
            self.add_error("quantity", _("How many?"))
        if data.get("quantity") and not data.get("device_type"):
            self.add_error("device_type", _("Pick a device type."))
        return data


class BaseDeviceFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            kind = form.cleaned_data.get("device_type")
            if not kind:
                continue
            if kind in seen:
                raise forms.ValidationError(
                    _("%(type)s is listed twice: each device type ships once.")
                    % {"type": DeviceType(kind).label}
                )
            seen.add(kind)

    def orders(self) -> list[DeviceOrder]:
        return [
            DeviceOrder(
                device_type=f.cleaned_data["device_type"], quantity=f.cleaned_data["quantity"]
            )
            for f in self.forms
            if f.cleaned_data.get("device_type")
        ]


# The stubs type the factory's class as a plain BaseFormSet; it is a subclass of the one passed.
DeviceFormSet = cast(
    "type[BaseDeviceFormSet]",
    formset_factory(DeviceLineForm, formset=BaseDeviceFormSet, extra=3, max_num=6),
)


UNAVAILABLE_HINTS = {
    REASON_BOUGHT: _("Already bought"),
    REASON_OWN_TRIAL: _("In a trial of yours"),
    REASON_OTHER_TRIAL: _("Trialled by another partner"),
}


class OfferForm(forms.Form):
    """The offers of a trial (T2): Meetings (enterprise edition: site URL and time zone),
    Messaging, Calling, Devices. ``allowed`` limits them to what T4 leaves."""

    meetings = forms.BooleanField(label=_("Meetings"), required=False)
    meetings_edition = forms.ChoiceField(
        label=_("Meetings edition"),
        choices=MeetingsEdition.choices,
        initial=MeetingsEdition.STANDARD,
    )
    site_url = forms.CharField(
        label=_("Meetings site URL"),
        required=False,
        max_length=200,
        help_text=_("Enterprise edition only, e.g. acme.meetings.example"),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        choices=time_zone_choices,
        help_text=_("Grouped by region; type the first letters of a city to jump to it."),
    )
    meetings_licenses = forms.IntegerField(
        label=_("Meetings licenses"),
        min_value=1,
        max_value=10000,
        initial=DEFAULT_LICENSES,
        required=False,
    )
    messaging = forms.BooleanField(label=_("Messaging"), required=False)
    messaging_licenses = forms.IntegerField(
        label=_("Messaging licenses"),
        min_value=1,
        max_value=10000,
        initial=DEFAULT_LICENSES,
        required=False,
    )
    calling = forms.BooleanField(label=_("Calling"), required=False)
    calling_licenses = forms.IntegerField(
        label=_("Calling licenses"),
        min_value=1,
        max_value=10000,
        initial=DEFAULT_LICENSES,
        required=False,
    )
    devices = forms.BooleanField(label=_("Devices"), required=False)

    def __init__(
        self,
        *args: Any,
        allowed: list[str] | None = None,
        reasons: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.allowed = list(ServiceType.values) if allowed is None else allowed
        reasons = reasons or {}
        for t in ServiceType.values:
            if t not in self.allowed:
                self.fields[t].disabled = True
                # T4: say which case applies, in words (no rule ids).
                self.fields[t].help_text = UNAVAILABLE_HINTS.get(
                    reasons.get(t, ""), _("Not available for this customer")
                )

    def clean_site_url(self) -> str:
        value = self.cleaned_data.get("site_url", "").strip().lower()
        value = re.sub(r"^https?://", "", value).rstrip("/")
        if value and not SITE_RE.match(value):
            raise forms.ValidationError(_("Enter a host name such as acme.meetings.example."))
        if value and Service.objects.filter(site_url=value).exists():
            raise forms.ValidationError(_("This Meetings site URL is taken."))
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        picked = [t for t in ServiceType.values if data.get(t) and t in self.allowed]
        if not picked and not self.errors:
            raise forms.ValidationError(_("Pick at least one service."))
        for t in LICENSED_SERVICES:
            name = f"{t.value}_licenses"
            if t in picked and not data.get(name) and name not in self.errors:
                self.add_error(name, _("How many licenses?"))
        if data.get("meetings") and data.get("meetings_edition") == MeetingsEdition.ENTERPRISE:
            if not data.get("site_url"):
                self.add_error("site_url", _("The enterprise edition needs a Meetings site URL."))
            if not data.get("time_zone"):
                self.add_error("time_zone", _("The enterprise edition needs a time zone."))
        return data

    def service_specs(self, *, devices: list[DeviceOrder] | None = None) -> list[ServiceSpec]:
        """The services to create; Devices count the devices shipped, not licenses."""
        data = self.cleaned_data
        specs = []
        for t in ServiceType.values:
            if not data.get(t) or t not in self.allowed:
                continue
            if t == ServiceType.MEETINGS:
                enterprise = data["meetings_edition"] == MeetingsEdition.ENTERPRISE
                specs.append(
                    ServiceSpec(
                        type=t,
                        quantity=data["meetings_licenses"],
                        edition=data["meetings_edition"],
                        site_url=data["site_url"] if enterprise else "",
                        time_zone=data["time_zone"] if enterprise else "",
                    )
                )
            elif t == ServiceType.DEVICES:
                shipped = sum(d.quantity for d in devices or ())
                specs.append(ServiceSpec(type=t, quantity=shipped))
            else:
                specs.append(ServiceSpec(type=t, quantity=data[f"{t}_licenses"]))
        return specs


class TrialLengthMixin(forms.Form):
    length = forms.TypedChoiceField(
        label=_("Trial length"),
        choices=TrialLength.choices,
        coerce=int,
        initial=TrialLength.DAYS_30,
    )


class TrialStartForm(OfferForm, TrialLengthMixin):
    """T2: a trial for a new customer."""

    company_name = forms.CharField(label=_("Company name"), max_length=200)
    admin_email = forms.EmailField(label=_("Customer admin email"))
    vertical = forms.ChoiceField(label=_("Vertical"), choices=[("", "—"), *Vertical.choices])
    country = forms.ChoiceField(label=_("Country"), choices=country_choices)

    field_order = ["company_name", "admin_email", "vertical", "country"]

    def clean_admin_email(self) -> str:
        email = self.cleaned_data["admin_email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(
                _(
                    "This email belongs to an existing organization: request a trial for that "
                    "organization instead."
                )
            )
        return email

    def clean_company_name(self) -> str:
        name = " ".join(self.cleaned_data["company_name"].split())
        if not name:
            raise forms.ValidationError(_("Enter the company name."))
        return name


class TrialRequestForm(OfferForm, TrialLengthMixin):
    """T3: a trial for an existing org; its admin is asked for consent."""

    admin_email = forms.EmailField(
        label=_("Email of an admin of the organization"),
        help_text=_("If this person is not a full admin, every full admin is asked too."),
    )
    field_order = ["admin_email"]


class TrialAddForm(OfferForm, TrialLengthMixin):
    """T5: a trial for a customer who already pays for something."""


class TrialServicesForm(OfferForm):
    """T8: tick the services the trial should hold from now on."""

    def __init__(self, *args: Any, current: list[str], **kwargs: Any) -> None:
        self.current = current
        super().__init__(*args, **kwargs)
        for t in current:
            self.fields[t].initial = True

    def clean_site_url(self) -> str:
        if "meetings" in self.current:  # the Meetings service exists already: keep its site
            return ""
        return super().clean_site_url()

    def additions(self, *, devices: list[DeviceOrder] | None = None) -> list[ServiceSpec]:
        return [s for s in self.service_specs(devices=devices) if s.type not in self.current]

    def removals(self) -> list[str]:
        return [t for t in self.current if t in self.allowed and not self.cleaned_data.get(t)]


class TrialExtendForm(forms.Form):
    """T6: extend by 30, 60 or 90 days, counted from today."""

    days = forms.TypedChoiceField(
        label=_("Extend by"),
        choices=TrialLength.choices,
        coerce=int,
        widget=forms.RadioSelect,
        initial=TrialLength.DAYS_30,
    )
    reason = forms.CharField(
        label=_("Reason (for support staff, who decide every device-trial extension)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def preview(self, *, today: date) -> date | None:
        if self.is_bound and self.is_valid():
            return today + timedelta(days=self.cleaned_data["days"])
        return None


class ConfirmForm(forms.Form):
    """T10 (and T3's cancel): a destructive step asks for an explicit tick; without it the
    page comes back with a field error saying so."""

    confirm = forms.BooleanField(
        label=_("Yes, delete this trial"),
        required=True,
        error_messages={
            "required": _("Tick the box to confirm: a deleted trial cannot be restored.")
        },
    )

    def __init__(
        self, *args: Any, label: Any = None, required_message: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if label is not None:
            self.fields["confirm"].label = label
        if required_message is not None:
            self.fields["confirm"].error_messages["required"] = required_message


class DevicesReturnForm(forms.Form):
    """T14: the serial numbers of returned trial devices, one a line (or comma-separated)."""

    serial_numbers = forms.CharField(
        label=_("Serial numbers of returned devices"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def serials(self) -> list[str]:
        text = self.cleaned_data["serial_numbers"].replace(",", " ")
        return [part for part in text.split() if part]
