from django.urls import path

from . import bulk_views, dashboard_views, forecast_views, views

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("views/save/", views.SavedViewSaveView.as_view(), name="saved_view_save"),
    path("bulk/extend/", bulk_views.BulkTrialExtendView.as_view(), name="bulk_trial_extend"),
    path("bulk/export/", bulk_views.BulkExportView.as_view(), name="bulk_export"),
    path("bulk/signin/", bulk_views.BulkSigninAskView.as_view(), name="bulk_signin_ask"),
    path("dashboard/", dashboard_views.DashboardView.as_view(), name="dashboard"),
    path("forecast/", forecast_views.PartnerForecastView.as_view(), name="deletion_forecast"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path(
        "<int:pk>/services/<int:service_pk>/retry/",
        views.ServiceProvisioningRetryView.as_view(),
        name="service_provisioning_retry",
    ),
    path(
        "<int:pk>/services/<int:service_pk>/done/",
        views.ServiceManualDoneView.as_view(),
        name="service_manual_done",
    ),
]
