"""Partner notifications, mounted at ``partner/notifications/``."""

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.NotificationListView.as_view(), name="notification_list"),
    path("<int:pk>/open/", views.NotificationReadView.as_view(), name="notification_read"),
    path("read-all/", views.NotificationReadAllView.as_view(), name="notification_read_all"),
    path("settings/", views.NotificationSettingsView.as_view(), name="notification_settings"),
]
