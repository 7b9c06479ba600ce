"""Admin pieces every app's admin shares: the read-only mixin, the page context of an object with
action buttons, the reason box of staff list actions and the runner that enforces it
(``staff_action_run``), the CSV export action, and the signal by which apps below ``audit`` have
their staff actions recorded.

A list action over the selected rows, each in its own transaction (the service writes, audits and
queues its e-mails together): a refusal or conflict on one row is reported and the others go on."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.utils import label_for_field, lookup_field
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.html import strip_tags

from config.errors import ApplicationError

# A staff action of an app that may not import ``audit`` (it sits below it: outbox, config's CSV
# export). Sent with ``actor``, ``kind`` (an ``audit.models.AuditEntry.Kind`` value), ``action``
# and optionally ``obj``, ``reason`` and ``details``; ``audit.receivers`` records each one.
staff_action_performed = Signal()


class ReadOnlyAdminMixin:
    """A record staff may look at and never add, change or delete from the admin: a history
    (moderation actions, e-mails sent), a derived view (top referrers) or a row whose writes go
    through a service's own action. Put it before ``admin.ModelAdmin`` in the bases."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ChangePageContextMixin:
    """An object page that shows more than the form (the buttons of the staff actions this staff
    member may take, a count): the ModelAdmin returns it from ``change_page_context``. Put it
    before ``admin.ModelAdmin`` in the bases."""

    def change_page_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {}

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]  # ModelAdmin's
        context = {**(extra_context or {}), **(self.change_page_context(request, obj) if obj else {})}
        return super().change_view(request, object_id, form_url, context)  # type: ignore[misc]  # ModelAdmin's


class ReasonActionForm(ActionForm):
    """The action bar with a "reason" box: staff actions that need one (account, moderation,
    money actions) read it with ``action_reason`` and refuse to run without it; it is logged
    with the action and, where the action affects someone, told to them."""

    reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Reason",
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "Reason (logged; told to the user)"}),
    )


def action_reason(request: HttpRequest) -> str:
    """The reason typed next to the action (``ReasonActionForm``), stripped; "" if none."""
    return str(request.POST.get("reason", "")).strip()[:1000]


REASON_REQUIRED = (
    "Type a reason in the box next to the action: it is logged and, where the action affects "
    "someone, told to them."
)


def staff_action_run(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    rows: Iterable[Any],
    act: Callable[[Any, str], object],
    *,
    done: str,
    reason_required: bool = True,
) -> int:
    """Calls ``act(row, reason)`` for each row; returns how many succeeded. Nothing runs without
    a reason when ``reason_required``."""
    reason = action_reason(request)
    if reason_required and not reason:
        modeladmin.message_user(request, REASON_REQUIRED, messages.ERROR)
        return 0
    succeeded = 0
    for row in rows:
        try:
            with transaction.atomic():
                act(row, reason)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{row}: {exc.message}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"{done}: {succeeded}.", messages.SUCCESS)
    return succeeded


# The one permission that lets a staff member take a list out of the admin as a file (a list of
# users is a list of e-mail addresses): created with the roles (accounts' data migration), held by
# the Support and Billing groups. On top of the model's own ``view`` permission.
EXPORT_PERMISSION = "accounts.export_csv"

# A cell starting with one of these is a formula to a spreadsheet (CSV injection): it is quoted.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming ``csv.writer``."""

    def write(self, value: str) -> str:
        return value


# Except a bare handle (``@alice``): with no operator or call it cannot run anything.
_HANDLE = re.compile(r"@\w{1,30}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cell(value: Any) -> str:
    # A list column's HTML (``format_html``) loses its tags; plain text ("@ann <ann@x.org>") stays.
    text = "" if value is None else strip_tags(value) if hasattr(value, "__html__") else str(value)
    if text.startswith(_FORMULA_STARTS) and not _HANDLE.fullmatch(text) and not _is_number(text):
        return "'" + text
    return text


def csv_column(header: str, value: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A column of the CSV file that the list page does not show: ``header`` over ``value(row)``
    (raw amounts, currency codes), for a ModelAdmin's ``csv_columns``."""

    def column(obj: Any) -> Any:
        return value(obj)

    column.__name__ = header
    column.short_description = header  # type: ignore[attr-defined]  # read by the admin's label_for_field
    return column


def _export_columns(modeladmin: admin.ModelAdmin, request: HttpRequest) -> list[Any]:
    """The ModelAdmin's ``csv_columns`` when it has them (names as in ``list_display``, or
    ``csv_column``s), else the columns of its list page."""
    columns = getattr(modeladmin, "csv_columns", None)
    if columns:
        return list(columns)
    return [name for name in modeladmin.get_list_display(request) if name != "action_checkbox"]


def _export_rows(
    modeladmin: admin.ModelAdmin, columns: list[Any], queryset: QuerySet[Any]
) -> Iterator[list[str]]:
    yield [str(label_for_field(name, queryset.model, modeladmin)) for name in columns]
    for obj in queryset.iterator(chunk_size=1000):
        row = []
        for name in columns:
            _field, _attr, value = lookup_field(name, obj, modeladmin)
            row.append(_cell(value))
        yield row


class CsvExportMixin:
    """Gives a ``ModelAdmin`` the ``export`` permission that ``export_as_csv`` asks for: the
    model's ``view`` permission plus ``EXPORT_PERMISSION``. Put it before ``admin.ModelAdmin``
    and add ``export_as_csv`` to ``actions``."""

    def has_export_permission(self, request: HttpRequest) -> bool:
        model: type[Model] = self.model  # type: ignore[attr-defined]  # a ModelAdmin's model
        opts = model._meta
        user = request.user
        return bool(
            user.has_perm(EXPORT_PERMISSION) and user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        )


@admin.action(description="Export selected rows as CSV", permissions=["export"])
def export_as_csv(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
    """The selected rows (or, with "select all", the whole filtered list) with the columns the
    list page shows (or the ModelAdmin's ``csv_columns``), as a streamed CSV file, recorded in
    the staff audit log (who, which list, how many rows). Needs ``CsvExportMixin`` (or a
    ``has_export_permission`` method) on the ModelAdmin; checked again here so a ModelAdmin that
    forgot the declaration still refuses. Cells that a spreadsheet would run as a formula are
    quoted."""
    checker = getattr(modeladmin, "has_export_permission", None)
    if checker is None or not checker(request):
        raise PermissionDenied
    columns = _export_columns(modeladmin, request)
    writer = csv.writer(_Echo())
    opts = queryset.model._meta
    staff_action_performed.send(
        sender=queryset.model,
        actor=request.user,
        kind="export",
        action=f"{opts.app_label}.{opts.model_name}.export_csv",
        details={"rows": queryset.count(), "filters": request.GET.urlencode()[:500]},
    )
    filename = f"{opts.app_label}-{opts.model_name}-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _export_rows(modeladmin, columns, queryset)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
