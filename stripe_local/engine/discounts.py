"""Coupons, promotion codes and the discounts they make.

One layer of ``Engine`` (see ``stripe_local.engine``)."""

from __future__ import annotations

import copy
from typing import Any

from .charges import ChargesMixin
from .common import (
    Obj,
    StripeError,
    add_interval,
)


class DiscountsMixin(ChargesMixin):
    # --- coupons and discounts ---------------------------------------------------------------
    def make_discount(
        self,
        *,
        coupon_id: str | None = None,
        promotion_code_id: str | None = None,
        customer: str | None,
        subscription: str | None = None,
        checkout_session: str | None = None,
        param: str = "discounts",
    ) -> Obj:
        promo = None
        if promotion_code_id:
            promo = self.get("promotion_code", promotion_code_id, param=param, label="promotion code")
            if not promo["active"] or (promo["expires_at"] and promo["expires_at"] <= self.now):
                raise StripeError(
                    400,
                    f"This promotion code is inactive: '{promo['code']}'",
                    code="coupon_expired",
                    param=param,
                )
            if promo["max_redemptions"] is not None and promo["times_redeemed"] >= promo["max_redemptions"]:
                raise StripeError(
                    400,
                    "This promotion code has reached its maximum redemptions.",
                    code="coupon_expired",
                    param=param,
                )
            if promo["customer"] and promo["customer"] != customer:
                raise StripeError(
                    400,
                    "This promotion code cannot be redeemed by this customer.",
                    code="coupon_expired",
                    param=param,
                )
            coupon_id = promo["coupon"]["id"]
        coupon = self.get("coupon", coupon_id, param=param)
        if not coupon["valid"]:
            raise StripeError(400, f"Coupon expired: {coupon['id']}", code="coupon_expired", param=param)
        end = None
        if coupon["duration"] == "repeating":
            end = add_interval(self.now, "month", int(coupon["duration_in_months"] or 1))
        discount = self.created(
            {
                "id": self.new_id("di"),
                "object": "discount",
                "checkout_session": checkout_session,
                "coupon": copy.deepcopy(coupon),
                "customer": customer,
                "end": end,
                "invoice": None,
                "invoice_item": None,
                "promotion_code": promo["id"] if promo else None,
                "start": self.now,
                "subscription": subscription,
                "subscription_item": None,
            }
        )
        coupon["times_redeemed"] += 1
        if coupon["max_redemptions"] is not None and coupon["times_redeemed"] >= coupon["max_redemptions"]:
            coupon["valid"] = False
        if promo:
            promo["times_redeemed"] += 1
            promo["coupon"] = copy.deepcopy(coupon)
        return discount

    def discounts_from_params(
        self,
        entries: list[Any],
        *,
        customer: str | None,
        subscription: str | None = None,
        param: str = "discounts",
    ) -> list[Obj]:
        result = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise StripeError(400, "Invalid object", param=f"{param}[{index}]")
            if entry.get("discount"):
                result.append(self.get("discount", entry["discount"], param=param))
                continue
            result.append(
                self.make_discount(
                    coupon_id=entry.get("coupon") or None,
                    promotion_code_id=entry.get("promotion_code") or None,
                    customer=customer,
                    subscription=subscription,
                    param=param,
                )
            )
        return result

    def discount_amount(self, discount: Obj, subtotal: int) -> int:
        coupon = discount["coupon"]
        if discount["end"] is not None and discount["end"] <= self.now:
            return 0
        if coupon["percent_off"] is not None:
            return min(subtotal, int(round(subtotal * float(coupon["percent_off"]) / 100)))
        return min(subtotal, int(coupon["amount_off"] or 0))
