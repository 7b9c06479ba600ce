"""Settings for the social load test: the project's own, plus a trivial JSON endpoint to compare with."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.social_urls"
# No collectstatic for a benchmark: plain static URLs (remembered, as in production) instead of the manifest.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "config.static_storage.CachedStaticFilesStorage"}}  # noqa: F405
