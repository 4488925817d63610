from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api.urls import settings_urlpatterns
from partnerhub.accounts import views as accounts_views

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("partner/customers/", include("customers.urls")),
    path("partner/trials/", include("trials.urls")),
    path("partner/notifications/", include("partnerhub.accounts.urls")),
    path("support/", include("customers.support_urls")),
    path("admin/", admin.site.urls),
    # The language picker (issue 14): Django's set_language, and the choice stored on the person.
    path("i18n/setlang/", accounts_views.language_set, name="set_language"),
    path("me/", accounts_views.PersonSettingsView.as_view(), name="person_settings"),
    path("control-hub/<int:org_pk>/", include("controlhub.urls")),
    # Deprecated (issue 15): kept working; the successor is /api/v1/activity/ with an API key.
    path("api/activity/", include("customers.api")),
    path("api/v1/", include("api.urls")),
    path("settings/", include(settings_urlpatterns)),
    # Orders: the setup wizard (setup/<token>/…) and the partner's conversion page (T9, W).
    path("", include("licensing.urls")),
]
