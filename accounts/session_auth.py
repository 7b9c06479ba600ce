"""The signed-in user of a session, loaded with one precompiled query.

Django's ``auth.get_user`` reads the user id and backend from the session, asks the backend for
the user (``ModelBackend.get_user``: ``User._default_manager.get(pk=...)``, refused unless
``is_active``) and checks the session's hash against the user's password hash. The row is read
fresh on every request, which is what ends a deactivated account's or a changed password's
sessions at once; building that ORM query (clone, filter, compile) costs several times more CPU
than running it (bench/RESULTS.md, "The fixed cost of a signed-in request").

``session_user`` keeps every rule and the fresh read, and only skips the query building: the
``SELECT`` of ``User._default_manager.filter(pk=...)`` is compiled once per process
(``config.compiled_queries``) and run with the session's user id. It answers by itself only the
ordinary case (a backend whose ``get_user`` is ``ModelBackend``'s, an active user, a hash that matches the current secret key);
any other case (no session user, another backend, a missing or inactive user, a hash that does
not match, which Django answers by rotating or flushing the session) is handed to
``auth.get_user`` unchanged.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string

from accounts.models import User
from config.compiled_queries import PrecompiledQuery
from config.faults import read_on_fresh_connection_if_lost

_fast_backends: dict[tuple[str, ...], frozenset[str]] = {}


_user_by_pk = PrecompiledQuery(lambda pk: User._default_manager.filter(pk=pk), 0)


def user_by_pk(user_id: Any) -> User | None:
    """``User._default_manager.get(pk=user_id)`` without building the query; None if missing.

    This is the first query of a signed-in request, run by a middleware where
    ``config.faults``' view retry does not reach: a connection that ended after the health check
    (or unseen by it) would make the request a 503 whatever it was. The read has no effect, so
    on a lost connection it is run once more on a fresh one (outside a transaction only)."""
    return read_on_fresh_connection_if_lost(lambda: _user_by_pk.first(user_id), what="the session's user")


def _model_backends() -> frozenset[str]:
    """The configured backends whose ``get_user`` and ``user_can_authenticate`` are
    ``ModelBackend``'s (Django's own and allauth's): the only ones answered here."""
    paths = tuple(settings.AUTHENTICATION_BACKENDS)
    if paths not in _fast_backends:
        fast = set()
        for path in paths:
            backend = import_string(path)
            if (
                getattr(backend, "get_user", None) is ModelBackend.get_user
                and getattr(backend, "user_can_authenticate", None) is ModelBackend.user_can_authenticate
            ):
                fast.add(path)
        _fast_backends[paths] = frozenset(fast)
    return _fast_backends[paths]


def session_user(request: HttpRequest) -> User | AnonymousUser:
    """What ``django.contrib.auth.get_user(request)`` returns, for less CPU (module docstring)."""
    session = request.session
    backend_path = session.get(BACKEND_SESSION_KEY)
    if backend_path not in _model_backends():
        return auth.get_user(request)
    try:
        user_id = User._meta.pk.to_python(session[SESSION_KEY])
    except (KeyError, ValidationError):
        return auth.get_user(request)
    user = user_by_pk(user_id)
    if user is None or not user.is_active:  # ModelBackend.user_can_authenticate
        return auth.get_user(request)
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        return auth.get_user(request)  # Django's rules: a fallback key rotates, else flush
    return user
