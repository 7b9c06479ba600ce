"""The one-click unsubscribe link of notification e-mails: no sign-in, no CSRF token.

GET shows what the link would stop and asks to confirm (link scanners and previews open links
and must not unsubscribe anyone); POST does it. A mail client's RFC 8058 one-click POST
(``List-Unsubscribe=One-Click``, no cookies) lands on the same POST. The signed token is the
authority, so CSRF protection would only refuse those clients: a forged form cannot know it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.services.email_unsubscribe import (
    email_unsubscribe_link_read,
    notification_email_subscription_set,
)
from config.errors import NotFoundError


@csrf_exempt
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = email_unsubscribe_link_read(token=token)
    except NotFoundError as error:
        return render(request, "accounts/email_unsubscribe.html", {"error": error.message}, status=404)
    context = {"link": link, "done": False, "subscribed": True}
    if request.method == "POST":
        subscribed = request.POST.get("subscribe") == "1"
        notification_email_subscription_set(link=link, subscribed=subscribed)
        context.update(done=True, subscribed=subscribed)
    response = render(request, "accounts/email_unsubscribe.html", context)
    # The token is in the address: keep it out of other sites' Referer headers and of caches.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response
