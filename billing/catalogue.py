"""The demo catalogue and the product/price sync shared by the billing commands."""

from __future__ import annotations

import uuid
from typing import Any

import stripe
from django.conf import settings
from django.urls import reverse
from djstripe.models import Price, Product, WebhookEndpoint

from billing.entitlements import entitlements_invalidate_all

# Free has no Stripe product: its limits are billing.entitlements.FREE.
DEMO_CATALOGUE: list[dict[str, Any]] = [
    {
        "name": "Pro",
        "metadata": {
            "plan": "pro",
            "rank": "10",
            "trial_days": "14",
            "max_post_length": "2000",
            "max_images_per_post": "10",
            "posts_per_day": "1000",
            "max_api_keys": "10",
            "api_requests_per_minute": "600",
            "features": "Longer posts;More images;Priority support",
        },
        "prices": {"pro_monthly": ("month", 800), "pro_yearly": ("year", 8000)},
    },
    {
        "name": "Team",
        "metadata": {
            "plan": "team",
            "rank": "20",
            "max_post_length": "5000",
            "max_images_per_post": "20",
            "posts_per_day": "5000",
            "max_api_keys": "25",
            "api_requests_per_minute": "1200",
            "features": "Everything in Pro;Highest API limits",
        },
        "prices": {"team_monthly": ("month", 2400), "team_yearly": ("year", 24000)},
    },
]


def catalogue_ensure(*, log: Any = None) -> list[str]:
    """Creates the demo products and prices in Stripe when missing (idempotent); returns price ids."""
    products: dict[str, dict[str, Any]] = {}
    for obj in stripe.Product.list(limit=100).auto_paging_iter():
        data = obj.to_dict()
        products[str((data.get("metadata") or {}).get("plan"))] = data
    price_ids: list[str] = []
    for spec in DEMO_CATALOGUE:
        code = spec["metadata"]["plan"]
        product = products.get(code)
        if product is None:
            product = stripe.Product.create(name=spec["name"], metadata=spec["metadata"]).to_dict()
            if log:
                log(f"created product {product['id']} ({spec['name']})")
        elif dict(product.get("metadata") or {}) != spec["metadata"] or not product.get("active"):
            product = stripe.Product.modify(product["id"], metadata=spec["metadata"], active=True).to_dict()
        existing = {
            p.lookup_key: p for p in stripe.Price.list(lookup_keys=list(spec["prices"]), limit=100).data
        }
        for lookup_key, (interval, amount) in spec["prices"].items():
            price = existing.get(lookup_key)
            if price is None:
                price = stripe.Price.create(
                    product=product["id"],
                    currency="usd",
                    unit_amount=amount,
                    recurring={"interval": interval},
                    lookup_key=lookup_key,
                )
                if log:
                    log(f"created price {price.id} ({lookup_key})")
            price_ids.append(price.id)
    return price_ids


def catalogue_sync(*, log: Any = None) -> tuple[int, int]:
    """Copies every Stripe product and price into dj-stripe's tables; returns the counts."""
    products = prices = 0
    for product in stripe.Product.list(limit=100).auto_paging_iter():
        Product.sync_from_stripe_data(product)
        products += 1
    for price in stripe.Price.list(limit=100).auto_paging_iter():
        Price.sync_from_stripe_data(price)
        prices += 1
    entitlements_invalidate_all()
    if log:
        log(f"synced {products} products and {prices} prices")
    return products, prices


def webhook_endpoint_register(*, base_url: str, log: Any = None) -> WebhookEndpoint:
    """Registers (once) a Stripe webhook endpoint pointing at our dj-stripe URL, with the same
    secret stored in dj-stripe's row, so the signed deliveries validate."""
    for endpoint in WebhookEndpoint.objects.filter(livemode=settings.STRIPE_LIVE_MODE).exclude(secret=""):
        if not endpoint.url.startswith(base_url):
            continue
        try:
            stripe.WebhookEndpoint.retrieve(endpoint.id)
            if log:
                log(f"webhook endpoint {endpoint.id} already registered: {endpoint.url}")
            return endpoint
        except stripe.InvalidRequestError:
            endpoint.delete()  # gone from Stripe: register again below
    djstripe_uuid = uuid.uuid4()
    path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": djstripe_uuid})
    remote = stripe.WebhookEndpoint.create(
        url=f"{base_url}{path}",
        enabled_events=["*"],
        api_version=settings.STRIPE_API_VERSION,  # type: ignore[arg-type]  # the SDK types it as a Literal of its own version
        metadata={"djstripe_uuid": str(djstripe_uuid)},
    ).to_dict()
    endpoint = WebhookEndpoint.objects.create(
        id=remote["id"],
        livemode=bool(remote.get("livemode")),
        url=remote["url"],
        enabled_events=["*"],
        status="enabled",
        api_version=settings.STRIPE_API_VERSION,
        secret=remote["secret"],
        djstripe_uuid=djstripe_uuid,
    )
    if log:
        log(f"registered webhook endpoint {endpoint.id}: {endpoint.url}")
    return endpoint
