"""Forms of the billing pages."""

from __future__ import annotations

from django import forms


class PriceForm(forms.Form):
    price_id = forms.CharField(max_length=255)


class ChangeConfirmForm(forms.Form):
    price_id = forms.CharField(max_length=255)
    proration_date = forms.IntegerField(min_value=0)
