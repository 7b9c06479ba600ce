"""Server-rendered social pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The home page: the welcome page for visitors (the feed arrives with the social issue)."""
    return render(request, "home.html")
