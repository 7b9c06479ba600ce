"""Input and output serializers of the billing API (outputs read the selectors' plain dicts)."""

from __future__ import annotations

from rest_framework import serializers


class PriceOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    interval = serializers.CharField()
    amount = serializers.IntegerField(help_text="In the currency's smallest unit (cents).")
    currency = serializers.CharField()


class PlanLimitsOutputSerializer(serializers.Serializer):
    max_post_length = serializers.IntegerField()
    max_images_per_post = serializers.IntegerField()
    posts_per_day = serializers.IntegerField()
    max_api_keys = serializers.IntegerField()
    api_requests_per_minute = serializers.IntegerField()


class PlanOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    trial_days = serializers.IntegerField()
    features = serializers.ListField(child=serializers.CharField())
    limits = PlanLimitsOutputSerializer()
    monthly = PriceOutputSerializer(allow_null=True)
    yearly = PriceOutputSerializer(allow_null=True)
    is_current = serializers.BooleanField()


class SubscriptionOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField(
        help_text="Stripe's status: trialing, active, past_due, canceled, unpaid, incomplete..."
    )
    plan = serializers.CharField()
    plan_name = serializers.CharField()
    price_id = serializers.CharField()
    interval = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    current_period_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    trial_end = serializers.DateTimeField(allow_null=True)
    grace_ends_at = serializers.DateTimeField(
        allow_null=True, help_text="While past_due: when paid features stop unless the invoice is paid."
    )


class InvoiceOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    number = serializers.CharField()
    created = serializers.DateTimeField(allow_null=True)
    total = serializers.IntegerField()
    amount_due = serializers.IntegerField()
    amount_paid = serializers.IntegerField()
    currency = serializers.CharField()
    status = serializers.CharField()
    hosted_invoice_url = serializers.CharField()
    invoice_pdf = serializers.CharField()


class PaymentMethodOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField(allow_null=True)
    exp_year = serializers.IntegerField(allow_null=True)


class EntitlementsOutputSerializer(serializers.Serializer):
    plan = serializers.CharField()
    is_paid = serializers.BooleanField()
    max_post_length = serializers.IntegerField()
    max_images_per_post = serializers.IntegerField()
    posts_per_day = serializers.IntegerField()
    max_api_keys = serializers.IntegerField()
    api_requests_per_minute = serializers.IntegerField()


class RedirectOutputSerializer(serializers.Serializer):
    url = serializers.URLField()


class CheckoutExpireOutputSerializer(serializers.Serializer):
    expired = serializers.IntegerField(help_text="How many open checkouts were cancelled.")


class CheckoutSessionInputSerializer(serializers.Serializer):
    price_id = serializers.CharField(max_length=255)


class SubscriptionChangeInputSerializer(serializers.Serializer):
    price_id = serializers.CharField(max_length=255)
    preview = serializers.BooleanField(
        default=False, help_text="True: only compute the proration, change nothing."
    )
    proration_date = serializers.IntegerField(
        required=False, min_value=0, help_text="From the preview, so the charge matches what was shown."
    )


class ChangePreviewOutputSerializer(serializers.Serializer):
    price_id = serializers.CharField()
    currency = serializers.CharField()
    proration_amount = serializers.IntegerField(
        help_text="Prorated charge (positive) or credit (negative) for the rest of this period."
    )
    amount_due = serializers.IntegerField(help_text="Total of the next invoice with the change.")
    next_payment_attempt = serializers.IntegerField(allow_null=True)
    proration_date = serializers.IntegerField()
    ends_trial = serializers.BooleanField(
        help_text="The change ends your free trial now: `amount_due` is charged at once."
    )
