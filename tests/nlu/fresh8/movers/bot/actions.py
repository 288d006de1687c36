"""Handlers of the movers bot: a pretend removals company that keeps its diary in memory."""

from __future__ import annotations

from datetime import date, time

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

BASE_PRICE = {"studio": 290, "1-bed": 420, "2-bed": 610, "3-bed+": 980}
HOURS = {"studio": 3, "1-bed": 4, "2-bed": 6, "3-bed+": 9}
PACKING_PRICE = {"studio": 90, "1-bed": 140, "2-bed": 220, "3-bed+": 380}
FULLY_BOOKED = {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)}

# The diary: booking reference -> booking.
BOOKINGS: dict[str, dict[str, object]] = {
    "MV-20417": {"date": date(2027, 1, 9), "time": time(8, 0), "size": "2-bed", "deposit": 150.0},
    "MV-31188": {
        "date": date(2026, 12, 19),
        "time": time(9, 30),
        "size": "studio",
        "deposit": 80.0,
    },
    "MV-40522": {"date": date(2027, 2, 1), "time": time(7, 30), "size": "3-bed+", "deposit": 250.0},
}
PAYMENTS: dict[str, str] = {}  # idempotency key -> payment receipt
CANCELLED: set[str] = set()


@validator("cover_limit")
def cover_limit(value: float) -> bool:
    if value <= 0:
        raise ValueError("The cover amount has to be more than £0.")
    if value > 100_000:
        raise ValueError("We can insure a move for up to £100,000; for more, please call us.")
    return True


def _booking(booking_ref: str) -> dict[str, object]:
    ref = booking_ref.strip().upper()
    if ref not in BOOKINGS or ref in CANCELLED:
        raise LookupError(f"no active booking {booking_ref!r}")
    return BOOKINGS[ref]


@ActionRegistry.register("calculate_quote", idempotent=True)
def calculate_quote(
    from_address: str, to_address: str, home_size: str, move_date: date, packing: bool
) -> dict[str, object]:
    price = BASE_PRICE[home_size] + (PACKING_PRICE[home_size] if packing else 0)
    if move_date.weekday() >= 5:  # weekends cost a little more
        price = round(price * 1.15)
    hours = HOURS[home_size] + (4 if packing else 0)
    return {"quote_amount": float(price), "estimated_hours": hours}


@ActionRegistry.register("check_availability", idempotent=True)
def check_availability(move_date: date, home_size: str, packing: bool) -> dict[str, int]:
    if move_date in FULLY_BOOKED:
        raise LookupError(f"no crew free on {move_date}")
    base = BASE_PRICE[home_size] + (PACKING_PRICE[home_size] if packing else 0)
    return {"price_small": base, "price_luton": round(base * 1.35), "price_two": round(base * 1.9)}


def _reserve(
    kind: str, home_size: str, move_date: date, start_time: time, ctx: ActionContext
) -> dict:
    ref = f"MV-{50000 + len(BOOKINGS)}"
    BOOKINGS[ref] = {
        "date": move_date,
        "time": start_time,
        "size": home_size,
        "crew": kind,
        "deposit": 100.0 if kind == "small" else 150.0 if kind == "luton" else 250.0,
        "key": ctx.idempotency_key,
    }
    return {"booking_ref": ref, "deposit": BOOKINGS[ref]["deposit"]}


def _find_reservation(ctx: ActionContext) -> dict | None:
    for ref, booking in BOOKINGS.items():
        if booking.get("key") == ctx.idempotency_key:
            return {"booking_ref": ref, "deposit": booking["deposit"]}
    return None


@ActionRegistry.register("reserve_small_van", reconcile=_find_reservation)
def reserve_small_van(
    home_size: str, move_date: date, start_time: time, ctx: ActionContext
) -> dict[str, object]:
    return _reserve("small", home_size, move_date, start_time, ctx)


@ActionRegistry.register("reserve_luton_van", reconcile=_find_reservation)
def reserve_luton_van(
    home_size: str, move_date: date, start_time: time, ctx: ActionContext
) -> dict[str, object]:
    return _reserve("luton", home_size, move_date, start_time, ctx)


@ActionRegistry.register("reserve_two_vans", reconcile=_find_reservation)
def reserve_two_vans(
    home_size: str, move_date: date, start_time: time, ctx: ActionContext
) -> dict[str, object]:
    return _reserve("two", home_size, move_date, start_time, ctx)


def _find_payment(ctx: ActionContext) -> dict | None:
    receipt = PAYMENTS.get(ctx.idempotency_key)
    return None if receipt is None else {"payment_ref": receipt}


@ActionRegistry.register("pay_deposit", reconcile=_find_payment)
def pay_deposit(booking_ref: str, deposit: float, ctx: ActionContext) -> dict[str, str]:
    _booking(booking_ref)
    PAYMENTS[ctx.idempotency_key] = f"PAY-{ctx.idempotency_key[-6:].upper()}"
    return {"payment_ref": PAYMENTS[ctx.idempotency_key]}


@ActionRegistry.register("reschedule_booking", idempotent=True)
def reschedule_booking(booking_ref: str, new_date: date, new_time: time) -> dict[str, str]:
    booking = _booking(booking_ref)
    if new_date in FULLY_BOOKED:
        raise LookupError(f"no crew free on {new_date}")
    booking["date"], booking["time"] = new_date, new_time
    return {}


@ActionRegistry.register("price_cover", idempotent=True)
def price_cover(booking_ref: str, cover_amount: float) -> dict[str, float]:
    _booking(booking_ref)
    return {"premium": round(max(15.0, cover_amount * 0.004), 2)}


@ActionRegistry.register("add_cover", idempotent=True)
def add_cover(booking_ref: str, cover_amount: float, premium: float) -> dict[str, str]:
    _booking(booking_ref)["cover"] = cover_amount
    return {}


@ActionRegistry.register("get_cancellation_fee", idempotent=True)
def get_cancellation_fee(booking_ref: str) -> dict[str, object]:
    booking = _booking(booking_ref)
    days = (booking["date"] - date.today()).days  # type: ignore[operator]
    fee = 0.0 if days > 14 else 50.0 if days > 7 else float(booking["deposit"])  # type: ignore[arg-type]
    return {"cancellation_fee": fee, "days_before": max(days, 0)}


@ActionRegistry.register("cancel_move", idempotent=True)
def cancel_move(booking_ref: str) -> dict[str, str]:
    _booking(booking_ref)
    CANCELLED.add(booking_ref.strip().upper())
    return {}
