"""Handlers of the banking example: a pretend core-banking system."""

from soni import ActionContext, ActionRegistry

BALANCES = {"checking": 1520.5, "savings": 8000.0}
SENT: list[dict[str, object]] = []  # what execute_transfer did, for the tests


# A read changes nothing: after a crash it is simply run again.
@ActionRegistry.register("get_balance", idempotent=True)
def get_balance(account: str) -> dict[str, float]:
    if account not in BALANCES:
        raise LookupError(f"no account {account!r}")
    return {"balance": BALANCES[account]}


def find_transfer(ctx: ActionContext) -> dict | None:
    """After a crash lost a transfer's outcome: did the bank get it? (None: it did not.)"""
    for sent in SENT:
        if sent["key"] == ctx.idempotency_key:
            return {"transaction_id": f"TX-{ctx.idempotency_key[-8:]}"}
    return None


@ActionRegistry.register("execute_transfer", reconcile=find_transfer)
def execute_transfer(amount: float, beneficiary: str, iban: str, ctx: ActionContext) -> dict:
    # A real bank API would take ctx.idempotency_key, so a retried call is
    # recognised there too.
    SENT.append(
        {
            "conversation": ctx.conversation_id,
            "amount": amount,
            "to": beneficiary,
            "iban": iban,
            "key": ctx.idempotency_key,
        }
    )
    return {"transaction_id": f"TX-{ctx.idempotency_key[-8:]}"}
