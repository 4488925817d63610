"""Control Hub's forms: they validate input; the views then call one service."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.user_services import ASSIGNABLE_ROLES, email_taken_message
from licensing.calling import is_assignable, service_label
from licensing.choices import ServiceType
from licensing.models import Service
from partnerhub.accounts.choices import Country, Role
from partnerhub.accounts.models import Organization

MAX_CSV_BYTES = 10 * 1024 * 1024
PAGE_SIZES = (25, 50, 100)


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    service = forms.ChoiceField(
        label=_("Has a license of"),
        required=False,
        choices=[("", _("Any service")), *ServiceType.choices],
    )
    subscription = forms.TypedChoiceField(
        label=_("On subscription"), required=False, coerce=int, empty_value=None
    )
    unlicensed = forms.BooleanField(label=_("Without licenses"), required=False)
    per_page = forms.TypedChoiceField(
        label=_("Per page"),
        required=False,
        coerce=int,
        # Django takes any value as empty_value; the stubs allow only str | None.
        empty_value=PAGE_SIZES[1],  # type: ignore[arg-type]
        initial=PAGE_SIZES[1],
        choices=[(n, n) for n in PAGE_SIZES],
    )

    def __init__(self, *args, subscriptions: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["subscription"])
        field.choices = [("", _("Any subscription")), *subscriptions]


def service_choices(services: dict[int, Service]) -> list[tuple[int, str]]:
    return [(pk, service_label(s)) for pk, s in services.items()]


class LicensesForm(forms.Form):
    """C3: every service of the org's subscriptions as a box; Calling ticked on one only."""

    services = forms.TypedMultipleChoiceField(
        label=_("Licenses"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    confirm_calling_loss = forms.BooleanField(
        label=_("Yes, remove Calling and delete this user's calling data"), required=False
    )

    def __init__(self, *args, services: dict[int, Service], held: set[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.org_services = services
        self.held = held
        cast(forms.ChoiceField, self.fields["services"]).choices = service_choices(services)

    def clean_services(self) -> list[int]:
        ids: list[int] = self.cleaned_data["services"]
        calling = [i for i in ids if self.org_services[i].type == ServiceType.CALLING]
        if len(calling) > 1:
            raise forms.ValidationError(
                _("Tick Calling on one subscription only: a user has Calling once.")
            )
        for pk in ids:
            if pk not in self.held and not is_assignable(self.org_services[pk]):
                raise forms.ValidationError(
                    _("%(service)s cannot take new users: it is not active and provisioned.")
                    % {"service": service_label(self.org_services[pk])}
                )
        return ids

    def rows(self) -> list[dict[str, object]]:
        """The boxes grouped for the template: one row per service, ticked as submitted."""
        if self.is_bound:
            raw = self.data.getlist("services") if hasattr(self.data, "getlist") else []
            ticked = {int(v) for v in raw if str(v).isdigit()}
        else:
            ticked = set(self.held)
        return [
            {
                "service": s,
                "label": service_label(s),
                "checked": pk in ticked,
                "held": pk in self.held,
                "assignable": is_assignable(s),
                "is_calling": s.type == ServiceType.CALLING,
            }
            for pk, s in self.org_services.items()
        ]


class ConsentForm(forms.Form):
    """T3: the box decides whether the partner becomes a full or a provisioning admin."""

    grant_full_admin = forms.BooleanField(
        label=_("Allow the partner full admin access"), required=False
    )


def csv_upload_text(upload: Any) -> str:
    """An uploaded CSV file as text, or a ValidationError that says what to do."""
    if upload.size > MAX_CSV_BYTES:
        raise forms.ValidationError(_("The file is larger than 10 MB."))
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise forms.ValidationError(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
        ) from exc


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))

    def clean_file(self) -> str:
        return csv_upload_text(self.cleaned_data["file"])


class CsvApplyForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    confirm_calling_loss = forms.BooleanField(
        label=_("Yes, remove Calling and delete these users' calling data"), required=False
    )


class LicenseTemplateForm(forms.Form):
    """C5: the template's licenses and whether existing users keep theirs when it is applied."""

    services = forms.TypedMultipleChoiceField(
        label=_("Licenses for new users"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    keep_existing_licenses = forms.BooleanField(
        label=_("Keep existing users' licenses"), required=False
    )
    confirm_calling_loss = forms.BooleanField(
        label=_("Yes, remove Calling and delete these users' calling data"), required=False
    )

    def __init__(self, *args, services: dict[int, Service], **kwargs):
        super().__init__(*args, **kwargs)
        self.org_services = services
        cast(forms.ChoiceField, self.fields["services"]).choices = service_choices(services)

    @property
    def ticked(self) -> set[int]:
        """The boxes to show ticked: as submitted, or as saved."""
        if self.is_bound:
            raw = self.data.getlist("services") if hasattr(self.data, "getlist") else []
            return {int(v) for v in raw if str(v).isdigit()}
        return set(self.initial.get("services", []))

    def clean_services(self) -> list[int]:
        ids: list[int] = self.cleaned_data["services"]
        if sum(1 for i in ids if self.org_services[i].type == ServiceType.CALLING) > 1:
            raise forms.ValidationError(_("Tick Calling on one subscription only."))
        return ids


class SubscriptionCancelForm(forms.Form):
    confirm_calling_loss = forms.BooleanField(
        label=_("Yes, cancel it and delete these users' calling data"), required=False
    )


class OrgDeleteForm(forms.Form):
    """D9: the full admin types the org's name to confirm."""

    name = forms.CharField(label=_("Type the organization's name to confirm"))

    def __init__(self, *args, org: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if name != self.org.name:
            raise forms.ValidationError(
                _("That is not the organization's name. Type it exactly: %(name)s")
                % {"name": self.org.name}
            )
        return name


class CallingLocationForm(forms.Form):
    """P1: Calling waits for a location and its emergency address, entered by a customer admin
    (the vendor routes emergency calls from it)."""

    location_name = forms.CharField(label=_("Location name"), max_length=80)
    address_line = forms.CharField(label=_("Street address"), max_length=200)
    city = forms.CharField(label=_("City"), max_length=100)
    postal_code = forms.RegexField(
        label=_("Postal code"),
        max_length=12,
        regex=r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,11}$",
        error_messages={"invalid": _("Enter a postal code of letters, digits and spaces.")},
    )
    country = forms.ChoiceField(label=_("Country"), choices=Country.choices)

    def __init__(self, *args, org: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].initial = org.country

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for key in ("location_name", "address_line", "city", "postal_code"):
            value = cleaned.get(key)
            if isinstance(value, str):
                if not value.strip():
                    self.add_error(key, _("This field is required."))
                else:
                    cleaned[key] = " ".join(value.split())
        return cleaned


# --- users (add, invite, role, bulk add) -------------------------------------------------------


def role_choices() -> list[tuple[str, str]]:
    """Called when a form is built, so the labels are in the request's language."""
    return [(role.value, str(role.label)) for role in ASSIGNABLE_ROLES]


class UserAddForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=role_choices, initial=Role.USER)
    invite = forms.BooleanField(
        label=_("Email an invitation to set a password"), required=False, initial=True
    )
    template_licenses = forms.BooleanField(
        label=_("Give the licenses of the auto-license template"), required=False, initial=True
    )

    def __init__(self, *args, org: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip().lower()
        taken = email_taken_message(email=email, org=self.org)
        if taken:
            raise forms.ValidationError(taken)
        return email


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)


class UsersAddCsvForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
    invite = forms.BooleanField(
        label=_("Email each new user an invitation to set a password"),
        required=False,
        initial=True,
    )
    template_licenses = forms.BooleanField(
        label=_("Give the licenses of the auto-license template"), required=False, initial=True
    )

    def clean_file(self) -> str:
        return csv_upload_text(self.cleaned_data["file"])


class UsersAddApplyForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


class BuyRequestForm(forms.Form):
    """The Buy page: "I want to buy" one subscription, with an optional message to the partner."""

    subscription = forms.IntegerField(widget=forms.HiddenInput)
    message = forms.CharField(
        label=_("Message to your partner (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
