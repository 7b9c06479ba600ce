"""The billing pages: pricing, subscribe, success, settings, change, portal."""

from __future__ import annotations

import pytest
from djstripe.models import Subscription

from billing.entitlements import entitlements_get_for_user

pytestmark = pytest.mark.django_db


def test_pricing_page_for_anonymous_and_signed_in(billing, client, user):
    body = client.get("/billing/pricing/").content.decode()
    assert "Free" in body and "Pro" in body and "Team" in body
    assert "14-day free trial" in body and "$8.00" in body
    yearly = client.get("/billing/pricing/?interval=year").content.decode()
    assert "$80.00" in yearly and "$240.00" in yearly
    client.force_login(user)
    body = client.get("/billing/pricing/").content.decode()
    assert 'data-plan="free"' in body and "Current plan" in body
    assert "Start free trial" in body


def test_pricing_page_lists_each_limit_of_the_free_plan_once(billing, client):
    body = client.get("/billing/pricing/").content.decode()
    free = body.split('data-plan="free"', 1)[1].split("</article>", 1)[0]
    items = [line.strip() for line in free.splitlines() if line.strip().startswith("<li>")]
    assert items and len(items) == len(set(items)), items
    assert free.count("characters") == 1


def test_subscribe_redirects_to_checkout_with_303(billing, client, user):
    client.force_login(user)
    response = client.post("/billing/subscribe/", {"price_id": billing.prices["pro_monthly"]})
    assert response.status_code == 303
    assert response["Location"].startswith(billing.stripe.base_url)
    session = billing.stripe.engine.all("checkout.session")[0]
    assert session["client_reference_id"] == str(user.pk)
    assert session["allow_promotion_codes"] is True
    assert session["mode"] == "subscription"


def test_subscribe_with_unknown_price_shows_an_error(billing, client, user):
    client.force_login(user)
    response = client.post("/billing/subscribe/", {"price_id": "price_nope"}, follow=True)
    assert response.status_code == 200
    assert "There is no plan with this price." in response.content.decode()


