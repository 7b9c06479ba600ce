"""Stripe webhooks: acknowledged fast, processed by workers.

The endpoint (``WebhookIntakeView``, at dj-stripe's URL name) only checks the signature and
stores the delivery; a Celery task (``billing.webhook_tasks``) processes it the way dj-stripe's
own view did inside the request: ``WebhookEventTrigger.process`` re-fetches and syncs the object
and sends dj-stripe's per-type signal, to which ``billing.webhooks`` and the other apps'
handlers are connected. So a burst (a renewal run, an outage replay) costs Stripe a quick 2xx per
event and the workers drain it at their pace.

Guarantees, and what gives each:

- **Stored once per event id**: ``WebhookInbox.event_id`` is unique; a duplicate delivery, also
  many at once, rolls back its insert and answers 200 without storing anything.
- **Side effects once**: the task processes an event while holding its inbox row's lock and
  commits the handlers' writes, the trigger's ``processed`` flag and the row's ``done`` state in
  one transaction; a second task for the same event waits for the lock, then sees it done.
  (dj-stripe's own per-event-id check and the handlers' unique keys stay as further guards.)
- **Nothing lost**: the stored row, not the broker message, is the source of truth. Tasks are
  acknowledged late and rejected back to the queue if their worker dies; a row still pending
  ``WEBHOOK_SWEEP_AFTER_MINUTES`` after it was due is queued again by ``webhook_events_sweep``.
- **Retries**: a failing event is retried with exponential back-off and jitter; after the last
  retry it stays a failed trigger (valid, not processed) for the admin's reprocess action.
- **Bounded storage for junk**: a delivery whose signature does not verify is kept for the
  security record in at most ``WEBHOOK_INVALID_STORED_BYTES`` (a few headers, then the start of
  the body, flagged as truncated in ``exception``), and is deleted after
  ``WEBHOOK_INVALID_RETENTION_DAYS`` (``webhook_invalid_prune``, daily).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from traceback import format_exc
from typing import Any

import stripe
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
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

logger = logging.getLogger(__name__)

# Headers worth keeping for an invalid delivery (who sent it, with what): the rest is dropped
# so a junk request cannot make us store more than a few KiB.
_INVALID_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "Stripe-Signature")
_INVALID_HEADER_CHARS = 256
_EXCEPTION_CHARS = WebhookEventTrigger._meta.get_field("exception").max_length or 128
SIGNATURE_HEADER = "Stripe-Signature"
# Attempts (failed tries and sweeps) after which the sweep gives an event up as failed.
SWEEP_MAX_ATTEMPTS = 12
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
    except ValueError:
        return None
    if not isinstance(data, dict) or "livemode" not in data:
        return None
    event_id, event_type = data.get("id"), data.get("type")
    if not (isinstance(event_id, str) and event_id and isinstance(event_type, str) and event_type):
        return None
    return event_id, event_type


def _signature_valid(*, body: str, headers: dict[str, str], endpoint: WebhookEndpoint) -> bool:
    """Stripe's check (HMAC-SHA256 compared in constant time, timestamp within tolerance)."""
    if not endpoint.secret:
        return False
    try:
        stripe.WebhookSignature.verify_header(
            body, headers.get(SIGNATURE_HEADER, ""), endpoint.secret, endpoint.djstripe_tolerance
        )
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


def webhook_delivery_receive(
    *, endpoint: WebhookEndpoint, raw: bytes, headers: dict[str, str], remote_ip: str
) -> Receipt:
    """Checks one delivery's signature and stores it; queues its processing on commit.

    A valid, new event gets a ``WebhookEventTrigger`` (full body and headers, as dj-stripe stores
    it) and a pending ``WebhookInbox`` row in one transaction. A valid duplicate stores nothing.
    An invalid one (bad, stale or missing signature, or a signed body that is not an event) is
    stored capped (see the module docstring) and never processed.
    """
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        body = ""
    fields = _event_fields(body) if _signature_valid(body=body, headers=headers, endpoint=endpoint) else None
    if fields is None:
        _invalid_record(raw=raw, headers=headers, endpoint=endpoint, remote_ip=remote_ip)
        return Receipt(valid=False)
    event_id, event_type = fields
    try:
        with transaction.atomic():
            trigger = WebhookEventTrigger.objects.create(
                headers=headers,
                body=body,
                remote_ip=remote_ip,
                valid=True,
                stripe_trigger_account_id=endpoint.djstripe_owner_account_id,
                webhook_endpoint=endpoint,
            )
            entry = WebhookInbox.objects.create(
                event_id=event_id, event_type=event_type, trigger=trigger, next_attempt_at=timezone.now()
            )
    except IntegrityError:
        # A duplicate (the first copy may have been committing: PostgreSQL made this insert wait
        # for it). Nothing of this delivery is kept. Any other clash is an error, not a duplicate.
        if not WebhookInbox.objects.filter(event_id=event_id).exists():
            raise
        return Receipt(valid=True)
    transaction.on_commit(lambda: _enqueue(entry.pk))
    return Receipt(valid=True, inbox_id=entry.pk)


def _enqueue(inbox_id: int) -> None:
    from billing.webhook_tasks import webhook_event_process  # the task module imports this one

    webhook_event_process.delay(inbox_id=inbox_id)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class WebhookIntakeView(View):
    """Stripe's webhook endpoint: 200 once the delivery is verified and stored, 400 when it is
    not valid, 404 for an unknown endpoint. Processing happens in a worker."""

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


