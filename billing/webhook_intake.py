"""Stripe webhooks: acknowledged fast, processed by workers.

Two ways in, one store. ``webhook_fast_path`` wraps the WSGI application (``config/wsgi.py``):
a signed ``POST /stripe/webhook/<uuid>/`` that it fully understands (known endpoint, valid
signature, an event body within the size limit) is answered there, before Django's request
handling and middleware, none of which a webhook uses. Everything else (no or a bad signature,
an unknown endpoint, a body that is not an event, a database fault) goes on to Django's
``WebhookIntakeView`` at dj-stripe's URL name, which answers and records it as before. Both
insert the event with ``inbox_store``; a worker (``billing.webhook_tasks``) processes it the way
dj-stripe's own view did inside the request: ``WebhookEventTrigger.process`` re-fetches and syncs
the object and sends dj-stripe's per-type signal, to which ``billing.webhooks`` and the other
apps' handlers are connected.

Guarantees, and what gives each:

- **Verified**: Stripe's HMAC-SHA256 signature, compared in constant time, within the
  endpoint's tolerance, on both paths, before anything valid is stored.
- **Stored once per event id**: one ``INSERT ... ON CONFLICT (event_id) DO NOTHING`` into
  ``WebhookInbox`` (raw body, headers, address, endpoint); a duplicate, also many at once, stores
  nothing and answers 200. The 2xx is sent only after that insert has committed.
- **The inbox is the queue**: no broker message per event. After a new row the endpoint wakes
  the workers (``wake``: one ``webhook_events_drain`` task published per ``WAKE_SECONDS`` at most,
  debounced in Redis); each drain task takes due rows one at a time with ``FOR UPDATE SKIP
  LOCKED`` until none is left, so every worker that has a drain task works in parallel.
- **Side effects once**: an event is processed while holding its row's lock; the handlers'
  writes, the trigger and the row's ``done`` state commit together. A second worker for the
  same row waits for the lock, then sees it done.
- **Nothing lost**: taking a row (``_claim``) commits ``attempts + 1`` and a lease
  (``settings.WEBHOOK_CLAIM_LEASE_SECONDS``) before processing. A worker killed mid-event leaves the row pending;
  it is due again when the lease ends and the next drain (woken by any new event, or by
  ``webhook_events_sweep`` every minute) takes it. After ``MAX_ATTEMPTS`` claims (failures or
  dead workers) it is given up as failed.
- **Retries**: a failing event is due again after exponential back-off with full jitter; after
  the last attempt it stays a failed trigger (valid, not processed, with the error) for the
  admin's reprocess action.
- **Bounded storage for junk**: a delivery whose signature does not verify is kept for the
  security record in at most ``WEBHOOK_INVALID_STORED_BYTES`` (a few headers, then the start of
  the body, flagged as truncated in ``exception``), and is deleted after
  ``WEBHOOK_INVALID_RETENTION_DAYS`` (``webhook_invalid_prune``, daily).
"""

from __future__ import annotations

import io
import json
import logging
import random
import re
import time
import uuid as uuid_module
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from traceback import format_exc
from typing import Any, cast

import stripe
from celery import current_app
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.request import HttpHeaders
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from djstripe import signals
from djstripe.models import WebhookEndpoint, WebhookEventTrigger
from djstripe.settings import djstripe_settings

from accounts.request_info import client_ip
from billing.models import WebhookInbox
from config.http_errors import is_connection_fault
from config.middleware import access_log

logger = logging.getLogger(__name__)

