"""Handlers of the restaurant bot: a pretend reservation book and kitchen, in memory."""

from datetime import date

from soni import ActionContext, ActionRegistry

BOOKINGS: dict[str, dict[str, object]] = {
    "BK-1234": {"name": "Ana López", "people": 4, "date": date(2026, 12, 12), "time": "20:30"},
    "BK-5678": {"name": "Tom Baker", "people": 2, "date": date(2026, 12, 8), "time": "13:30"},
}
ORDERS: dict[str, dict[str, object]] = {}
FULL = {("2026-12-24", "21:00")}  # a sold-out seating, to show on_error


def _summary(ref: str) -> str:
    b = BOOKINGS[ref]
    return f"{b['people']} people on {b['date']} at {b['time']} for {b['name']}"


@ActionRegistry.register("make_booking")
def make_booking(
    guest_name: str,
    party_size: int,
    booking_date: date,
    booking_time: str,
    seating: str,
    ctx: ActionContext,
) -> dict[str, str]:
    if (booking_date.isoformat(), booking_time) in FULL:
        raise LookupError("that seating is full")
    ref = f"BK-{abs(hash(ctx.idempotency_key)) % 9000 + 1000}"
    BOOKINGS[ref] = {
        "name": guest_name,
        "people": party_size,
        "date": booking_date,
        "time": booking_time,
        "seating": seating,
    }
    return {"booking_ref": ref}


@ActionRegistry.register("find_booking", idempotent=True)
def find_booking(booking_ref: str) -> dict[str, str]:
    ref = booking_ref.strip().upper()
    if ref not in BOOKINGS:
        raise LookupError(f"no booking {booking_ref!r}")
    return {"booking_summary": _summary(ref)}


@ActionRegistry.register("move_booking")
def move_booking(booking_ref: str, booking_date: date, booking_time: str) -> dict[str, str]:
    ref = booking_ref.strip().upper()
    if (booking_date.isoformat(), booking_time) in FULL:
        raise LookupError("that seating is full")
    BOOKINGS[ref].update(date=booking_date, time=booking_time)
    return {"booking_summary": _summary(ref)}


@ActionRegistry.register("cancel_booking")
def cancel_booking(booking_ref: str) -> dict[str, str]:
    BOOKINGS.pop(booking_ref.strip().upper(), None)
    return {}


def _order(
    dish: str, quantity: int, pickup_time: str, guest_name: str, paid: bool
) -> dict[str, str]:
    ref = f"TA-{len(ORDERS) + 101}"
    ORDERS[ref] = {
        "dish": dish,
        "quantity": quantity,
        "pickup": pickup_time,
        "name": guest_name,
        "paid": paid,
    }
    return {"order_ref": ref}


@ActionRegistry.register("pay_online")
def pay_online(dish: str, quantity: int, pickup_time: str, guest_name: str) -> dict[str, str]:
    return _order(dish, quantity, pickup_time, guest_name, paid=True)


@ActionRegistry.register("pay_at_pickup")
def pay_at_pickup(dish: str, quantity: int, pickup_time: str, guest_name: str) -> dict[str, str]:
    return _order(dish, quantity, pickup_time, guest_name, paid=False)
