"""Settings pages for the own profile, notifications, data export and account deletion."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.auth import request_user
from accounts.forms import AccountDeleteForm, NotificationPreferencesForm, ProfileForm
from accounts.http import end_current_session, export_response
from accounts.models import User
from accounts.selectors import user_get_me
from accounts.services.account import account_delete
from accounts.services.profile import profile_update
from config.errors import ApplicationError


def _me(request: HttpRequest) -> User:
    return user_get_me(user_id=request_user(request).pk)


@require_GET
def settings_index(request: HttpRequest) -> HttpResponse:
    return redirect("accounts:profile_edit")


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                profile_update(
                    user=user,
                    display_name=data["display_name"],
                    bio=data["bio"],
                    website=data["website"],
                    location=data["location"],
                    timezone=data["timezone"],
                    is_private=data["is_private"],
                    avatar=data.get("avatar") or None,
                    remove_avatar=data["remove_avatar"],
                )
            except ApplicationError as error:
                if error.code == "invalid_image":
                    form.add_error("avatar", error.message)
                else:
                    error.add_to_form(form)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("accounts:profile_edit")
        status = 400
    else:
        form = ProfileForm(initial=ProfileForm.initial_for(user.profile))
        status = 200
    return render(request, "accounts/profile_edit.html", {"form": form, "profile_user": user}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def notifications_edit(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    if request.method == "POST":
        form = NotificationPreferencesForm(request.POST)
        if form.is_valid():
            try:
                profile_update(
                    user=user,
                    notification_preferences=form.preferences(),
                    email_notifications=form.cleaned_data["email_notifications"],
                    notification_email_preferences=form.email_preferences(),
                )
            except ApplicationError as error:
                error.add_to_form(form)
            else:
                messages.success(request, "Your notification settings are saved.")
                return redirect("accounts:notifications_edit")
        return render(request, "accounts/notifications_edit.html", {"form": form}, status=400)
    form = NotificationPreferencesForm(initial=NotificationPreferencesForm.initial_for(user.profile))
    return render(request, "accounts/notifications_edit.html", {"form": form})


@login_required
@require_GET
def account_settings(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(handle=request_user(request).handle)
    return render(request, "accounts/account.html", {"delete_form": form})


@login_required
@require_POST
def account_export_download(request: HttpRequest) -> HttpResponse:
    """The data export as a file download (POST: it is recorded in the security log)."""
    return export_response(user=_me(request), request=request)


@login_required
@require_POST
@reauthentication_required
def account_delete_confirm(request: HttpRequest) -> HttpResponse:
    """Deletes the account once the user re-authenticated and typed their handle.

    Without a recent re-authentication allauth keeps this POST aside, asks for the password
    and replays it afterwards.
    """
    user = _me(request)
    form = AccountDeleteForm(request.POST, handle=user.handle)
    if not form.is_valid():
        return render(request, "accounts/account.html", {"delete_form": form}, status=400)
    account_delete(user=user)
    end_current_session(request)
    messages.success(request, "Your account and all its data have been deleted. Goodbye!")
    return HttpResponseRedirect("/")
