"""Pages: the referral link's redirect and the referrals settings page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from allauth.account.views import SignupView
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.auth import request_user, request_user_or_none
from config.errors import ApplicationError
from config.pagination import cursor_page
from referrals.cookies import device_cookie_ensure, referral_cookie_code, referral_cookie_set, request_hashes
from referrals.forms import ReferralApplyForm
from referrals.links import referral_link_url, referral_share_text
from referrals.models import Referral
from referrals.selectors import (
    format_money,
    mask_email,
    referral_get_for_referred,
    referral_list_for_referrer,
    referral_stats_get_for_user,
    reward_list_for_user,
)
from referrals.services import (
    referral_apply,
    referral_apply_refusal,
    referral_apply_window_ends,
    referral_click_record,
    referral_code_ensure,
    user_signal_record_seen,
)

# Both lists grow without bound; each is paged by its own cursor (two lists on one page).
REFERRED_PAGE_SIZE = 25
REWARDS_PAGE_SIZE = 25
NEWEST_FIRST = ("-created_at", "-id")


def referred_rows_present(referrals: Sequence[Referral]) -> list[dict[str, Any]]:
    """What the referrer sees of the people they referred: never more than a masked address."""
    return [
        {
            "who": mask_email(r.referred.email) if r.referred else "Deleted account",
            "status": r.get_status_display(),
            "status_code": r.status,
            "created_at": r.created_at,
        }
        for r in referrals
    ]


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
    visitor = request_user_or_none(request)
    referral_code = referral_click_record(
        code=code, visitor=visitor, ip_hash=ip_hash, device_hash=device_hash
    )
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
    user = request_user(request)
    ip_hash, device_hash = request_hashes(request)
    received = referral_get_for_referred(user=user)
    refusal = referral_apply_refusal(user=user)

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
    stats = referral_stats_get_for_user(user=user)
    people = cursor_page(
        request,
        referral_list_for_referrer(user=user),
        present=referred_rows_present,
        ordering=NEWEST_FIRST,
        page_size=REFERRED_PAGE_SIZE,
        cursor_param="people",
    )
    rewards = cursor_page(
        request,
        reward_list_for_user(user=user),
        ordering=NEWEST_FIRST,
        page_size=REWARDS_PAGE_SIZE,
        cursor_param="rewards",
    )
    context = {
        "code": code,
        "link": referral_link_url(code),
        "share_text": referral_share_text(code),
        "people": people,
        "rewards": rewards,
        "received": received,
        # After a refused POST the form stays, with its error.
        "can_apply": refusal is None or (request.method == "POST" and received is None),
        "apply_refusal": refusal.message if refusal is not None else "",
        "window_ends": referral_apply_window_ends(user=user),
        "stats": stats,
        "credit_earned": format_money(stats.credit_earned_cents),
        "form": form,
    }
    response = render(request, "referrals/settings.html", context)
    # Visiting one's own referral page tells us the referrer's IP and device (hashed).
    user_signal_record_seen(user=user, ip_hash=ip_hash, device_hash=device_hash)
    device_cookie_ensure(request, response)
    return response
