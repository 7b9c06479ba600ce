from __future__ import annotations

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up
        from django.contrib.auth.signals import user_logged_in

        from accounts.lifecycle import register_eraser, register_exporter
        from billing.hooks import register_checkout_discounts_provider
        from referrals import lifecycle, receivers, webhooks
        from referrals.rewards import referral_checkout_discounts

        user_signed_up.connect(receivers.on_user_signed_up, dispatch_uid="referrals.user_signed_up")
        user_logged_in.connect(receivers.on_user_logged_in, dispatch_uid="referrals.user_logged_in")
        webhooks.connect()
        register_checkout_discounts_provider(referral_checkout_discounts)
        register_exporter("referrals", lifecycle.referrals_export)
        register_eraser("referrals", lifecycle.referrals_erase)
