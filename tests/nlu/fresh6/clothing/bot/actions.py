"""Handlers of the clothing shop assistant: a pretend shop that keeps its orders in memory."""

from __future__ import annotations

from datetime import date, time

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

# order number -> (status, eta sentence, dispatched?, {item: sizes in stock})
ORDERS: dict[str, dict[str, object]] = {
    "ORD-482913": {
        "status": "out for delivery",
        "eta": "It should reach you today before 9pm.",
        "dispatched": True,
        "stock": {"trousers": ["S", "M", "XL"], "knitwear": ["M", "L"]},
    },
    "ORD-100235": {
        "status": "being packed",
        "eta": "It leaves our warehouse tomorrow and arrives in 2-3 working days.",
        "dispatched": False,
        "stock": {"dress": ["S", "M", "L"], "shoes": []},
    },
    "ORD-775310": {
        "status": "delivered",
        "eta": "It was delivered on Monday and signed for.",
        "dispatched": True,
        "stock": {"jacket": ["M", "L", "XL"], "top": ["S", "M", "L", "XL"]},
    },
}
GIFT_CARDS = {"GC-7KQ2-M9XD": 50.0, "GC-A1B2-C3D4": 25.0}
DISCOUNTS = {"XMAS25": 25, "WELCOME10": 10, "STUDENT15": 15}
RETURNS: list[dict[str, object]] = []
EXCHANGES: list[dict[str, object]] = []
ADDRESSES: dict[str, str] = {}


def _order(order_number: str) -> dict[str, object]:
    order = ORDERS.get(order_number.strip().upper())
    if order is None:
        raise LookupError(f"no order {order_number!r}")
    return order


@validator("collection_day")
def collection_day(value: date) -> bool:
    if value.weekday() == 6:
        raise ValueError("Our couriers don't collect on Sundays. Which other day suits you?")
    return True


@validator("collection_hours")
def collection_hours(value: time) -> bool:
    if not time(8, 0) <= value <= time(18, 0):
        raise ValueError("Collections run from 08:00 to 18:00. What time in that window?")
    return True


@ActionRegistry.register("get_order_status", idempotent=True)
def get_order_status(order_number: str) -> dict[str, str]:
    order = _order(order_number)
    return {"status": str(order["status"]), "eta": str(order["eta"])}


def find_return(ctx: ActionContext) -> dict[str, str] | None:
    for entry in RETURNS:
        if entry["key"] == ctx.idempotency_key:
            return {"reference": str(entry["reference"])}
    return None


@ActionRegistry.register("register_return", reconcile=find_return)
def register_return(
    order_number: str,
    item: str,
    quantity: int,
    return_reason: str,
    refund_method: str,
    return_method: str,
    ctx: ActionContext,
    pickup_date: date | None = None,
    pickup_time: time | None = None,
) -> dict[str, str]:
    _order(order_number)
    reference = f"RT-{ctx.idempotency_key[-6:].upper()}"
    RETURNS.append(
        {
            "key": ctx.idempotency_key,
            "reference": reference,
            "order": order_number.upper(),
            "item": item,
            "quantity": quantity,
            "reason": return_reason,
            "refund": refund_method,
            "method": return_method,
            "pickup": (pickup_date, pickup_time),
        }
    )
    return {"reference": reference}


@ActionRegistry.register("check_sizes", idempotent=True)
def check_sizes(order_number: str, item: str) -> dict[str, str]:
    stock = _order(order_number)["stock"]
    sizes = list(stock.get(item, ["S", "M", "L", "XL"]))  # type: ignore[union-attr]
    if not sizes:
        raise LookupError(f"{item} is sold out")
    text = sizes[0] if len(sizes) == 1 else ", ".join(sizes[:-1]) + " and " + sizes[-1]
    return {"sizes": text}


def _exchange(size: str, order_number: str, item: str, ctx: ActionContext) -> dict[str, str]:
    stock = _order(order_number)["stock"]
    if size not in stock.get(item, ["S", "M", "L", "XL"]):  # type: ignore[union-attr]
        raise LookupError(f"{item} in {size} is out of stock")
    reference = f"EX-{ctx.idempotency_key[-6:].upper()}"
    EXCHANGES.append(
        {"key": ctx.idempotency_key, "order": order_number, "item": item, "size": size}
    )
    return {"new_size": size, "exchange_reference": reference}


@ActionRegistry.register("exchange_to_s")
def exchange_to_s(order_number: str, item: str, ctx: ActionContext) -> dict[str, str]:
    return _exchange("S", order_number, item, ctx)


@ActionRegistry.register("exchange_to_m")
def exchange_to_m(order_number: str, item: str, ctx: ActionContext) -> dict[str, str]:
    return _exchange("M", order_number, item, ctx)


@ActionRegistry.register("exchange_to_l")
def exchange_to_l(order_number: str, item: str, ctx: ActionContext) -> dict[str, str]:
    return _exchange("L", order_number, item, ctx)


@ActionRegistry.register("exchange_to_xl")
def exchange_to_xl(order_number: str, item: str, ctx: ActionContext) -> dict[str, str]:
    return _exchange("XL", order_number, item, ctx)


@ActionRegistry.register("check_dispatch", idempotent=True)
def check_dispatch(order_number: str) -> dict[str, bool]:
    return {"dispatched": bool(_order(order_number)["dispatched"])}


@ActionRegistry.register("update_address", idempotent=True)
def update_address(order_number: str, new_address: str) -> dict[str, bool]:
    order_number = order_number.strip().upper()
    if _order(order_number)["dispatched"]:
        raise RuntimeError("already dispatched")
    ADDRESSES[order_number] = new_address
    return {"done": True}


@ActionRegistry.register("apply_code", idempotent=True)
def apply_code(code: str) -> dict[str, str]:
    code = code.strip().upper()
    if code in GIFT_CARDS:
        return {"result": f"Gift card {code} applied: {GIFT_CARDS[code]:.2f} GBP off your basket."}
    if code in DISCOUNTS:
        return {"result": f"Code {code} applied: {DISCOUNTS[code]}% off your basket."}
    raise LookupError(f"unknown code {code!r}")
