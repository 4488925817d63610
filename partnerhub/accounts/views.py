from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES, OrgKind
from partnerhub.accounts.models import Membership


def _landing_url(request: HttpRequest) -> str | None:
    """Where a person lands after sign-in: partners on their customer list, customer admins in
    their org's Control Hub. Support staff and others see the start page."""
    user = request.user
    org = getattr(user, "org", None)
    try:
        if org is not None and org.kind == OrgKind.PARTNER and org.partner_certified:
            return reverse("customers:customer_list")
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
