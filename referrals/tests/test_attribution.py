"""Links, clicks, cookies and attribution at sign-up (page and headless API)."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import User
from accounts.tests.factories import UserFactory
from referrals.cookies import DEVICE_COOKIE, REFERRAL_COOKIE
from referrals.hashing import CODE_ALPHABET, ip_hash
from referrals.models import Click, Referral, UserSignal
from referrals.tests.factories import referrer_code, signup_payload

pytestmark = pytest.mark.django_db

VISITOR_IP = "198.51.100.23"


def _signup(client, n, ip="192.0.2.10", **extra):
    return client.post("/accounts/signup/", signup_payload(n, **extra), REMOTE_ADDR=ip)


def test_every_user_gets_an_unambiguous_code(user):
    code = referrer_code(user)
    assert len(code) == 8
    assert set(code) <= set(CODE_ALPHABET)
    assert not set(code) & set("01OIL")
    assert referrer_code(user) == code  # stable


def test_link_counts_a_click_sets_cookies_and_redirects_to_signup(client, user):
    code = referrer_code(user)
    response = client.get(f"/r/{code.lower()}", REMOTE_ADDR=VISITOR_IP)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/"
    assert REFERRAL_COOKIE in response.cookies
    assert response.cookies[REFERRAL_COOKIE]["max-age"] == 30 * 24 * 3600
    assert DEVICE_COOKIE in response.cookies
    click = Click.objects.get(referrer=user)
    assert click.ip_hash == ip_hash(VISITOR_IP)
    assert click.device_hash == ""  # the device cookie is set now, seen from the next request on


def test_reloading_the_link_counts_one_click(client, user):
    code = referrer_code(user)
    for _ in range(3):
        client.get(f"/r/{code}", REMOTE_ADDR=VISITOR_IP)
    client.get(f"/r/{code}", REMOTE_ADDR="198.51.100.24")
    assert Click.objects.filter(referrer=user).count() == 2


def test_no_raw_ip_is_stored_anywhere(client, user):
    client.get(f"/r/{referrer_code(user)}", REMOTE_ADDR=VISITOR_IP)
    _signup(client, 1, ip=VISITOR_IP)
    with connection.cursor() as cursor:
        for table in ("referrals_click", "referrals_usersignal", "referrals_referral"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            for row in cursor.fetchall():
                assert all(VISITOR_IP not in str(value) for value in row)


def test_unknown_code_redirects_without_cookie_or_click(client):
    response = client.get("/r/ZZZZZZZZ")
    assert response.status_code == 302
    assert REFERRAL_COOKIE not in response.cookies
    assert Click.objects.count() == 0


def test_owner_opening_their_link_is_not_a_click(client, user):
    client.force_login(user)
    response = client.get(f"/r/{referrer_code(user)}", REMOTE_ADDR=VISITOR_IP)
    assert response["Location"] == "/settings/referrals/"
    assert Click.objects.count() == 0
    assert UserSignal.objects.filter(user=user, kind="seen_ip", value_hash=ip_hash(VISITOR_IP)).exists()


def test_first_touch_keeps_the_first_referrer(client, user, other_user):
    client.get(f"/r/{referrer_code(user)}")
    response = client.get(f"/r/{referrer_code(other_user)}")
    assert REFERRAL_COOKIE not in response.cookies
    _signup(client, 1)
    assert Referral.objects.get(referred__handle="new1").referrer == user


def test_last_touch_takes_the_last_referrer(client, user, other_user, settings):
    settings.REFERRAL_ATTRIBUTION = "last"
    client.get(f"/r/{referrer_code(user)}")
    client.get(f"/r/{referrer_code(other_user)}")
    _signup(client, 1)
    assert Referral.objects.get(referred__handle="new1").referrer == other_user


def test_signup_with_cookie_attributes_the_referral(client, user):
    client.get(f"/r/{referrer_code(user)}", REMOTE_ADDR=VISITOR_IP)
    response = _signup(client, 1)
    assert response.status_code == 302
    referral = Referral.objects.get(referrer=user)
    assert referral.referred.handle == "new1"
    assert referral.source == Referral.Source.LINK
    assert referral.status == Referral.Status.SIGNED_UP
    assert referral.referred.referral_code.code  # the new user has a code of their own


def test_signup_form_shows_the_referral_code_field(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert b'name="referral_code"' in response.content
    assert b"The code of the link you came by" not in response.content


def test_signup_form_says_which_code_the_link_applies(client, user):
    code = referrer_code(user)
    client.get(f"/r/{code.lower()}")
    page = client.get("/accounts/signup/").content.decode()
    assert f'placeholder="{code}"' in page
    assert f"The code of the link you came by, {code}, applies unless you type another." in page


def test_signup_with_typed_code_in_the_wrong_case(client, user):
    code = referrer_code(user)
    response = _signup(client, 1, referral_code=f" {code.lower()[:4]}-{code.lower()[4:]} ")
    assert response.status_code == 302
    referral = Referral.objects.get(referred__handle="new1")
    assert referral.referrer == user
    assert referral.source == Referral.Source.TYPED


def test_typed_code_wins_over_the_cookie(client, user, other_user):
    client.get(f"/r/{referrer_code(user)}")
    _signup(client, 1, referral_code=referrer_code(other_user))
    assert Referral.objects.get(referred__handle="new1").referrer == other_user


def test_signup_with_unknown_code_shows_a_form_error(client):
    response = _signup(client, 1, referral_code="ZZZZ2222")
    assert response.status_code == 200
    assert b"This referral code does not exist." in response.content
    assert not User.objects.filter(handle="new1").exists()


def test_signup_without_referral_still_gets_a_code(client):
    assert _signup(client, 1).status_code == 302
    user = User.objects.get(handle="new1")
    assert user.referral_code.code
    assert not Referral.objects.exists()
    assert UserSignal.objects.filter(user=user, kind="signup_ip").exists()


def test_a_tampered_cookie_is_ignored(client, user):
    client.cookies[REFERRAL_COOKIE] = referrer_code(user)  # unsigned
    assert _signup(client, 1).status_code == 302
    assert not Referral.objects.exists()


def test_headless_signup_with_typed_code(client, user):
    code = referrer_code(user)
    response = client.post(
        "/_allauth/browser/v1/auth/signup",
        {
            "email": "spa@example.org",
            "username": "spa_user",
            "password": "a-long-enough-password-1",
            "referral_code": code.lower(),
        },
        content_type="application/json",
    )
    assert response.status_code in (200, 401)  # 401: e-mail verification pending
    assert Referral.objects.get(referred__handle="spa_user").referrer == user


def test_headless_signup_with_cookie(client, user):
    client.get(f"/r/{referrer_code(user)}")
    response = client.post(
        "/_allauth/browser/v1/auth/signup",
        {"email": "spa@example.org", "username": "spa_user", "password": "a-long-enough-password-1"},
        content_type="application/json",
    )
    assert response.status_code in (200, 401)
    assert Referral.objects.get(referred__handle="spa_user").source == Referral.Source.LINK


def test_headless_signup_with_unknown_code_is_a_400(client):
    response = client.post(
        "/_allauth/browser/v1/auth/signup",
        {
            "email": "spa@example.org",
            "username": "spa_user",
            "password": "a-long-enough-password-1",
            "referral_code": "nope",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["param"] == "referral_code"
    assert not User.objects.filter(handle="spa_user").exists()


def test_signup_records_the_login_ip_of_later_sign_ins(client):
    user = UserFactory()
    client.post(
        "/accounts/login/",
        {"login": user.email, "password": "correct-horse-battery-staple"},
        REMOTE_ADDR="203.0.113.77",
    )
    assert UserSignal.objects.filter(user=user, kind="seen_ip", value_hash=ip_hash("203.0.113.77")).exists()
