"""The account the stand-in plays (``/v1/account``)."""

from __future__ import annotations

from ..engine import ACCOUNT_ID, Engine, Obj, not_found
from ._common import route


def _no_requirements() -> Obj:
    """An account's ``requirements``/``future_requirements``: nothing due, ever."""
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": [],
        "disabled_reason": None,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    }


def account_object(e: Engine) -> Obj:
    return {
        "id": ACCOUNT_ID,
        "object": "account",
        "business_profile": {
            "annual_revenue": None,
            "estimated_worker_count": None,
            "mcc": None,
            "name": "Relay (local Stripe)",
            "product_description": None,
            "support_address": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": None,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "controller": {"type": "account"},
        "country": "US",
        "created": 1700000000,
        "default_currency": "usd",
        "details_submitted": True,
        "email": "billing@relay.localhost",
        "external_accounts": e.list_obj([], f"/v1/accounts/{ACCOUNT_ID}/external_accounts"),
        "future_requirements": _no_requirements(),
        "metadata": {},
        "payouts_enabled": True,
        "requirements": _no_requirements(),
        "settings": {
            "bacs_debit_payments": {"display_name": None, "service_user_number": None},
            "branding": {"icon": None, "logo": None, "primary_color": None, "secondary_color": None},
            "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
            "card_payments": {
                "decline_on": {"avs_failure": False, "cvc_failure": False},
                "statement_descriptor_prefix": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "dashboard": {"display_name": "Relay (local Stripe)", "timezone": "Etc/UTC"},
            "invoices": {"default_account_tax_ids": None},
            "payments": {
                "statement_descriptor": "RELAY",
                "statement_descriptor_kana": None,
                "statement_descriptor_kanji": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": None,
            },
            "sepa_debit_payments": {},
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": "standard",
    }


@route("GET", r"/v1/account")
def account_retrieve(e: Engine, p: Obj) -> Obj:
    return account_object(e)


@route("GET", r"/v1/accounts/{id}")
def accounts_retrieve(e: Engine, p: Obj, account_id: str) -> Obj:
    if account_id != ACCOUNT_ID:
        raise not_found("account", account_id)
    return account_object(e)
