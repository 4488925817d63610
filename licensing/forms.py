"""Forms of the licensing app: placing a conversion order (T9) and the setup wizard (W2)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerhub.accounts.choices import Country

from .choices import ServiceType
from .orders import TERM_CHOICES, OrderLineSpec
from .selectors import WizardMatch

NEW_ORG = "new"


class OrderLinesForm(forms.Form):
    """Quantities of an order's services, its term and its provisioning contact (W1)."""

    provisioning_contact_email = forms.EmailField(
        label=_("Provisioning contact email"),
        help_text=_("This address gets the single-use link to the setup wizard."),
    )
    term_months = forms.TypedChoiceField(
        label=_("Term"),
        coerce=int,
        choices=[(months, _("%(months)s months") % {"months": months}) for months in TERM_CHOICES],
        initial=12,
    )

    def __init__(self, *args: Any, service_types: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.service_types = [
            t for t in ServiceType if service_types is None or t.value in service_types
        ]
        for service_type in self.service_types:
            self.fields[f"qty_{service_type.value}"] = forms.IntegerField(
                label=service_type.label,
                min_value=0,
                max_value=100_000,
                required=False,
                initial=0,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(cleaned.get(f"qty_{t.value}") for t in self.service_types):
            raise forms.ValidationError(_("Order at least one license of one service."))
        return cleaned

    def quantity_fields(self) -> list[forms.BoundField]:
        return [self[f"qty_{t.value}"] for t in self.service_types]

    def lines(self) -> list[OrderLineSpec]:
        return [
            OrderLineSpec(service_type=t.value, quantity=self.cleaned_data[f"qty_{t.value}"])
            for t in self.service_types
            if self.cleaned_data.get(f"qty_{t.value}")
        ]


class TrialConvertForm(OrderLinesForm):
    """T9: a tier 1 partner orders the paid services for a trial's org (W1: the provisioning
    contact gets the setup link). It starts with every trial service; leaving one out needs
    ``confirm_left_out`` once the page has named the users who lose it."""

    provisioning_contact_email = forms.EmailField(
        label=_("Provisioning contact email"),
        help_text=_(
            "This address gets the single-use link to the setup wizard. Enter yourself, so "
            "that every service of the trial is converted correctly."
        ),
    )
    confirm_left_out = forms.BooleanField(
        label=_("Yes, the users listed lose the services left out of this order"),
        required=False,
    )


class SubscriptionRenewForm(OrderLinesForm):
    """S3: renew a paid subscription: the same services, at least as many licenses as users
    hold them, for a new term."""

    provisioning_contact_email = forms.EmailField(
        label=_("Contact email"),
        help_text=_("Who to contact about this renewal."),
    )


class WizardCompanyForm(forms.Form):
    """W2: the two things the wizard matches on."""

    company_name = forms.CharField(label=_("Company name"), max_length=200, strip=True)
    admin_email = forms.EmailField(label=_("Admin email"))

    def clean_company_name(self) -> str:
        name = " ".join(self.cleaned_data["company_name"].split())
        if not name:
            raise forms.ValidationError(_("Enter the company name."))
        return name

    def clean_admin_email(self) -> str:
        return self.cleaned_data["admin_email"].strip().lower()


class WizardChooseForm(forms.Form):
    """W2(a)/(b): pick one of the matched orgs, or (b only) a new org with its country.

    The choices are exactly the orgs the match listed (W6): any other id is a field error.
    """

    org = forms.ChoiceField(label=_("Organization"), widget=forms.RadioSelect)
    country = forms.ChoiceField(
        label=_("Country of the new organization"),
        choices=[("", "—"), *Country.choices],
        required=False,
        help_text=_("It decides where the new organization's data is kept."),
    )

    def __init__(self, *args: Any, match: WizardMatch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.match = match
        choices: list[tuple[str, str]] = [(str(org.pk), org.name) for org in match.orgs]
        if not match.is_admin_match:
            choices.append((NEW_ORG, str(_("Create a new organization"))))
        else:
            del self.fields["country"]
        cast(forms.ChoiceField, self.fields["org"]).choices = choices
        if len(choices) == 1:
            self.fields["org"].initial = choices[0][0]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("org") == NEW_ORG and not cleaned.get("country"):
            self.add_error("country", _("Choose the country of the new organization."))
        return cleaned

    def chosen_org_pk(self) -> int | None:
        value = self.cleaned_data["org"]
        return None if value == NEW_ORG else int(value)
