"""Admin pieces every app's admin shares: the read-only mixin and the CSV export action."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.utils import label_for_field, lookup_field
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.html import strip_tags


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


def _cell(value: Any) -> str:
    text = "" if value is None else strip_tags(str(value))
    if text.startswith(_FORMULA_STARTS) and not _HANDLE.fullmatch(text):
        return "'" + text
    return text


def _export_columns(modeladmin: admin.ModelAdmin, request: HttpRequest) -> list[Any]:
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
    list page shows, as a streamed CSV file. Needs ``CsvExportMixin`` (or a
    ``has_export_permission`` method) on the ModelAdmin; checked again here so a ModelAdmin that
    forgot the declaration still refuses. Cells that a spreadsheet would run as a formula are
    quoted."""
    checker = getattr(modeladmin, "has_export_permission", None)
    if checker is None or not checker(request):
        raise PermissionDenied
    columns = _export_columns(modeladmin, request)
    writer = csv.writer(_Echo())
    opts = queryset.model._meta
    filename = f"{opts.app_label}-{opts.model_name}-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _export_rows(modeladmin, columns, queryset)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
