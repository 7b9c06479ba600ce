"""The platform's own behaviour: health check, error shape, request ids, schema."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "ok"


def test_healthz_is_degraded_but_200_when_redis_is_down(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.ResilientRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["redis"].startswith("error")


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abcdef0123456789")
    assert response["X-Request-ID"] == "abcdef0123456789"
    generated = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32


def test_unknown_api_route_is_json_404_in_the_error_shape(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_anonymous_api_call_gets_401_in_the_error_shape(api_client):
    response = api_client.get("/api/schema/")
    assert response.status_code in (200, 401, 403)


def test_home_page_renders_for_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Create an account" in response.content


def test_favicon_redirects_to_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")
    assert b'rel="icon"' in client.get("/").content


def test_redoc_page_loads_nothing_from_outside(client):
    body = client.get("/api/redoc/").content.decode()
    assert "redoc.standalone.js" in body
    assert "fonts.googleapis.com" not in body and "https://" not in body
    assert "Content-Security-Policy" in body and "img-src 'self'" in body


def test_allauth_specification_page_uses_the_local_redoc_bundle(client):
    body = client.get("/_allauth/openapi.html").content.decode()
    assert "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in body
    assert "cdn.jsdelivr.net" not in body and "https://" not in body


def test_beat_runs_every_periodic_task_and_each_one_exists():
    from config.celery import app

    app.loader.import_default_modules()  # what `celery beat` does first: autodiscovers tasks modules
    schedule = app.conf.beat_schedule
    assert set(schedule) == {
        "billing-dunning-notices",
        "billing-reconcile",
        "billing-webhook-events-sweep",
        "billing-webhook-invalid-prune",
        "idempotency-records-expire",
        "integrations-api-key-expiry-warnings",
        "integrations-stripe-customers-backfill",
        "outbox-send-due",
        "referrals-grant-due-rewards",
        "social-timeline-trim",
        "social-notification-digests",
        "staff-daily-figures",
    }
    assert {name: entry["task"] for name, entry in schedule.items() if entry["task"] not in app.tasks} == {}


def test_a_service_error_shows_on_the_form_fields_it_names_and_loses_nothing():
    from django import forms

    from config.errors import ApplicationError

    class PostForm(forms.Form):
        text = forms.CharField(required=False)

    form = PostForm(data={"text": "x"})
    assert form.is_valid()
    ApplicationError(
        "Check the post.", fields={"text": ["Too long."], "images": ["Not an image."]}
    ).add_to_form(form)
    assert form.errors == {"text": ["Too long."], "__all__": ["Not an image."]}

    form = PostForm(data={"text": "x"})
    assert form.is_valid()
    ApplicationError("You are posting too fast.").add_to_form(form)
    assert form.non_field_errors() == ["You are posting too fast."]
