from django.urls import path

from . import forecast_views, views

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("views/save/", views.SavedViewSaveView.as_view(), name="saved_view_save"),
    path("dashboard/", forecast_views.DashboardView.as_view(), name="dashboard"),
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
