"""/api/v1/… (the REST API, its schema and docs) and /settings/… (keys and webhooks pages)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from . import pages, views
from .problems import not_found

app_name = "api"
urlpatterns = [
    path("customers/", views.CustomerListApi.as_view(), name="customer_list"),
    path("customers/<int:pk>/", views.CustomerDetailApi.as_view(), name="customer_detail"),
    path("trials/", views.TrialStartApi.as_view(), name="trial_start"),
    path("trials/<int:pk>/", views.TrialDetailApi.as_view(), name="trial_detail"),
    path("trials/<int:pk>/extend/", views.TrialExtendApi.as_view(), name="trial_extend"),
    path("trials/<int:pk>/services/", views.TrialServicesApi.as_view(), name="trial_services"),
    path("trial-requests/", views.TrialRequestApi.as_view(), name="trial_request"),
    path(
        "trial-requests/<int:pk>/resend/", views.ConsentResendApi.as_view(), name="consent_resend"
    ),
    path(
        "trial-requests/<int:pk>/cancel/", views.ConsentCancelApi.as_view(), name="consent_cancel"
    ),
    path("orders/", views.OrderListApi.as_view(), name="order_list"),
    path("orders/<str:number>/", views.OrderDetailApi.as_view(), name="order_detail"),
    path("audit/", views.AuditListApi.as_view(), name="audit_list"),
    path("notifications/", views.NotificationListApi.as_view(), name="notification_list"),
    path(
        "notifications/<int:pk>/read/",
        views.NotificationReadApi.as_view(),
        name="notification_read",
    ),
    path("orgs/<int:org_pk>/users/", views.UserListApi.as_view(), name="user_list"),
    path(
        "orgs/<int:org_pk>/users/<int:pk>/licenses/",
        views.UserLicensesApi.as_view(),
        name="user_licenses",
    ),
    path("orgs/<int:org_pk>/licenses/bulk/", views.LicenseBulkApi.as_view(), name="license_bulk"),
    path("activity/", views.ActivityApi.as_view(), name="activity"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^.*$", not_found, name="not_found"),
]

settings_urlpatterns = (
    [
        path("api-keys/", pages.ApiKeyListView.as_view(), name="apikey_list"),
        path("api-keys/<int:pk>/revoke/", pages.ApiKeyRevokeView.as_view(), name="apikey_revoke"),
        path("webhooks/", pages.WebhookListView.as_view(), name="webhook_list"),
        path("webhooks/<int:pk>/", pages.WebhookDetailView.as_view(), name="webhook_detail"),
    ],
    "api_settings",
)
