from payments_sdk import Payments

from soni import ActionRegistry


@ActionRegistry.register("send_money")
def send_money(amount: float) -> dict[str, str]:
    """Send money to the one account this bot knows."""
    return {"transaction_id": Payments().send(amount)}
