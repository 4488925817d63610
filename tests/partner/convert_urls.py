"""A URLconf with a stand-in for issue 6's conversion order page (T9), to test the link."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from partnerhub.urls import urlpatterns as real


def convert(request: HttpRequest, trial_pk: int) -> HttpResponse:
    return HttpResponse()


licensing_patterns = (
    [path("convert/<int:trial_pk>/", convert, name="trial_convert")],
    "licensing",
)
urlpatterns = [*real, path("partner/orders/", include(licensing_patterns))]
