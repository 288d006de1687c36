"""Handlers of the pharmacy example: a pretend dispensary that records its orders."""

from datetime import date

from soni import ActionContext, ActionRegistry

OUT_OF_STOCK = {"omeprazole"}  # ordering these fails, to show on_error
ORDERS: dict[str, str] = {"RX-1001": "ready for pickup", "RX-1002": "out for delivery"}
PLACED: list[dict[str, object]] = []  # each place_refill call, for the tests


def find_refill(ctx: ActionContext) -> dict[str, str] | None:
    """After a crash lost a refill's outcome: was it placed? (None: it was not.)"""
    reference = f"RX-{ctx.idempotency_key[-6:].upper()}"
    return {"reference": reference} if reference in ORDERS else None


@ActionRegistry.register("place_refill", reconcile=find_refill)
def place_refill(
    medication: str, quantity: int, pickup: str, pickup_date: date, ctx: ActionContext
) -> dict[str, str]:
    if medication in OUT_OF_STOCK:
        raise LookupError(f"{medication} is out of stock")
    # The confirmation's id is the idempotency key: a retried call is recognised.
    reference = f"RX-{ctx.idempotency_key[-6:].upper()}"
    PLACED.append(
        {
            "conversation": ctx.conversation_id,
            "medication": medication,
            "quantity": quantity,
            "pickup": pickup,
            "pickup_date": pickup_date,
            "reference": reference,
        }
    )
    ORDERS[reference] = "being prepared"
    return {"reference": reference}


@ActionRegistry.register("get_order_status", idempotent=True)
def get_order_status(order_number: str) -> dict[str, str]:
    status = ORDERS.get(order_number.strip().upper())
    if status is None:
        raise LookupError(f"no order {order_number!r}")
    return {"status": status}