# Headers worth keeping for an invalid delivery (who sent it, with what): the rest is dropped
# so a junk request cannot make us store more than a few KiB.
_INVALID_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "Stripe-Signature")
_INVALID_HEADER_CHARS = 256
_EXCEPTION_CHARS = WebhookEventTrigger._meta.get_field("exception").max_length or 128
SIGNATURE_HEADER = "Stripe-Signature"
# Claims (failed tries and workers that died holding the event) after which it is given up.
MAX_ATTEMPTS = 9  # retried after ~5 s, 10 s, 20 s ... capped at 10 min: ~half an hour of trouble
SWEEP_MAX_ATTEMPTS = MAX_ATTEMPTS  # the name earlier versions used
BACKOFF_FACTOR = 5
BACKOFF_MAX = 600
# A drain task stops after this long (the queue may be endless during a replay) and queues the
# next one: a worker's warm shutdown waits for no more than this (and the event in hand).
DRAIN_SECONDS = 5
# At most one drain task is published per this many seconds while events keep arriving.
WAKE_SECONDS = 1
WAKE_KEY = "billing:webhook-drain-woken"
# What the intake reads of the endpoint row (the whole row costs a noticeable part of a request).
_ENDPOINT_FIELDS = ("djstripe_id", "id", "secret", "djstripe_tolerance", "livemode", "djstripe_owner_account")


@dataclass(frozen=True)
class Receipt:
    """What the endpoint answers: ``valid`` (2xx) or not (400); ``inbox_id`` is None for a
    duplicate delivery and for an invalid one."""

    valid: bool
    inbox_id: int | None = None


# --- Intake (in the request) -----------------------------------------------------------------


def _event_fields(body: str) -> tuple[str, str] | None:
    """The event's id and type, or None when the body is not an event dj-stripe can process."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or "livemode" not in data:
        return None
    event_id, event_type = data.get("id"), data.get("type")
    if not (isinstance(event_id, str) and event_id and isinstance(event_type, str) and event_type):
        return None
    return event_id, event_type


def _signature_valid(*, body: str, signature: str, secret: str, tolerance: int | None) -> bool:
    """Stripe's check (HMAC-SHA256 compared in constant time, timestamp within tolerance)."""
    if not secret:
        return False
    try:
        stripe.WebhookSignature.verify_header(body, signature, secret, tolerance)
    except stripe.SignatureVerificationError:
        return False
    return True


def _invalid_record(
    *, raw: bytes, headers: dict[str, str], endpoint: WebhookEndpoint, remote_ip: str
) -> None:
    kept_headers = {k: headers[k][:_INVALID_HEADER_CHARS] for k in _INVALID_HEADERS if k in headers}
    # One budget for the whole row: the few headers first, then as much of the body as fits.
    cap = max(0, settings.WEBHOOK_INVALID_STORED_BYTES - len(json.dumps(kept_headers)) - _EXCEPTION_CHARS)
    note = "Invalid signature or payload"
    if len(raw) > cap:
        note += f"; body truncated ({len(raw)} bytes, first {cap} kept)"
    WebhookEventTrigger.objects.create(
        headers=kept_headers,
        # Cut on a character boundary so the stored text is at most ``cap`` bytes in UTF-8.
        body=raw[:cap].decode("utf-8", errors="ignore"),
        remote_ip=remote_ip,
        valid=False,
        exception=note[:_EXCEPTION_CHARS],
        stripe_trigger_account_id=endpoint.djstripe_owner_account_id,
        webhook_endpoint=endpoint,
    )


