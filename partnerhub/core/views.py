from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Start page after sign-in. The partner and Control Hub issues send people onwards."""
    return render(request, "core/home.html")
