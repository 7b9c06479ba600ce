"""URL map. Each app owns its pages (``<app>/urls.py``) and its API (``<app>/api/urls.py``)."""

from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from allauth.headless.spec.views import OpenAPIHTMLView
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from accounts.views.security import sessions_list
from billing.unavailable import unavailable_urls
from config.api.schema_view import SchemaApi
from config.views import avatar_file, favicon, healthz
from referrals.views import ReferralSignupView

# The admin signs in through the site's own login (two-factor, rate limits, security log):
# anonymous visitors are sent to it, signed-in non-staff get a 403.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # wrapping the bound view is the documented hook

_DOCS_CSP = {"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]}

# Errors outside DRF's views: JSON under /api/ and /_allauth/, branded pages elsewhere.
handler400 = "config.http_errors.bad_request"
handler403 = "config.http_errors.permission_denied"
handler404 = "config.http_errors.not_found"
handler500 = "config.http_errors.server_error"

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("social.api.urls")),
    path(
        "billing/",
        include("billing.api.urls" if settings.BILLING_ENABLED else unavailable_urls("billing.api.urls")),
    ),
    path("referrals/", include("referrals.api.urls")),
    path("", include("integrations.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/staff/", include("staff.urls")),  # the dashboard, impersonation (beside the admin's own)
    path("admin/", admin.site.urls),
    # allauth's sign-up page, which shows the referral link's code (before allauth's own route).
    path("accounts/signup/", ReferralSignupView.as_view(), name="account_signup"),
    # The sessions page, listed in one query (allauth's asks the session store once per session).
    path("accounts/sessions/", sessions_list, name="usersessions_list"),
    path("accounts/", include("allauth.urls")),
    # allauth's specification page (Redoc), with the docs pages' relaxed style policy.
    path("_allauth/openapi.html", csp_update(_DOCS_CSP)(OpenAPIHTMLView.as_view())),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaApi.as_view(), name="api-schema"),
    # The docs pages' bundles inject <style> elements (and Redoc a blob: worker): only these pages
    # relax the CSP for that. Swagger's start-up script is served by the split view, not inline.
    path(
        "api/docs/",
        csp_update(_DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        csp_update(_DOCS_CSP)(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
    # Stripe's webhooks: verified and stored in the request, processed by a worker (at dj-stripe's
    # URL and route name, which the endpoint rows and the setup command use). Without billing
    # (BILLING_ENABLED=0) there is no webhook URL at all.
    *(
        [path("stripe/", include(("billing.webhook_urls", "djstripe"), namespace="djstripe"))]
        if settings.BILLING_ENABLED
        else []
    ),
    path("settings/", include("accounts.urls")),
    path(
        "billing/", include("billing.urls" if settings.BILLING_ENABLED else unavailable_urls("billing.urls"))
    ),
    path("settings/api-keys/", include("integrations.urls")),
    path("", include("referrals.urls")),
    path("", include("social.urls")),
]

# Media on the local disk (the embedded default; a bucket serves its own, see config.storage):
# avatars are public files, served from their own folder only, so no "../" reaches anything
# else; post images are answered by social's permission-checked view (social/urls.py).
urlpatterns += [
    re_path(r"^media/avatars/(?P<path>.*)$", avatar_file, name="avatar_file"),
]