def inbox_store(
    *,
    endpoint_id: int,
    event_id: str,
    event_type: str,
    body: str,
    headers: dict[str, str],
    remote_ip: str | None,
) -> int | None:
    """Stores one verified event as a pending inbox row: one statement, committed on its own
    outside a transaction. Returns the new row's id, or None when the event id is already
    stored (a duplicate delivery: nothing of it is kept)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WebhookInbox._meta.db_table} "  # noqa: S608 - the model's own table name
            "(event_id, event_type, body, headers, remote_ip, endpoint_id, state, attempts, "
            "next_attempt_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 0, %s, %s) "
            "ON CONFLICT (event_id) DO NOTHING RETURNING id",
            [
                event_id,
                event_type,
                body,
                json.dumps(headers),
                remote_ip,
                endpoint_id,
                WebhookInbox.State.PENDING.value,
                now,
                now,
            ],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def wake() -> None:
    """Makes sure a drain task is on its way: publishes one unless one was published in the
    last ``WAKE_SECONDS`` (a Redis ``SET NX``), so a burst costs one broker message per second,
    not one per event. A drain that finds the queue empty clears the mark before its last look
    (``webhook_events_drain``), so an event stored after that look always publishes. Never
    fails the delivery: the row is stored, and the sweep wakes a drain within a minute."""
    from billing.webhook_tasks import webhook_events_drain  # the task module imports this one

    try:
        if cache.add(WAKE_KEY, 1, timeout=WAKE_SECONDS):
            webhook_events_drain.delay()
    except Exception:
        logger.exception("Could not wake a webhook worker; the sweep will")


def webhook_delivery_receive(
    *, endpoint: WebhookEndpoint, raw: bytes, headers: dict[str, str], remote_ip: str
) -> Receipt:
    """Checks one delivery's signature and stores it; wakes a worker on commit.

    A valid, new event gets a pending ``WebhookInbox`` row (the raw body and headers). A valid
    duplicate stores nothing. An invalid one (bad, stale or missing signature, or a signed body
    that is not an event) is stored capped (see the module docstring) and never processed.
    """
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        body = ""
    valid = _signature_valid(
        body=body,
        signature=headers.get(SIGNATURE_HEADER, ""),
        secret=endpoint.secret,
        tolerance=endpoint.djstripe_tolerance,
    )
    fields = _event_fields(body) if valid else None
    if fields is None:
        _invalid_record(raw=raw, headers=headers, endpoint=endpoint, remote_ip=remote_ip)
        return Receipt(valid=False)
    event_id, event_type = fields
    inbox_id = inbox_store(
        endpoint_id=endpoint.djstripe_id,
        event_id=event_id,
        event_type=event_type,
        body=body,
        headers=headers,
        remote_ip=remote_ip,
    )
    if inbox_id is not None:
        transaction.on_commit(wake)
    return Receipt(valid=True, inbox_id=inbox_id)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class WebhookIntakeView(View):
    """Stripe's webhook endpoint: 200 once the delivery is verified and stored, 400 when it is
    not valid, 404 for an unknown endpoint. Processing happens in a worker. (Most valid
    deliveries are answered before Django by ``webhook_fast_path``, the same way.)"""

    def post(self, request: HttpRequest, uuid: Any) -> HttpResponse:
        if SIGNATURE_HEADER not in request.headers:
            # Nothing is stored for a request that does not even claim to come from Stripe.
            return HttpResponseBadRequest()
        endpoint = get_object_or_404(WebhookEndpoint.objects.only(*_ENDPOINT_FIELDS), djstripe_uuid=uuid)
        receipt = webhook_delivery_receive(
            endpoint=endpoint,
            raw=request.body,
            headers=dict(request.headers),
            remote_ip=client_ip(request) or "0.0.0.0",  # noqa: S104 - a stored placeholder, not a bind address
        )
        if not receipt.valid:
            return HttpResponseBadRequest()
        return HttpResponse("ok", content_type="text/plain")


# --- The lean route (before Django's request handling) ---------------------------------------

_FAST_PATH = re.compile(r"/stripe/webhook/([0-9a-fA-F-]{32,36})/\Z")
# How long a process trusts the endpoint row it read (secret, tolerance): a rotated secret or a
# deleted endpoint is seen within this many seconds. Unknown ids are never cached (Django's
# view answers them 404).
ENDPOINT_CACHE_SECONDS = 10


@dataclass(frozen=True)
class _Endpoint:
    djstripe_id: int
    secret: str
    tolerance: int | None
    expires: float


_endpoints: dict[str, _Endpoint] = {}


def _endpoint(uuid: str) -> _Endpoint | None:
    cached = _endpoints.get(uuid)
    if cached is not None and cached.expires > time.monotonic():
        return cached
    try:
        key = uuid_module.UUID(uuid)
    except ValueError:
        return None
    row = (
        WebhookEndpoint.objects.filter(djstripe_uuid=key)
        .values_list("djstripe_id", "secret", "djstripe_tolerance")
        .first()
    )
    if row is None:
        _endpoints.pop(uuid, None)
        return None
    found = _Endpoint(row[0], row[1] or "", row[2], time.monotonic() + ENDPOINT_CACHE_SECONDS)
    _endpoints[uuid] = found
    return found


class _Meta:
    """What ``client_ip`` reads of a request, for a WSGI environ."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.META = environ


