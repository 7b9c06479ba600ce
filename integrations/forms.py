"""Forms of the API keys settings page, and the API-keys choice added to the password change."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import ChangePasswordForm
from django import forms

from config.scopes import SCOPES, STAFF_ONLY_SCOPES
from integrations.services import DEFAULT_EXPIRY_DAYS, MAX_GRACE_HOURS

EXPIRY_CHOICES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "1 year")]
GRACE_CHOICES = [(0, "Stop the old key now"), (1, "1 hour"), (6, "6 hours"), (24, "24 hours")]


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. “Backup script”.")
    scopes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, choices=())
    expires_in_days = forms.TypedChoiceField(
        label="Expires after", choices=EXPIRY_CHOICES, coerce=int, initial=DEFAULT_EXPIRY_DAYS
    )

    def __init__(self, *args: Any, is_staff: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["scopes"]
        assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 - narrows the type
        field.choices = [
            (scope, f"{scope} — {label}")
            for scope, label in SCOPES.items()
            if is_staff or scope not in STAFF_ONLY_SCOPES
        ]


class ApiKeyRotateForm(forms.Form):
    grace_hours = forms.TypedChoiceField(
        label="Old key keeps working for",
        choices=GRACE_CHOICES,
        coerce=int,
        initial=1,
        help_text=f"At most {MAX_GRACE_HOURS} hours, while you swap the key in.",
    )


# The field's name is read by ``integrations.receivers.on_password_changed``.
REVOKE_KEYS_FIELD = "revoke_api_keys"


class PasswordChangeForm(ChangePasswordForm):
    """allauth's password change (``ACCOUNT_FORMS["change_password"]``), offering to stop every
    API key as well, default yes: a stolen session may have minted one. Radio buttons, not a
    checkbox, so only an explicit "no" keeps them; a client without the field (the headless
    API, an older page) gets the default."""

    revoke_api_keys = forms.TypedChoiceField(
        label="Your API keys",
        choices=[("yes", "Stop all my API keys too (recommended)"), ("no", "Keep my API keys working")],
        initial="yes",
        required=False,  # not answered: the default, stop them
        empty_value="yes",
        widget=forms.RadioSelect,
    )
