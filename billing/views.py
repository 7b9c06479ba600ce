"""Billing pages: pricing, subscribe, the checkout success page and the billing settings page.

Each view parses input, calls one service or selector, and renders or redirects; a service's
``ApplicationError`` becomes a message on the page, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from accounts.auth import request_user
from billing import checkout, presenters, selectors, services
from billing.entitlements import entitlements_get_for_user
from billing.forms import ChangeConfirmForm, PriceForm
from billing.statuses import PAID_STATUSES
from config.errors import ApplicationError
from config.pagination import cursor_page

# A customer's invoices grow by one a month (or more with plan changes): the page shows them by
# pages, newest first. Stripe gives every invoice its creation time, so ``created`` places the cursor.
INVOICES_PAGE_SIZE = 24
INVOICES_NEWEST_FIRST = ("-created", "-djstripe_id")


class _SeeOther(HttpResponseRedirect):
    status_code = 303


def _chosen_price(price_id: str) -> Any:
    """The plan price a visitor picked before signing up (``?plan=``), or None."""
    if not price_id:
        return None
    try:
        return selectors.price_get_for_sale(price_id=price_id[:255])[0]
    except ApplicationError:
        return None


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    """The plans. A paid plan's button remembers the choice through sign-up (``?plan=<price>``
    carried in ``next``), so the new account lands here with that plan's checkout one click away."""
    chosen = _chosen_price(request.GET.get("plan", ""))
    interval = "year" if request.GET.get("interval") == "year" else "month"
    if chosen is not None and "interval" not in request.GET:
        interval = (chosen.recurring or {}).get("interval") or interval
    signed_in = request.user.is_authenticated
    current = entitlements_get_for_user(user=request_user(request)).plan if signed_in else ""
    subscription = selectors.subscription_get_live_for_user(user=request_user(request)) if signed_in else None
    plans = []
    for entry in selectors.plan_list_on_sale():
        price = entry.yearly if interval == "year" else entry.monthly
        back = f"{reverse('billing:pricing')}?{urlencode({'plan': price.id})}" if price else ""
        plans.append(
            {
                "entry": entry,
                "price": price,
                "is_current": entry.plan.code == current,
                "is_chosen": chosen is not None and price is not None and price.id == chosen.id,
                "signup_url": f"{reverse('account_signup')}?{urlencode({'next': back})}",
                "login_url": f"{reverse('account_login')}?{urlencode({'next': back})}",
            }
        )
    chosen_row = next((row for row in plans if row["is_chosen"]), None)
    return render(
        request,
        "billing/pricing.html",
        {
            "plans": plans,
            "interval": interval,
            "has_subscription": subscription is not None,
            "chosen": chosen_row if signed_in and subscription is None else None,
        },
    )


