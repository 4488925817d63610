from django.urls import path

from . import views

app_name = "trials"

urlpatterns = [
    path("start/", views.TrialStartView.as_view(), name="trial_start"),
    path("request/", views.TrialRequestView.as_view(), name="trial_request"),
    path("consent/<int:pk>/resend/", views.ConsentResendView.as_view(), name="consent_resend"),
    path("consent/<int:pk>/cancel/", views.ConsentCancelView.as_view(), name="consent_cancel"),
    path("customer/<int:pk>/add/", views.TrialAddView.as_view(), name="trial_add"),
    path("<int:pk>/services/", views.TrialServicesView.as_view(), name="trial_services"),
    path("<int:pk>/extend/", views.TrialExtendView.as_view(), name="trial_extend"),
    path("<int:pk>/delete/", views.TrialDeleteView.as_view(), name="trial_delete"),
    path("<int:pk>/devices/return/", views.DevicesReturnView.as_view(), name="devices_return"),
    path(
        "<int:pk>/devices/label/",
        views.ReturnLabelRequestView.as_view(),
        name="return_label_request",
    ),
]
