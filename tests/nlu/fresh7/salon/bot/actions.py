"""Handlers of the salon bot: a pretend appointment book kept in memory."""

from datetime import date, time

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

STYLISTS = ["Marta", "Leo", "Priya"]
PRICES = {
    "cut": (38, "45 minutes"),
    "colour": (85, "2 to 2.5 hours"),
    "blow-dry": (28, "30 minutes"),
    "beard trim": (15, "20 minutes"),
    "manicure": (25, "40 minutes"),
}
CLOSED_WEEKDAYS = {0, 6}  # Monday, Sunday
LATE_FEE = 15

# reference -> booking; two existing ones to reschedule or cancel
BOOKINGS: dict[str, dict[str, object]] = {
    "SAL-1234": {
        "service": "cut",
        "date": date(2026, 12, 16),
        "time": time(11, 0),
        "with": "Marta",
    },
    "SAL-4471": {
        "service": "colour",
        "date": date(2026, 12, 19),
        "time": time(10, 30),
        "with": "Priya",
    },
    "SAL-4417": {
        "service": "blow-dry",
        "date": date(2026, 12, 17),
        "time": time(9, 30),
        "with": "Leo",
    },
    "SAL-2080": {
        "service": "manicure",
        "date": date(2027, 1, 8),
        "time": time(15, 0),
        "with": "Leo",
    },
}
VOUCHERS: dict[str, dict[str, object]] = {}
TAKEN_TIMES = {(date(2026, 12, 19), time(12, 0))}


@validator("voucher_range")
def voucher_range(value: float) -> bool:
    if not 10 <= value <= 300:
        raise ValueError("Vouchers go from 10 to 300 GBP.")
    return True


@ActionRegistry.register("find_free_slots", idempotent=True)
def find_free_slots(service: str, stylist: str, appointment_date: date) -> dict[str, object]:
    if appointment_date.weekday() in CLOSED_WEEKDAYS:
        raise LookupError("closed that day")
    times = [time(10, 0), time(13, 30), time(16, 15)]
    if stylist == "anyone":
        who = ["Priya", "Leo", "Marta"]
    else:
        who = [stylist] * 3
    # Times go out as "HH:MM" text: a datetime.time from a handler is shown as 10:00:00.
    return {
        "time_1": times[0].strftime("%H:%M"),
        "time_2": times[1].strftime("%H:%M"),
        "time_3": times[2].strftime("%H:%M"),
        "who_1": who[0],
        "who_2": who[1],
        "who_3": who[2],
    }


def _book(
    service: str, client_name: str, day: date, at: object, who: str, ctx: ActionContext
) -> dict[str, object]:
    if isinstance(at, str):
        at = time.fromisoformat(at)
    reference = f"SAL-{len(BOOKINGS) + 1000 + 1:04d}"
    BOOKINGS[reference] = {
        "service": service,
        "date": day,
        "time": at,
        "with": who,
        "name": client_name,
        "key": ctx.idempotency_key,
    }
    return {"booking_ref": reference, "booked_time": at.strftime("%H:%M"), "booked_with": who}


@ActionRegistry.register("book_slot_1")
def book_slot_1(
    service: str,
    client_name: str,
    appointment_date: date,
    time_1: str,
    who_1: str,
    ctx: ActionContext,
) -> dict[str, object]:
    return _book(service, client_name, appointment_date, time_1, who_1, ctx)


@ActionRegistry.register("book_slot_2")
def book_slot_2(
    service: str,
    client_name: str,
    appointment_date: date,
    time_2: str,
    who_2: str,
    ctx: ActionContext,
) -> dict[str, object]:
    return _book(service, client_name, appointment_date, time_2, who_2, ctx)


@ActionRegistry.register("book_slot_3")
def book_slot_3(
    service: str,
    client_name: str,
    appointment_date: date,
    time_3: str,
    who_3: str,
    ctx: ActionContext,
) -> dict[str, object]:
    return _book(service, client_name, appointment_date, time_3, who_3, ctx)


@ActionRegistry.register("lookup_booking", idempotent=True)
def lookup_booking(booking_ref: str) -> dict[str, object]:
    booking = BOOKINGS.get(booking_ref.strip().upper())
    if booking is None:
        raise LookupError(f"no booking {booking_ref!r}")
    today = date.today()
    late = (booking["date"] - today).days <= 1  # type: ignore[operator]
    note = (
        f"It's less than 24 hours away, so a {LATE_FEE} GBP late-cancellation fee applies."
        if late
        else "There's no fee for cancelling."
    )
    return {
        "service": booking["service"],
        "date": booking["date"],
        "time": booking["time"].strftime("%H:%M"),
        "fee_note": note,
    }  # type: ignore[attr-defined]


@ActionRegistry.register("move_booking")
def move_booking(booking_ref: str, new_date: date, new_time: time) -> dict[str, str]:
    if new_date.weekday() in CLOSED_WEEKDAYS or (new_date, new_time) in TAKEN_TIMES:
        raise LookupError("that time is not free")
    booking = BOOKINGS[booking_ref.strip().upper()]
    booking["date"], booking["time"] = new_date, new_time
    return {"status": "moved"}


@ActionRegistry.register("cancel_booking")
def cancel_booking(booking_ref: str, ctx: ActionContext) -> dict[str, object]:
    booking = BOOKINGS.pop(booking_ref.strip().upper())
    late = (booking["date"] - date.today()).days <= 1  # type: ignore[operator]
    return {"fee_charged": LATE_FEE if late else 0}


@ActionRegistry.register("pay_voucher")
def pay_voucher(
    voucher_amount: float,
    recipient_name: str,
    voucher_message: str,
    buyer_email: str,
    ctx: ActionContext,
) -> dict[str, str]:
    code = f"GIFT-{ctx.idempotency_key[-6:].upper()}"
    VOUCHERS[code] = {
        "amount": voucher_amount,
        "to": recipient_name,
        "message": voucher_message,
        "email": buyer_email,
    }
    return {"code": code}


@ActionRegistry.register("get_service_info", idempotent=True)
def get_service_info(info_service: str) -> dict[str, object]:
    price, duration = PRICES[info_service]
    return {"price": price, "duration": duration}