@login_required
@require_POST
def subscribe(request: HttpRequest) -> HttpResponse:
    form = PriceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a plan.")
        return redirect("billing:pricing")
    try:
        url = checkout.checkout_session_create(
            user=request_user(request), price_id=form.cleaned_data["price_id"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        if exc.code == "checkout_in_progress":
            return redirect(f"{reverse('billing:pricing')}?checkout=in_progress")
        return redirect("billing:pricing")
    return _SeeOther(url)


@login_required
@require_POST
def checkout_cancel(request: HttpRequest) -> HttpResponse:
    """Cancels the checkout left open in another tab, so another plan can be chosen."""
    try:
        checkout.checkout_sessions_expire(user=request_user(request))
        messages.success(request, "The other checkout was cancelled. Choose your plan.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("billing:pricing")


# Seconds between the success page's polls: quick at first (the webhook usually lands within
# seconds), then slower; past SUCCESS_LATE_AFTER seconds the page says what to do.
SUCCESS_POLL_DELAYS = (2, 2, 3, 4, 6, 8, 10, 15, 15)
SUCCESS_POLL_SLOWEST = 30
SUCCESS_LATE_AFTER = 60


def _success_context(request: HttpRequest) -> dict[str, Any]:
    user = request_user(request)
    session_id = request.GET.get("session_id", "")[:255]
    summary = presenters.subscription_summary(user=user)
    if (summary is None or summary["status"] not in PAID_STATUSES) and session_id:
        # The webhook may be late or lost: ask Stripe about this checkout ourselves.
        try:
            if checkout.checkout_session_confirm(user=user, session_id=session_id):
                summary = presenters.subscription_summary(user=user)
        except ApplicationError:
            pass  # Stripe unreachable: keep polling, the next poll asks again
    ready = summary is not None and summary["status"] in PAID_STATUSES
    raw_attempt = request.GET.get("attempt", "")
    attempt = min(int(raw_attempt), 1000) if raw_attempt.isdigit() else 0
    delays = [*SUCCESS_POLL_DELAYS, *[SUCCESS_POLL_SLOWEST] * max(0, attempt - len(SUCCESS_POLL_DELAYS) + 1)]
    query = urlencode({"session_id": session_id, "attempt": str(attempt + 1)})
    return {
        "summary": summary,
        "ready": ready,
        "failed": summary is not None and summary["status"] == "incomplete",
        "poll_url": f"{reverse('billing:success')}?{query}",
        "poll_delay": delays[attempt],
        "late": sum(delays[:attempt]) >= SUCCESS_LATE_AFTER,
    }


@login_required
@require_GET
def success(request: HttpRequest) -> HttpResponse:
    """Shows the subscription once Stripe confirms it (by webhook, or asked directly with the
    ``session_id`` Checkout put in the URL); the redirect from Checkout proves nothing by itself.
    Polls with back-off and, after a minute, says what to do."""
    template = "billing/_success_status.html" if request.htmx else "billing/success.html"  # type: ignore[attr-defined]  # set by django-htmx middleware
    return render(request, template, _success_context(request))


@login_required
@require_GET
def billing_settings(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    invoices = cursor_page(
        request,
        selectors.invoice_list_for_user(user=user),
        present=presenters.invoice_list_present,
        ordering=INVOICES_NEWEST_FIRST,
        page_size=INVOICES_PAGE_SIZE,
    )
    return render(
        request, "billing/settings.html", {**presenters.billing_overview(user=user), "invoices": invoices}
    )


@login_required
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    try:
        services.subscription_cancel(user=request_user(request))
        messages.success(request, "Your subscription will end at the end of the period.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("billing:settings")


@login_required
@require_POST
def resume(request: HttpRequest) -> HttpResponse:
    try:
        services.subscription_resume(user=request_user(request))
        messages.success(request, "Your subscription will renew.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("billing:settings")


@login_required
def change(request: HttpRequest) -> HttpResponse:
    """GET: the proration preview with a confirm button. POST: the change itself."""
    if request.method == "POST":
        form = ChangeConfirmForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Preview the change again.")
            return redirect("billing:settings")
        try:
            services.subscription_change(
                user=request_user(request),
                price_id=form.cleaned_data["price_id"],
                proration_date=form.cleaned_data["proration_date"],
            )
            messages.success(request, "Your plan was changed.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("billing:settings")
    price_form = PriceForm(request.GET)
    if not price_form.is_valid():
        messages.error(request, "Choose a plan.")
        return redirect("billing:settings")
    try:
        preview = services.subscription_change_preview(
            user=request_user(request), price_id=price_form.cleaned_data["price_id"]
        )
        price, plan = selectors.price_get_for_sale(price_id=preview["price_id"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:settings")
    return render(
        request,
        "billing/change.html",
        {
            "preview": preview,
            "plan": plan,
            "price": price,
            "proration": preview["proration_amount"] / 100,
            "amount_due": preview["amount_due"] / 100,
        },
    )


@login_required
@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    try:
        return _SeeOther(services.portal_session_create(user=request_user(request)))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:settings")