# --- Processing (in a worker) ----------------------------------------------------------------


def _api_key(trigger: WebhookEventTrigger) -> str | None:
    """The key dj-stripe's view would use for this delivery's endpoint."""
    account = trigger.stripe_trigger_account
    endpoint = trigger.webhook_endpoint
    livemode = endpoint.livemode if endpoint is not None else settings.STRIPE_LIVE_MODE
    return (account.default_api_key if account else None) or djstripe_settings.get_default_api_key(livemode)


def webhook_event_process(*, inbox_id: int) -> bool:
    """Processes one stored event, at most once; returns False when there is no such row.

    Holds the inbox row's lock for the whole processing, so concurrent tasks for one event run
    one after the other and the later ones find it done. An event already processed by the
    admin's reprocess action is only marked done. Raises what processing raised, after rolling
    its writes back (the caller records it with ``webhook_event_failure_record`` and retries).
    """
    with transaction.atomic():
        entry = (
            WebhookInbox.objects.select_for_update(of=("self",))
            .select_related("trigger__stripe_trigger_account", "trigger__webhook_endpoint")
            .filter(pk=inbox_id)
            .first()
        )
        if entry is None:
            return False
        if entry.state == WebhookInbox.State.DONE:
            return True
        trigger = entry.trigger
        if not trigger.processed:
            api_key = _api_key(trigger)
            signals.webhook_pre_process.send(sender=WebhookEventTrigger, instance=trigger)
            trigger.process(save=False, api_key=api_key)  # sync, then the per-type signal
            signals.webhook_post_process.send(sender=WebhookEventTrigger, instance=trigger, api_key=api_key)
            trigger.save()
        entry.state = WebhookInbox.State.DONE
        entry.attempts += 1
        entry.save(update_fields=["state", "attempts"])
    return True


@transaction.atomic
def webhook_event_failure_record(*, inbox_id: int, error: BaseException, retry_in: float | None) -> None:
    """Records a failed attempt on the trigger (the admin shows it) and the inbox row: due again
    in ``retry_in`` seconds, or, with None (no retry left), failed until reprocessed.

    Call from the ``except`` block that caught ``error`` (the traceback is read from there)."""
    entry = WebhookInbox.objects.select_for_update().select_related("trigger").filter(pk=inbox_id).first()
    if entry is None or entry.state == WebhookInbox.State.DONE:
        return
    entry.attempts += 1
    if retry_in is None:
        entry.state = WebhookInbox.State.FAILED
    else:
        entry.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
    entry.save(update_fields=["attempts", "state", "next_attempt_at"])
    trigger = entry.trigger
    trigger.exception = str(error)[:_EXCEPTION_CHARS]
    trigger.traceback = format_exc()
    trigger.save(update_fields=["exception", "traceback", "updated"])
    logger.warning(
        "Webhook event %s (%s) failed, attempt %d%s: %s",
        entry.event_id,
        entry.event_type,
        entry.attempts,
        "" if retry_in is None else f", retry in {retry_in:.0f} s",
        error,
    )


def webhook_events_sweep(*, overdue_after: timedelta | None = None, limit: int = 1000) -> int:
    """Queues again the pending events whose task was lost; returns how many.

    A row is overdue when it is still pending ``overdue_after`` (default
    ``WEBHOOK_SWEEP_AFTER_MINUTES``, longer than a task's time limit) after it was due. Each is
    marked due now before it is queued, so one sweep does not queue it again before the next
    grace period; a row that is in fact still queued behind a long backlog is processed once all
    the same (the second task finds it done).
    """
    if overdue_after is None:
        overdue_after = timedelta(minutes=settings.WEBHOOK_SWEEP_AFTER_MINUTES)
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookInbox.objects.select_for_update(skip_locked=True)
            .filter(state=WebhookInbox.State.PENDING, next_attempt_at__lte=now - overdue_after)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        # Each re-queue counts as an attempt: an event that kills every worker that takes it
        # stops coming back and waits, failed, for the admin's reprocess.
        overdue = WebhookInbox.objects.filter(pk__in=ids)
        overdue.filter(attempts__gte=SWEEP_MAX_ATTEMPTS).update(state=WebhookInbox.State.FAILED)
        ids = list(overdue.filter(state=WebhookInbox.State.PENDING).values_list("pk", flat=True))
        WebhookInbox.objects.filter(pk__in=ids).update(next_attempt_at=now, attempts=F("attempts") + 1)
        for inbox_id in ids:
            transaction.on_commit(partial(_enqueue, inbox_id))
    if ids:
        logger.warning("Re-queued %d webhook events whose task was lost", len(ids))
    return len(ids)


def webhook_invalid_prune(*, older_than: timedelta | None = None) -> int:
    """Deletes the stored invalid deliveries older than the retention period; returns how many.

    Valid deliveries (processed or failed) are kept: they are the billing record."""
    if older_than is None:
        older_than = timedelta(days=settings.WEBHOOK_INVALID_RETENTION_DAYS)
    deleted, _ = WebhookEventTrigger.objects.filter(
        valid=False, created__lt=timezone.now() - older_than
    ).delete()
    return deleted