def _fast_delivery(environ: dict[str, Any], uuid: str) -> tuple[_Endpoint, str, str, str] | None:
    """The endpoint, body, event id and type of a verified event delivery, or None when Django's
    view must answer it (it then reads the body from ``wsgi.input``, which this puts back)."""
    signature = environ.get("HTTP_STRIPE_SIGNATURE")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not signature or not 0 < length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return None
    raw = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(raw)  # for Django, if it answers after all
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    endpoint = _endpoint(uuid)
    # A NUL byte is the request guard's to refuse; a bad signature is the view's to record.
    if endpoint is None or "\x00" in body:
        return None
    if not _signature_valid(
        body=body, signature=signature, secret=endpoint.secret, tolerance=endpoint.tolerance
    ):
        return None
    fields = _event_fields(body)
    return None if fields is None else (endpoint, body, *fields)


def _fast_receive(environ: dict[str, Any], uuid: str) -> bool | None:
    """Stores one delivery the lean way; True when it is a verified event now stored (new or a
    duplicate), None when Django's view must answer it."""
    delivery = _fast_delivery(environ, uuid)
    if delivery is None:
        return None
    endpoint, body, event_id, event_type = delivery
    headers = dict(HttpHeaders(environ))
    remote_ip = client_ip(cast(HttpRequest, _Meta(environ)))
    # Our own retry replaces Django's health check (a round trip per request): a connection that
    # died since the last request fails the insert, which is run once more on a fresh one. The
    # insert is idempotent, so a retry after a commit whose answer was lost only finds it stored.
    connection.health_check_done = True  # type: ignore[attr-defined]  # set by Django on every connect, not in the stubs
    inbox_id: int | None = None
    for attempt in (1, 2):
        try:
            inbox_id = inbox_store(
                endpoint_id=endpoint.djstripe_id,
                event_id=event_id,
                event_type=event_type,
                body=body,
                headers=headers,
                remote_ip=remote_ip,
            )
            break
        except Exception as exc:
            if attempt == 2 or not is_connection_fault(exc) or connection.in_atomic_block:
                raise
            connection.close()  # the next query opens a fresh connection
    if inbox_id is not None:
        transaction.on_commit(wake)  # at once here (autocommit); after a test's transaction
    return True


