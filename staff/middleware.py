"""Two middlewares of the staff panel: the one place that limits an impersonated session, and
the once-a-day record of who was active (the dashboard's DAU/WAU/MAU and cohorts)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from staff.impersonation import impersonation_expired, impersonation_state, impersonation_stop, refusal_for
from staff.services import today, user_activity_mark

API_PREFIXES = ("/api/", "/_allauth/")


class ImpersonationMiddleware:
    """While staff impersonate a user: ends the impersonation once its time is up, and refuses
    (403, a page or the API's error shape) what support may not do as the user. After hijack's
    middleware and the authentication middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = impersonation_state(request)
        if state is None:
            return self.get_response(request)
        if impersonation_expired(state):
            target = impersonation_stop(request=request, expired=True)
            messages.info(request, "The impersonation reached its time limit and has ended.")
            return redirect(f"/admin/staff/useroverview/{target.pk}/change/" if target else "/admin/")
        refusal = refusal_for(request)
        if refusal:
            return self.refuse(request, refusal)
        return self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest, message: str) -> HttpResponse:
        if request.path.startswith(API_PREFIXES):
            error = {"code": "impersonation_forbidden", "message": message, "fields": {}}
            return JsonResponse({"error": error}, status=403)
        return render(request, "staff/impersonation_refused.html", {"message": message}, status=403)


class ActivityMiddleware:
    """Marks the signed-in user active today: one insert a day per user, one cache check a day
    per user and server process (``user_activity_mark``), and nothing on the user's other
    requests that day in this process (it remembers whom it marked, for up to
    ``REMEMBERED`` users, the least recently seen forgotten first)."""

    REMEMBERED = 20_000

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._marked: OrderedDict[int, date] = OrderedDict()

    def _mark(self, user_id: int) -> None:
        day = today()
        if self._marked.get(user_id) == day:
            return
        user_activity_mark(user_id=user_id, day=day)
        self._marked[user_id] = day
        self._marked.move_to_end(user_id)
        while len(self._marked) > self.REMEMBERED:
            self._marked.popitem(last=False)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and response.status_code < 400
            and not request.session.get("hijack_history")
        ):
            self._mark(user.pk)
        return response
