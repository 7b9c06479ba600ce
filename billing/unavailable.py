"""What billing's pages, API and webhook URL answer when the site runs without billing
(``BILLING_ENABLED=0``): a clear "not available" answer (a page, or the API's error shape),
never a failure from a Stripe call that has no key."""

from __future__ import annotations

from importlib import import_module

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, re_path

from config.http_errors import error_response, is_api_path

MESSAGE = "Billing is not available on this site: every feature is free here."


def billing_unavailable(request: HttpRequest, **path_parts: object) -> HttpResponse:
    if is_api_path(request.path):
        return error_response(request, status=404, code="billing_unavailable", message=MESSAGE)
    return render(request, "billing/unavailable.html", {"message": MESSAGE}, status=404)


def unavailable_urls(urlconf: str) -> tuple[list[URLPattern], str]:
    """Stands in for ``include(urlconf)``: the same names in the same namespace (so a template's
    ``{% url 'billing:settings' %}`` still renders), every path answered by the page above."""
    module = import_module(urlconf)
    named = [
        path(str(p.pattern), billing_unavailable, name=p.name)
        for p in module.urlpatterns
        if getattr(p, "name", None)
    ]
    return [*named, re_path(r"^(?P<rest>.*)$", billing_unavailable)], module.app_name
