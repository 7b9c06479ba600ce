"""The intermediate forms of the staff money actions: each asks for a reason, and the ones that
move money carry a one-time token (the Stripe idempotency key) so a double submit acts once."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from billing.money import money_format, money_minor
from billing.staff_actions import STRIPE_REFUND_REASONS


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Why (kept in the staff audit log).",
    )

    def __init__(self, *args: Any, currency: str = "usd", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_reason(self) -> str:
        reason = " ".join(str(self.cleaned_data["reason"]).split())
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


class _MoneyForm(ReasonForm):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["token"].initial = uuid.uuid4().hex

    def clean_token(self) -> str:
        token = str(self.cleaned_data["token"])
        if not token.isalnum():
            raise forms.ValidationError("Open the form again.")
        return token

    def _minor(self, value: str) -> int:
        try:
            return money_minor(value, self.currency)
        except ValueError as exc:
            raise forms.ValidationError(f"Enter an amount in {self.currency.upper()}, e.g. 5.00.") from exc


class RefundForm(_MoneyForm):
    amount = forms.CharField(
        required=False,
        max_length=20,
        help_text="Leave empty to refund everything left on the charge.",
    )
    stripe_reason = forms.ChoiceField(
        choices=[(r, r.replace("_", " ").capitalize()) for r in STRIPE_REFUND_REASONS],
        label="Reason given to Stripe",
        initial="requested_by_customer",
    )
    field_order = ("amount", "stripe_reason", "reason", "token")

    def __init__(self, *args: Any, refundable: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = (
            f"In {self.currency.upper()}. Leave empty to refund all that is left: "
            f"{money_format(refundable, self.currency)}."
        )

    def clean_amount(self) -> int | None:
        value = str(self.cleaned_data.get("amount") or "").strip()
        return self._minor(value) if value else None


class CreditForm(_MoneyForm):
    amount = forms.CharField(max_length=20)
    field_order = ("amount", "reason", "token")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "amount"
        ].help_text = f"In {self.currency.upper()}. Stripe takes it off the customer's next invoices."

    def clean_amount(self) -> int:
        amount = self._minor(str(self.cleaned_data["amount"]))
        if amount <= 0:
            raise forms.ValidationError("Enter an amount above zero.")
        return amount


class CancelForm(ReasonForm):
    when = forms.ChoiceField(
        choices=[
            ("period_end", "At the end of the paid period (can be resumed until then)"),
            ("now", "Now (paid features end at once; no refund)"),
        ],
        widget=forms.RadioSelect,
        initial="period_end",
    )
    field_order = ("when", "reason")
