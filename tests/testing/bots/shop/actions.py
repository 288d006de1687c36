"""Handlers of the test shop: a stock that fails for "unobtainium"."""

from soni import ActionRegistry


@ActionRegistry.register("check_stock")
def check_stock(item: str) -> dict[str, int]:
    if item == "unobtainium":
        raise LookupError("no such item")
    return {"stock": 10}


@ActionRegistry.register("place_order")
def place_order(item: str, quantity: int) -> dict[str, str]:
    return {"reference": f"ORD-{quantity}-{item}"}


@ActionRegistry.register("refund_item")
def refund_item(item: str) -> dict[str, str]:
    return {"outcome": f"{item} refunded"}


@ActionRegistry.register("replace_item")
def replace_item(item: str) -> dict[str, str]:
    return {"outcome": f"{item} replaced"}
