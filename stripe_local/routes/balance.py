"""Balance transactions."""

from __future__ import annotations

from ..engine import Engine, Obj
from ._common import list_objects, route


@route("GET", r"/v1/balance_transactions")
def balance_transactions_list(e: Engine, p: Obj) -> Obj:
    return list_objects(
        e, p, "balance_transaction", "/v1/balance_transactions", equal="type source", extra="payout currency"
    )


@route("GET", r"/v1/balance_transactions/{id}")
def balance_transactions_retrieve(e: Engine, p: Obj, txn_id: str) -> Obj:
    return e.get("balance_transaction", txn_id, label="balance transaction")