def webhook_fast_path(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """``app`` (Django's WSGI handler) with Stripe's webhook route answered in front of it, for
    verified events only; see the module docstring. Without billing there is no such route."""
    if not settings.BILLING_ENABLED:
        return app

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        match = (
            _FAST_PATH.match(environ.get("PATH_INFO", ""))
            if environ.get("REQUEST_METHOD") == "POST"
            else None
        )
        if match is None:
            return app(environ, start_response)
        started = time.perf_counter()
        try:
            answered = _fast_receive(environ, match.group(1))
        except Exception as exc:
            if not is_connection_fault(exc):
                raise
            logger.warning(
                "Database connection lost during POST %s; answered by Django", environ["PATH_INFO"]
            )
            answered = None
        finally:
            # What Django does at the end of every request (request_finished), with the same
            # exception: never under a test's wrapping transaction.
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()
        if answered is None:
            return app(environ, start_response)
        start_response(
            "200 OK",
            [("Content-Type", "text/plain"), ("Content-Length", "2"), ("X-Content-Type-Options", "nosniff")],
        )
        if access_log.isEnabledFor(logging.INFO):
            path = environ["PATH_INFO"]
            duration = round((time.perf_counter() - started) * 1000, 2)
            extra = {"method": "POST", "path": path, "status": 200, "duration_ms": duration, "user_id": None}
            access_log.info("%s %s %s", "POST", path, 200, extra=extra)
        return [b"ok"]

    return application


# --- Processing (in a worker) ----------------------------------------------------------------


def _api_key(trigger: WebhookEventTrigger) -> str | None:
    """The key dj-stripe's view would use for this delivery's endpoint."""
    account = trigger.stripe_trigger_account
    endpoint = trigger.webhook_endpoint
    livemode = endpoint.livemode if endpoint is not None else settings.STRIPE_LIVE_MODE
    return (account.default_api_key if account else None) or djstripe_settings.get_default_api_key(livemode)


def _trigger(entry: WebhookInbox) -> WebhookEventTrigger:
    """The event's dj-stripe delivery row, made from the stored delivery the first time."""
    if entry.trigger is not None:
        return entry.trigger
    endpoint = entry.endpoint
    trigger = WebhookEventTrigger.objects.create(
        headers=entry.headers,
        body=entry.body,
        remote_ip=entry.remote_ip or "0.0.0.0",  # noqa: S104 - a stored placeholder, not a bind address
        valid=True,
        stripe_trigger_account_id=endpoint.djstripe_owner_account_id if endpoint else None,
        webhook_endpoint=endpoint,
    )
    entry.trigger = trigger
    entry.save(update_fields=["trigger"])
    return trigger


def _locked(inbox_id: int) -> WebhookInbox | None:
    return (
        WebhookInbox.objects.select_for_update(of=("self",))
        .select_related("trigger__stripe_trigger_account", "trigger__webhook_endpoint", "endpoint")
        .filter(pk=inbox_id)
        .first()
    )


def webhook_event_process(*, inbox_id: int) -> bool:
    """Processes one stored event, at most once; returns False when there is no such row.

    Holds the inbox row's lock for the whole processing, so concurrent workers for one event run
    one after the other and the later ones find it done. An event already processed by the
    admin's reprocess action is only marked done. Raises what processing raised, after rolling
    its writes back (the caller records it with ``webhook_event_failure_record``).
    """
    with transaction.atomic():
        entry = _locked(inbox_id)
        if entry is None:
            return False
        if entry.state == WebhookInbox.State.DONE:
            return True
        trigger = _trigger(entry)
        if not trigger.processed:
            api_key = _api_key(trigger)
            signals.webhook_pre_process.send(sender=WebhookEventTrigger, instance=trigger)
            trigger.process(save=False, api_key=api_key)  # sync, then the per-type signal
            signals.webhook_post_process.send(sender=WebhookEventTrigger, instance=trigger, api_key=api_key)
            trigger.save()
        entry.state = WebhookInbox.State.DONE
        entry.save(update_fields=["state"])
    return True


def retry_delay(attempts: int) -> float | None:
    """Seconds until an event that failed its ``attempts``-th claim is tried again (exponential
    back-off with full jitter), or None when that was its last."""
    if attempts >= MAX_ATTEMPTS:
        return None
    cap = min(BACKOFF_MAX, BACKOFF_FACTOR * 2 ** (attempts - 1))
    # Never at once (the drain in hand would take it straight back); jitter spreads a burst.
    return random.uniform(1, cap)  # noqa: S311 - spreading retries, not security


@transaction.atomic
def webhook_event_failure_record(
    *, inbox_id: int, error: BaseException | str, retry_in: float | None
) -> None:
    """Records a failed attempt on the trigger (the admin shows it) and the inbox row: due again
    in ``retry_in`` seconds, or, with None (no retry left), failed until reprocessed.

    Call from the ``except`` block that caught ``error`` (the traceback is read from there)."""
    entry = _locked(inbox_id)
    if entry is None or entry.state == WebhookInbox.State.DONE:
        return
    if retry_in is None:
        entry.state = WebhookInbox.State.FAILED
    else:
        entry.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
    entry.save(update_fields=["state", "next_attempt_at"])
    trigger = _trigger(entry)
    trigger.exception = str(error)[:_EXCEPTION_CHARS]
    trigger.traceback = format_exc() if isinstance(error, BaseException) else ""
    trigger.save(update_fields=["exception", "traceback", "updated"])
    logger.warning(
        "Webhook event %s (%s) failed, attempt %d%s: %s",
        entry.event_id,
        entry.event_type,
        entry.attempts,
        "" if retry_in is None else f", retry in {retry_in:.0f} s",
        error,
    )


def _claim() -> tuple[int, int] | None:
    """Takes the next due pending event for this worker: commits ``attempts + 1`` and a lease
    (due again in ``settings.WEBHOOK_CLAIM_LEASE_SECONDS``, should this worker die) and returns (id, attempts),
    or None when nothing is due. Rows other workers are claiming are skipped, not waited for."""
    now = timezone.now()
    with transaction.atomic():
        entry = (
            WebhookInbox.objects.select_for_update(skip_locked=True)
            .filter(state=WebhookInbox.State.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", "attempts")
            .first()
        )
        if entry is None:
            return None
        inbox_id, attempts = entry[0], entry[1] + 1
        WebhookInbox.objects.filter(pk=inbox_id).update(
            attempts=F("attempts") + 1,
            next_attempt_at=now + timedelta(seconds=settings.WEBHOOK_CLAIM_LEASE_SECONDS),
        )
    return inbox_id, attempts


def _process_claimed(inbox_id: int, attempts: int) -> bool:
    """Processes a claimed event; on failure records it and schedules its retry. True if done."""
    if attempts > MAX_ATTEMPTS:
        # Claimed that often without an outcome: every worker that took it died.
        webhook_event_failure_record(inbox_id=inbox_id, error="Gave up: no worker finished it", retry_in=None)
        return False
    try:
        webhook_event_process(inbox_id=inbox_id)
    except Exception as exc:
        retry_in = retry_delay(attempts)
        webhook_event_failure_record(inbox_id=inbox_id, error=exc, retry_in=retry_in)
        if retry_in is not None and not current_app.conf.task_always_eager:
            # Run inline (tests, or the broker down) a retry would run at once: the sweep has it.
            from billing.webhook_tasks import webhook_events_drain

            webhook_events_drain.apply_async(countdown=retry_in)
        return False
    return True


def webhook_events_drain(*, seconds: float = DRAIN_SECONDS) -> int:
    """Processes due pending events one after the other until none is left or ``seconds`` have
    passed (then publishes the next drain task); returns how many were processed. Any number of
    drains may run at once: each takes a different row."""
    deadline = time.monotonic() + seconds
    processed = 0
    while time.monotonic() < deadline:
        claimed = _claim()
        if claimed is None:
            # Looks empty: clear the wake-up mark, then look once more. An event stored after
            # this look finds no mark and publishes a new drain (see ``wake``).
            try:
                cache.delete(WAKE_KEY)
            except Exception:
                logger.exception("Could not clear the webhook wake-up mark")
            claimed = _claim()
            if claimed is None:
                return processed
        processed += _process_claimed(*claimed)
    if not current_app.conf.task_always_eager:
        from billing.webhook_tasks import webhook_events_drain as drain_task

        drain_task.delay()
    return processed


def webhook_events_sweep() -> int:
    """Wakes a worker when pending events are due and no drain is taking them (a lost wake-up,
    a worker killed mid-event whose lease has ended, a retry whose delayed task was lost);
    returns how many are due. Run every minute."""
    due = WebhookInbox.objects.filter(
        state=WebhookInbox.State.PENDING, next_attempt_at__lte=timezone.now()
    ).count()
    if due:
        from billing.webhook_tasks import webhook_events_drain

        logger.info("%d webhook events are due; waking a worker", due)
        webhook_events_drain.delay()
    return due


def webhook_invalid_prune(*, older_than: timedelta | None = None) -> int:
    """Deletes the stored invalid deliveries older than the retention period; returns how many.

    Valid deliveries (processed or failed) are kept: they are the billing record."""
    if older_than is None:
        older_than = timedelta(days=settings.WEBHOOK_INVALID_RETENTION_DAYS)
    deleted, _ = WebhookEventTrigger.objects.filter(
        valid=False, created__lt=timezone.now() - older_than
    ).delete()
    return deleted
