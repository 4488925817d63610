from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
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
