"""Staff actions on one object's admin page: a button on the change page opens an intermediate
form (the reason, an amount), and posting it calls one billing service.

``StaffActionsMixin`` gives a ModelAdmin ``<object>/<action>/`` pages for each ``StaffAction``
it lists. Each page checks the action's own permission (403 without it, also for superusers'
roles that lack it, never just "is staff"), answers 404 for an action the object is not in a
state for, and shows a service's refusal (``ApplicationError``) on the form, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from config.admin import ChangePageContextMixin
from config.errors import ApplicationError


@dataclass(frozen=True)
class StaffAction:
    """One money action: its URL name, button label, permission and what it runs.

    ``run(request, obj, cleaned_data)`` calls the service and returns the success message.
    ``form_kwargs(obj)`` gives the form what it needs (the currency, what is refundable).
    ``available(obj)`` hides the button (and 404s the page) when the action makes no sense.
    """

    name: str
    label: str
    permission: str
    form_class: type[forms.Form]
    run: Callable[[HttpRequest, Any, dict[str, Any]], str]
    available: Callable[[Any], bool] = lambda obj: True
    form_kwargs: Callable[[Any], dict[str, Any]] = lambda obj: {}
    help_text: str = ""
    danger: bool = False


class StaffActionsMixin(ChangePageContextMixin):
    """Mix into a ModelAdmin before ``admin.ModelAdmin``; list the actions in ``staff_actions``."""

    staff_actions: tuple[StaffAction, ...] = ()
    change_form_template = "admin/billing/change_form.html"

    # Provided by ModelAdmin.
    model: type[Model]
    admin_site: admin.AdminSite

    def staff_actions_for(self, request: HttpRequest, obj: Any) -> list[dict[str, str]]:
        """The buttons this staff member may press on this object's page."""
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            {"label": a.label, "url": reverse(f"admin:{info[0]}_{info[1]}_{a.name}", args=[obj.pk])}
            for a in self.staff_actions
            if request.user.has_perm(a.permission) and a.available(obj)
        ]

    def get_urls(self) -> list[URLPattern]:
        info = self.model._meta.app_label, self.model._meta.model_name
        own = [
            path(
                f"<path:object_id>/{action.name}/",
                self.admin_site.admin_view(partial(self.staff_action_view, action=action)),
                name=f"{info[0]}_{info[1]}_{action.name}",
            )
            for action in self.staff_actions
        ]
        return own + super().get_urls()  # type: ignore[misc]  # ModelAdmin's, further down the MRO

    def change_page_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {"staff_actions": self.staff_actions_for(request, obj)}

    def staff_action_view(self, request: HttpRequest, object_id: str, *, action: StaffAction) -> HttpResponse:
        if not request.user.has_perm(action.permission):
            raise PermissionDenied
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]  # ModelAdmin's
        if obj is None or not action.available(obj):
            raise Http404("Nothing to do here.")
        kwargs = action.form_kwargs(obj)
        form = action.form_class(request.POST or None, **kwargs)
        if request.method == "POST" and form.is_valid():
            try:
                message = action.run(request, obj, form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, message)
                info = self.model._meta.app_label, self.model._meta.model_name
                return HttpResponseRedirect(reverse(f"admin:{info[0]}_{info[1]}_change", args=[obj.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": f"{action.label}: {obj}",
            "action": action,
            "form": form,
        }
        return TemplateResponse(request, "admin/billing/staff_action.html", context)