def test_subscribe_needs_login(billing, client):
    response = client.post("/billing/subscribe/", {"price_id": billing.prices["pro_monthly"]})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_success_page_polls_until_the_webhooks_arrive(billing, client, user, user_api_client):
    client.force_login(user)
    response = client.post("/billing/subscribe/", {"price_id": billing.prices["team_monthly"]})
    billing.stripe.pay_checkout(response["Location"])
    waiting = client.get("/billing/success/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-state="processing"' in waiting and 'hx-trigger="load delay:2s"' in waiting
    billing.deliver()
    ready = client.get("/billing/success/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-state="ready"' in ready and "hx-trigger" not in ready


def test_success_page_asks_stripe_itself_when_the_webhook_never_comes(billing, client, user, other_user):
    client.force_login(user)
    response = client.post("/billing/subscribe/", {"price_id": billing.prices["team_monthly"]})
    page = billing.stripe.pay_checkout(response["Location"])
    success_path = page.location.replace("http://testserver", "")
    assert "session_id=cs_" in success_path
    # Someone else's session id shows nothing and links nothing.
    client.force_login(other_user)
    assert 'data-state="processing"' in client.get(success_path).content.decode()
    assert entitlements_get_for_user(user=other_user).plan == "free"

    client.force_login(user)
    with billing.capture(execute=True):
        body = client.get(success_path).content.decode()  # no webhook delivered at all
    assert 'data-state="ready"' in body and "Team" in body
    assert entitlements_get_for_user(user=user).plan == "team"
    assert Subscription.objects.filter(customer__subscriber=user).count() == 1
    # The webhooks arriving later change nothing more.
    billing.deliver()
    assert Subscription.objects.filter(customer__subscriber=user).count() == 1


def test_success_page_backs_off_and_after_a_minute_says_what_to_do(billing, client, user):
    client.force_login(user)
    delays = []
    for attempt in range(12):
        body = client.get(
            f"/billing/success/?session_id=cs_unknown&attempt={attempt}", HTTP_HX_REQUEST="true"
        )
        html = body.content.decode()
        delays.append(int(html.split('data-poll-delay="')[1].split('"')[0]))
        assert f"attempt={attempt + 1}" in html
        if sum(delays[:-1]) < 60:
            assert 'data-state="processing"' in html
        else:
            assert 'data-state="late"' in html and "you do not need to pay again" in html
    assert delays == sorted(delays) and delays[0] == 2 and delays[-1] == 30
    assert 'data-state="late"' in html
    assert client.get("/billing/success/?attempt=zzz").status_code == 200


def test_settings_page_free_user(client, user):
    client.force_login(user)
    body = client.get("/billing/").content.decode()
    assert "You are on the <strong>Free</strong> plan." in body
    assert "No invoices yet." in body


def test_settings_page_with_invoices_and_portal(billing, client, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    client.force_login(user)
    body = client.get("/billing/").content.decode()
    assert "Cancel at period end" in body and "$24.00" in body and "PDF" in body
    portal = client.post("/billing/portal/")
    assert portal.status_code == 303 and portal["Location"].startswith(billing.stripe.base_url)


def test_cancel_and_resume_from_the_page(billing, client, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    client.force_login(user)
    body = client.post("/billing/cancel/", follow=True).content.decode()
    assert "Resume subscription" in body and "Ends on" in body
    body = client.post("/billing/resume/", follow=True).content.decode()
    assert "Cancel at period end" in body
    body = client.post("/billing/resume/", follow=True).content.decode()
    assert "Your subscription is not set to end." in body


def test_change_confirm_form(billing, client, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    client.force_login(user)
    page = client.get(f"/billing/change/?price_id={billing.prices['team_yearly']}")
    assert page.status_code == 200 and "Confirm change" in page.content.decode()
    proration_date = page.context["preview"]["proration_date"]
    body = client.post(
        "/billing/change/",
        {"price_id": billing.prices["team_yearly"], "proration_date": proration_date},
        follow=True,
    ).content.decode()
    assert "Your plan was changed." in body
    bad = client.get("/billing/change/?price_id=price_nope", follow=True).content.decode()
    assert "There is no plan with this price." in bad


def test_the_chosen_plan_is_remembered_through_sign_up(billing, client, mailoutbox):
    """Issue 16.7: pricing -> sign up -> verify -> back on pricing, that plan's checkout one click away."""
    import re
    from urllib.parse import parse_qs, urlsplit

    pricing = client.get("/billing/pricing/?interval=year").content.decode()
    pro_yearly = billing.prices["pro_yearly"]
    links = re.findall(r'href="(/accounts/signup/\?next=[^"]+)"', pricing)
    [signup] = [link for link in links if pro_yearly in link.replace("&amp;", "&")]
    signup = signup.replace("&amp;", "&")
    next_url = parse_qs(urlsplit(signup).query)["next"][0]
    assert next_url == f"/billing/pricing/?plan={pro_yearly}"

    form = client.get(signup).content.decode()
    assert 'name="next"' in form
    password = "a-long-sign-up-password-42"
    response = client.post(
        signup,
        {
            "email": "pat@example.com",
            "username": "pat",
            "password1": password,
            "password2": password,
            "next": next_url,
        },
    )
    assert response.status_code == 302
    link = re.search(r"/accounts/confirm-email/[^/\s]+/", mailoutbox[-1].body).group(0)
    with billing.capture(execute=True):
        confirmed = client.post(link)
    assert confirmed.status_code == 302 and confirmed["Location"] == next_url

    page = client.get(confirmed["Location"]).content.decode()
    assert 'data-chosen-plan="pro"' in page and "You chose <strong>Pro</strong>" in page
    assert "Start your free trial" in page and 'aria-current="true">Yearly' in page
    checkout = client.post("/billing/subscribe/", {"price_id": pro_yearly})
    assert checkout.status_code == 303 and checkout["Location"].startswith(billing.stripe.base_url)


def test_an_unknown_chosen_plan_is_ignored(billing, client, user):
    client.force_login(user)
    page = client.get("/billing/pricing/?plan=price_nope").content.decode()
    assert "You chose" not in page and 'data-plan="pro"' in page
