"""allauth hooks: only what the project needs to change."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django import forms

from accounts.models import HANDLE_VALIDATOR, RESERVED_HANDLES


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username: str, shallow: bool = False) -> str:
        """Handles: 3-30 letters, digits or underscores, not a reserved word, unique in any case."""
        HANDLE_VALIDATOR(username)
        if username.lower() in RESERVED_HANDLES:
            raise forms.ValidationError("This handle is reserved. Please choose another.")
        return super().clean_username(username, shallow=shallow)
