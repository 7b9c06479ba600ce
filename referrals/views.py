"""Pages: the referral link's redirect and the referrals settings page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from allauth.account.views import SignupView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import User
from config.errors import ApplicationError
from referrals.cookies import device_cookie_ensure, referral_cookie_code, referral_cookie_set, request_hashes
from referrals.forms import ReferralApplyForm
from referrals.selectors import (
    format_money,
    mask_email,
    referral_of_user,
    referral_stats_for_user,
    referrals_for_referrer,
    rewards_for_user,
)
from referrals.services import click_record, referral_apply, referral_code_ensure, user_seen_record


def referral_link_url(code: str) -> str:
    return f"{settings.SITE_URL}{reverse('referrals:link', args=[code])}"


def share_text(code: str) -> str:
    return f"Join me on {settings.SITE_NAME}: {referral_link_url(code)} (or use my code {code} when you sign up)."


class ReferralSignupView(SignupView):
    """allauth's sign-up page, telling a visitor who came through a referral link which code
    will apply (the link's, kept in a cookie, unless they type another)."""

    def get_form(self, form_class: Any = None) -> Any:
        form = super().get_form(form_class)
        code = referral_cookie_code(self.request)
        if code and "referral_code" in form.fields:
            field = form.fields["referral_code"]
            field.widget.attrs["placeholder"] = code
            field.help_text = f"The code of the link you came by, {code}, applies unless you type another."
        return form


@require_http_methods(["GET", "HEAD"])
def referral_link(request: HttpRequest, code: str) -> HttpResponse:
    """``/r/<code>``: counts the click, remembers the referrer in a cookie, sends to sign-up."""
    ip_hash, device_hash = request_hashes(request)
    visitor = request.user if isinstance(request.user, User) else None
    referral_code = click_record(code=code, visitor=visitor, ip_hash=ip_hash, device_hash=device_hash)
    if visitor is not None:
        target = (
            reverse("referrals:settings") if referral_code and referral_code.user_id == visitor.pk else "/"
        )
        response: HttpResponse = HttpResponseRedirect(target)
    else:
        response = HttpResponseRedirect(reverse("account_signup"))
        if referral_code is not None:
            referral_cookie_set(request, response, code=referral_code.code)
    device_cookie_ensure(request, response)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def referrals_settings(request: HttpRequest) -> HttpResponse:
    """The user's code, link, stats, referred users (masked), rewards and the apply form."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required
    ip_hash, device_hash = request_hashes(request)
    received = referral_of_user(user=user)
    window_ends = user.date_joined + timedelta(days=settings.REFERRAL_APPLY_WINDOW_DAYS)
    can_apply = received is None and timezone.now() <= window_ends

    form = ReferralApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            referral_apply(
                user=user, code=form.cleaned_data["code"], ip_hash=ip_hash, device_hash=device_hash
            )
        except ApplicationError as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(request, "Referral code applied. Thank you!")
            return redirect("referrals:settings")

    code = referral_code_ensure(user=user).code
    stats = referral_stats_for_user(user=user)
    page = Paginator(referrals_for_referrer(user=user), 25).get_page(request.GET.get("page"))
    rows = [
        {
            "who": mask_email(r.referred.email) if r.referred else "Deleted account",
            "status": r.get_status_display(),
            "status_code": r.status,
            "created_at": r.created_at,
        }
        for r in page.object_list
    ]
    context = {
        "code": code,
        "link": referral_link_url(code),
        "share_text": share_text(code),
        "page": page,
        "rows": rows,
        "rewards": list(rewards_for_user(user=user)[:50]),
        "received": received,
        "can_apply": can_apply or (request.method == "POST" and received is None),
        "window_ends": window_ends,
        "window_days": settings.REFERRAL_APPLY_WINDOW_DAYS,
        "stats": stats,
        "credit_earned": format_money(stats.credit_earned_cents),
        "form": form,
    }
    response = render(request, "referrals/settings.html", context)
    # Visiting one's own referral page tells us the referrer's IP and device (hashed).
    user_seen_record(user=user, ip_hash=ip_hash, device_hash=device_hash)
    device_cookie_ensure(request, response)
    return response
