"""The referral link and the text offered for sharing it, used by the page and the API alike."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def referral_link_url(code: str) -> str:
    return f"{settings.SITE_URL}{reverse('referrals:link', args=[code])}"


def referral_share_text(code: str) -> str:
    return f"Join me on {settings.SITE_NAME}: {referral_link_url(code)} (or use my code {code} when you sign up)."
