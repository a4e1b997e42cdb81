"""What the publisher writes on a social account when a platform says so: the
account's status, and `reauth_required` with its webhook event."""
from __future__ import annotations

from datetime import datetime

from layers_shared import clock
from layers_shared.store import keys
from layers_shared.store.table import ConditionFailed, Table, TransactionCanceled


def set_status(table: Table, account_id: str, status: str, now: datetime) -> None:
    try:
        table.update(keys.social_account(account_id), "SET #s = :s, updatedAt = :now",
                     names={"#s": "status"}, values={":s": status, ":now": clock.to_storage(now)},
                     condition="attribute_exists(PK)")
    except ConditionFailed:
        pass  # the account was deleted meanwhile: nothing to mark


def needs_reauth(table: Table, account_id: str, now: datetime) -> None:
    """The account turns reauth_required and social_account.needs_reauth is
    raised in one transaction, only when it was not reauth_required already."""
    from layers_shared.webhooks import outbox

    account = table.get(keys.social_account(account_id), consistent=True)
    if not account or account.get("status") == "reauth_required":
        return
    stamp = clock.to_storage(now)
    change = f"{account_id}#needs_reauth#{stamp}"
    data = {"socialAccountId": account_id, "projectId": account.get("projectId"),
            "platform": account.get("platform"), "handle": account.get("handle")}
    event = outbox.event(change, 0, "social_account.needs_reauth", data, account.get("projectId"), now)
    try:
        table.transact([
            table.tx_update(keys.social_account(account_id), "SET #s = :s, updatedAt = :now",
                            names={"#s": "status"}, values={":s": "reauth_required", ":now": stamp},
                            condition="attribute_exists(PK) AND #s <> :s"),
            outbox.tx_put(table, change, account["organizationId"], [event], now)])
    except TransactionCanceled as exc:
        if "ConditionalCheckFailed" not in exc.reasons:
            raise
