"""Forms of the staff panel."""

from __future__ import annotations

from django import forms


class ImpersonationForm(forms.Form):
    """What a staff member says before signing in as a user: why (kept in the audit log)."""

    reason = forms.CharField(
        min_length=10,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why you need to see the product as this user (the ticket, the problem). Kept in the audit log.",
    )
