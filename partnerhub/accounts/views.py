from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext, ngettext, override
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.i18n import set_language as django_set_language

from partnerhub.accounts.access import PartnerAction
from partnerhub.accounts.choices import (
    CUSTOMER_ADMIN_ROLES,
    EMAILED_NOTIFICATION_KINDS,
    FEED_ONLY_NOTIFICATION_KINDS,
    OrgKind,
)
from partnerhub.accounts.language import (
    LANGUAGE_PICKED,
    ORG_TIME_ZONE,
    language_choices,
    language_supported,
    org_time_zone,
    time_zone_choices,
)
from partnerhub.accounts.models import Membership
from partnerhub.accounts.notifications import (
    email_kinds_off,
    notification_email_kinds_set,
    notification_read,
    notifications_read_all,
    partner_feed,
)
from partnerhub.accounts.permissions import PartnerMemberMixin, signed_in_user
from partnerhub.accounts.services import person_locale_set


def _landing_url(request: HttpRequest) -> str | None:
    """Where a person lands after sign-in: partners on their dashboard, customer admins in
    their org's Control Hub. Support staff and others see the start page."""
    user = request.user
    if not user.is_authenticated:
        return None
    org = user.org
    try:
        if org is not None and org.kind == OrgKind.PARTNER and org.partner_certified:
            return reverse("customers:dashboard")  # issue 16: the dashboard is the landing page
        if (
            org is not None
            and Membership.objects.filter(
                user=user, org=org, role__in=CUSTOMER_ADMIN_ROLES
            ).exists()
        ):
            return reverse("controlhub:overview", kwargs={"org_pk": org.pk})
    except NoReverseMatch:  # that part of the product is not installed in this build
        return None
    return None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Start page after sign-in: sends people to their part of the product."""
    url = _landing_url(request)
    if url is not None:
        return redirect(url)
    return render(request, "accounts/home.html")


# ---- partner notifications -----------------------------------------------------------------


class NotificationListView(PartnerMemberMixin, View):
    """The person's feed, newest first, 50 a page; every partner role sees its own feed."""

    per_page = 50

    def get(self, request: HttpRequest) -> HttpResponse:
        page = Paginator(partner_feed(user=self.actor), self.per_page).get_page(
            request.GET.get("page")
        )
        return render(request, "accounts/notification_list.html", {"page": page})


class NotificationReadView(PartnerMemberMixin, View):
    """Open one notice: it is marked read and the person lands where it points."""

    # Reading one's own feed is not a change of the partner's data.
    change_action = PartnerAction.OWN_SETTINGS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        notification = notification_read(user=self.actor, notification_id=pk)
        if notification is None:
            raise Http404
        target = notification.link_path
        if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
            target = reverse("accounts:notification_list")
        return redirect(target)


class NotificationReadAllView(PartnerMemberMixin, View):
    change_action = PartnerAction.OWN_SETTINGS

    def post(self, request: HttpRequest) -> HttpResponse:
        count = notifications_read_all(user=self.actor)
        messages.success(
            request,
            ngettext("%(n)d notification marked read.", "%(n)d notifications marked read.", count)
            % {"n": count},
        )
        return redirect("accounts:notification_list")


class NotificationSettingsForm(forms.Form):
    email_kinds = forms.MultipleChoiceField(
        label=_("Email me about"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(str(k), k.label) for k in EMAILED_NOTIFICATION_KINDS],
        help_text=_("Your notification list keeps every notice, whatever you pick here."),
    )


class NotificationSettingsView(PartnerMemberMixin, View):
    """Turn the email of each kind of notice on or off, for oneself."""

    change_action = PartnerAction.OWN_SETTINGS

    def render_form(self, form: NotificationSettingsForm) -> HttpResponse:
        return render(
            self.request,
            "accounts/notification_settings.html",
            {"form": form, "feed_only": [k.label for k in FEED_ONLY_NOTIFICATION_KINDS]},
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        off = email_kinds_off(user=self.actor)
        initial = [str(k) for k in EMAILED_NOTIFICATION_KINDS if k not in off]
        return self.render_form(NotificationSettingsForm(initial={"email_kinds": initial}))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = NotificationSettingsForm(request.POST)
        if not form.is_valid():
            return self.render_form(form)
        notification_email_kinds_set(
            user=self.actor,
            email_kinds=form.cleaned_data["email_kinds"],
        )
        messages.success(request, _("Your notification emails are saved."))
        return redirect("accounts:notification_settings")


def signin_locked_out(
    request: HttpRequest, original_response: object = None, credentials: object = None
) -> HttpResponse:
    """django-axes' answer once an address or an IP has failed too often: the sign-in page
    again, saying why and for how long (429)."""
    from django.conf import settings
    from django.contrib.auth.forms import AuthenticationForm

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = AuthenticationForm(request)
    return render(
        request,
        "registration/login.html",
        {"form": form, "locked_out": True, "cooloff_minutes": minutes},
        status=429,
    )


# ---- language and time zone (issue 14) -----------------------------------------------------


def language_set(request: HttpRequest) -> HttpResponse:
    """The language picker of every top bar and of the sign-in page: Django's ``set_language``
    (the cookie, a safe ``next``), and the choice stored on the person — signed in, at once;
    on the sign-in page, when they sign in (``language.person_locale_on_sign_in``)."""
    response = django_set_language(request)
    chosen = language_supported(request.POST.get("language")) if request.method == "POST" else None
    if chosen:
        if request.user.is_authenticated:
            person_locale_set(person=signed_in_user(request), language=chosen)
        else:
            request.session[LANGUAGE_PICKED] = chosen
    return response


class PersonSettingsForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=())
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        choices=(),
        help_text=_("Dates and times on every page and in your emails."),
    )

    def __init__(self, *args: Any, org_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language, zone = self.fields["language"], self.fields["time_zone"]
        assert isinstance(language, forms.ChoiceField)
        assert isinstance(zone, forms.ChoiceField)
        language.choices = language_choices()
        zone.choices = [
            ("", _("Your organization's (%(zone)s)") % {"zone": org_zone}),
            *time_zone_choices(),
        ]


class PersonSettingsView(LoginRequiredMixin, View):
    """Anyone signed in: the language and the time zone they read (issue 14)."""

    def _org_zone(self) -> str:
        user = signed_in_user(self.request)
        return org_time_zone(user.org) if user.org_id else settings.TIME_ZONE

    def _render(self, form: PersonSettingsForm) -> HttpResponse:
        return render(self.request, "accounts/person_settings.html", {"form": form})

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        initial = {"language": user.language or get_language(), "time_zone": user.time_zone}
        return self._render(PersonSettingsForm(initial=initial, org_zone=self._org_zone()))

    def post(self, request: HttpRequest) -> HttpResponse:
        org_zone = self._org_zone()
        form = PersonSettingsForm(request.POST, org_zone=org_zone)
        if not form.is_valid():
            return self._render(form)
        language = form.cleaned_data["language"]
        person_locale_set(
            person=signed_in_user(request),
            language=language,
            time_zone=form.cleaned_data["time_zone"],
        )
        request.session[ORG_TIME_ZONE] = org_zone
        # The confirmation is read in the language just chosen.
        with override(language):
            messages.success(request, gettext("Your language and time zone are saved."))
        return redirect("person_settings")
