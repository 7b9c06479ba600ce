"""Signed-in sessions for the bench users (``bench/social_generate.py`` makes them).

Imported by the bench scripts after their own ``django.setup()``: each sets its settings first.
"""

from __future__ import annotations

import sys
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from accounts.models import User


def bench_session_keys(count: int) -> list[str]:
    """Session keys of up to ``count`` bench users, each signed in as the login page would."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for user in User.objects.filter(handle__startswith="bench").order_by("pk")[:count]:
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(str(store.session_key))
    if not keys:
        sys.exit("No bench users: run bench/social_generate.py first.")
    return keys
