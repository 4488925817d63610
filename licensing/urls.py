"""URLs of orders and the setup wizard; mounted at the site root by partnerhub/urls.py."""

from django.urls import path

from . import views

app_name = "licensing"

urlpatterns = [
    # T9: the partner converts a trial by placing an order (linked from the trial page).
    path(
        "partner/trials/<int:trial_pk>/convert/",
        views.TrialConvertView.as_view(),
        name="trial_convert",
    ),
    # S3: the partner renews an expiring or suspended paid subscription (customer page).
    path(
        "partner/subscriptions/<int:subscription_pk>/renew/",
        views.SubscriptionRenewView.as_view(),
        name="subscription_renew",
    ),
    path("partner/orders/<int:order_pk>/", views.OrderDetailView.as_view(), name="order_detail"),
    path(
        "partner/orders/<int:order_pk>/resend/",
        views.OrderLinkResendView.as_view(),
        name="order_link_resend",
    ),
    # W1–W6: the setup wizard, reached through the emailed signed link only.
    path("setup/<str:token>/", views.SetupStartView.as_view(), name="order_setup_start"),
    path(
        "setup/<str:token>/company/", views.SetupCompanyView.as_view(), name="order_setup_company"
    ),
    path("setup/<str:token>/choose/", views.SetupChooseView.as_view(), name="order_setup_choose"),
    path("setup/<str:token>/done/", views.setup_done, name="order_setup_done"),
]
