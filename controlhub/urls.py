"""Control Hub's URL space, mounted at ``control-hub/<int:org_pk>/`` (every page names its org;
the views check access to it)."""

from django.urls import path

from . import views

app_name = "controlhub"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("trial-requests/<int:pk>/", views.TrialRequestView.as_view(), name="trial_request"),
    path(
        "subscriptions/<int:pk>/provision/",
        views.TrialProvisionView.as_view(),
        name="trial_provision",
    ),
    path("users/", views.UserListView.as_view(), name="user_list"),
    path("users/export.csv", views.UsersCsvExportView.as_view(), name="users_csv_export"),
    path("users/import/", views.UsersCsvImportView.as_view(), name="users_csv_import"),
    path("users/add/", views.UserAddView.as_view(), name="user_add"),
    path("users/add/csv/", views.UsersAddCsvView.as_view(), name="users_add_csv"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user_detail"),
    path("users/<int:pk>/role/", views.UserRoleView.as_view(), name="user_role"),
    path("users/<int:pk>/deactivate/", views.UserDeactivateView.as_view(), name="user_deactivate"),
    path("users/<int:pk>/reactivate/", views.UserReactivateView.as_view(), name="user_reactivate"),
    path("users/<int:pk>/invite/", views.UserInviteView.as_view(), name="user_invite"),
    # The invitation link: no sign-in (the signed token is the key).
    path(
        "invitation/<str:token>/",
        views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    path(
        "users/<int:pk>/licenses/",
        views.UserLicensesEditView.as_view(),
        name="user_licenses_edit",
    ),
    path("license-template/", views.LicenseTemplateView.as_view(), name="license_template"),
    path("subscriptions/", views.SubscriptionListView.as_view(), name="subscription_list"),
    path("buy/", views.BuyView.as_view(), name="buy"),
    path(
        "subscriptions/<int:pk>/cancel/",
        views.SubscriptionCancelView.as_view(),
        name="subscription_cancel",
    ),
    path("delete/", views.OrgDeleteView.as_view(), name="org_delete"),
]
