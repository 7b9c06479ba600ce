"""Forms: the referral-code field added to allauth's sign-up form, and the apply form.

``SignupForm`` is allauth's ACCOUNT_SIGNUP_FORM_CLASS: allauth's page form and the headless
API's sign-up input both inherit from it, so the field and its validation serve both.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest

from accounts.models import User
from referrals.hashing import normalize_code


class SignupForm(forms.Form):
    referral_code = forms.CharField(
        label="Referral code (optional)",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def clean_referral_code(self) -> str:
        from referrals.services import referral_code_lookup

        code = normalize_code(self.cleaned_data.get("referral_code"))
        if code and referral_code_lookup(code=code) is None:
            raise forms.ValidationError("This referral code does not exist.", code="unknown_code")
        return code

    def signup(self, request: HttpRequest, user: User) -> None:
        """Called by allauth once the user is saved: attribute them to the typed code or link."""
        from referrals.receivers import record_signup

        record_signup(request=request, user=user, typed_code=self.cleaned_data.get("referral_code", ""))


class ReferralApplyForm(forms.Form):
    code = forms.CharField(label="Referral code", max_length=32)

    def clean_code(self) -> str:
        return normalize_code(self.cleaned_data["code"])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update({"autocomplete": "off", "autocapitalize": "characters"})
