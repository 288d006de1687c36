"""Handlers of the food delivery bot: a pretend delivery app that keeps its orders in memory."""

from datetime import date, time

from soni import ActionContext, ActionRegistry

# order number -> (status, minutes to go)
ORDERS: dict[str, tuple[str, int]] = {
    "FD-904412": ("being prepared", 35),
    "FD-118230": ("on its way", 12),
    "FD-557301": ("delivered", 0),
    "FD-660045": ("being prepared", 40),
}
CASES: dict[str, dict[str, object]] = {}
TIPS: dict[str, float] = {}
ADDRESSES: dict[str, str] = {}
HOURS = {
    0: "12:00-23:00",
    1: "12:00-23:00",
    2: "12:00-23:00",
    3: "12:00-23:00",
    4: "12:00-00:30",
    5: "12:00-00:30",
    6: "13:00-22:00",
}


def _order(order_number: str) -> str:
    """The canonical number (FD-904412) of a known order; LookupError otherwise."""
    digits = order_number.strip().upper().removeprefix("FD").lstrip("-")
    number = f"FD-{digits}"
    if number not in ORDERS:
        raise LookupError(f"no order {order_number!r}")
    return number


@ActionRegistry.register("get_order_status", idempotent=True)
def get_order_status(order_number: str) -> dict[str, object]:
    status, eta = ORDERS[_order(order_number)]
    return {"status": status, "eta": eta}


@ActionRegistry.register("log_problem")
def log_problem(
    order_number: str,
    problem: str,
    ctx: ActionContext,
    items: str = "",
    arrived_at: time | None = None,
) -> dict[str, str]:
    number = _order(order_number)
    case_id = f"C-{ctx.idempotency_key[-6:].upper()}"
    CASES[case_id] = {
        "order": number,
        "problem": problem,
        "items": items,
        "arrived_at": arrived_at,
    }
    return {"case_id": case_id}


@ActionRegistry.register("refund_to_card")
def refund_to_card(order_number: str, case_id: str) -> dict[str, str]:
    CASES.setdefault(case_id, {})["remedy"] = "refund"
    return {"outcome": f"the money for order {order_number} goes back to your card in 3-5 days"}


@ActionRegistry.register("app_credit")
def app_credit(order_number: str, case_id: str) -> dict[str, str]:
    CASES.setdefault(case_id, {})["remedy"] = "credit"
    return {"outcome": "the credit is in your app wallet now"}


@ActionRegistry.register("redeliver")
def redeliver(order_number: str, case_id: str) -> dict[str, str]:
    CASES.setdefault(case_id, {})["remedy"] = "redeliver"
    return {"outcome": "a rider brings it again within 40 minutes"}


@ActionRegistry.register("cancel_order")
def cancel_order(order_number: str) -> dict[str, str]:
    number = _order(order_number)
    status, _ = ORDERS[number]
    if status != "being prepared":
        raise RuntimeError(f"order {number} is {status}")
    ORDERS[number] = ("cancelled", 0)
    return {"outcome": "you get a full refund"}


@ActionRegistry.register("update_address")
def update_address(order_number: str, new_address: str) -> dict[str, str]:
    number = _order(order_number)
    status, _ = ORDERS[number]
    if status != "being prepared":
        raise RuntimeError(f"order {number} is {status}")
    ADDRESSES[number] = new_address
    return {"outcome": f"it goes to {new_address}"}


@ActionRegistry.register("give_tip")
def give_tip(order_number: str, tip_amount: float) -> dict[str, str]:
    number = _order(order_number)
    TIPS[number] = TIPS.get(number, 0.0) + tip_amount
    return {"outcome": f"{tip_amount:.2f} EUR tip added"}


@ActionRegistry.register("get_kitchen_hours", idempotent=True)
def get_kitchen_hours(hours_day: date) -> dict[str, str]:
    return {"hours": HOURS[hours_day.weekday()]}
