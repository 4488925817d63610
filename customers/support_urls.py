from django.urls import path

from . import forecast_views

app_name = "support"

urlpatterns = [
    path("forecast/", forecast_views.SupportForecastView.as_view(), name="forecast"),
]
