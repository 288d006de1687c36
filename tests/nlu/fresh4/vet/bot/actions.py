"""Handlers of the vet clinic bot: a pretend appointment book and dispensary in memory."""

import hashlib
from datetime import date, time
from typing import Any

from soni import ActionContext, ActionRegistry, validator

# Free times by weekday (Monday is 0); Saturday is a morning clinic, Sunday closed.
WEEKDAY_TIMES = [
    time(h, m)
    for h, m in [
        (9, 0),
        (9, 30),
        (10, 45),
        (11, 0),
        (12, 0),
        (14, 0),
        (14, 30),
        (15, 30),
        (16, 15),
        (17, 0),
    ]
]
SATURDAY_TIMES = [time(9, 15), time(10, 0), time(10, 45), time(11, 30), time(12, 0)]
TAKEN: set[tuple[date, time]] = set()  # times booked through the bot

APPOINTMENTS: dict[str, dict[str, Any]] = {
    "VT-30418": {"pet": "Biscuit", "day": date(2026, 12, 14), "time": time(10, 30)},
    "VT-27765": {"pet": "Mochi", "day": date(2026, 12, 15), "time": time(16, 0)},
    "VT-41102": {"pet": "Pip", "day": date(2026, 12, 19), "time": time(9, 15)},
    "VT-50927": {"pet": "Shadow", "day": date(2026, 12, 22), "time": time(11, 45)},
}
ORDERS: list[dict[str, Any]] = []  # each prescription order, for tests


def _times_of(day: date) -> list[time]:
    if day.weekday() == 6:
        return []
    base = SATURDAY_TIMES if day.weekday() == 5 else WEEKDAY_TIMES
    return [t for t in base if (day, t) not in TAKEN]


def _number(prefix: str, key: str) -> str:
    digits = int(hashlib.sha256(key.encode()).hexdigest(), 16) % 90000 + 10000
    return f"{prefix}-{digits}"


@validator("clinic_open")
def clinic_open(value: date) -> bool:
    return value.weekday() != 6


@validator("free_time")
def free_time(value: time, slots: dict[str, Any]) -> bool:
    day = slots.get("visit_day")
    if not isinstance(day, date):
        return True
    free = _times_of(day)
    if value not in free:
        listed = ", ".join(t.strftime("%H:%M") for t in free) or "nothing"
        raise ValueError(f"{value.strftime('%H:%M')} isn't free that day; free: {listed}.")
    return True


@ActionRegistry.register("find_free_times", idempotent=True)
def find_free_times(visit_day: date) -> dict[str, str]:
    free = _times_of(visit_day)
    return {"free_times": ", ".join(t.strftime("%H:%M") for t in free) or "nothing"}


@ActionRegistry.register("book_visit")
def book_visit(
    pet_name: str, species: str, reason: str, visit_day: date, visit_time: time, ctx: ActionContext
) -> dict[str, str]:
    reference = _number("VT", ctx.idempotency_key)
    TAKEN.add((visit_day, visit_time))
    APPOINTMENTS[reference] = {"pet": pet_name, "day": visit_day, "time": visit_time}
    return {"reference": reference}


@ActionRegistry.register("find_appointment", idempotent=True)
def find_appointment(appointment_ref: str) -> dict[str, Any]:
    found = APPOINTMENTS.get(appointment_ref.strip().upper())
    if found is None:
        raise LookupError(f"no appointment {appointment_ref!r}")
    # Times said as people write them (10:30, not 10:30:00).
    return {"pet": found["pet"], "day": found["day"], "time": found["time"].strftime("%H:%M")}


@ActionRegistry.register("move_appointment")
def move_appointment(appointment_ref: str, visit_day: date, visit_time: time) -> None:
    found = APPOINTMENTS[appointment_ref.strip().upper()]
    TAKEN.add((visit_day, visit_time))
    found.update(day=visit_day, time=visit_time)


@ActionRegistry.register("cancel_visit")
def cancel_visit(appointment_ref: str) -> None:
    APPOINTMENTS.pop(appointment_ref.strip().upper(), None)


def _order(pet_name: str, medicine: str, boxes: int, how: str, key: str) -> dict[str, str]:
    number = _number("RP", key)
    ORDERS.append(
        {"pet": pet_name, "medicine": medicine, "boxes": boxes, "how": how, "number": number}
    )
    return {"order_number": number}


@ActionRegistry.register("order_for_pickup")
def order_for_pickup(
    pet_name: str, medicine: str, boxes: int, ctx: ActionContext
) -> dict[str, str]:
    return _order(pet_name, medicine, boxes, "pickup", ctx.idempotency_key)


@ActionRegistry.register("order_for_delivery")
def order_for_delivery(
    pet_name: str, medicine: str, boxes: int, ctx: ActionContext
) -> dict[str, str]:
    return _order(pet_name, medicine, boxes, "delivery", ctx.idempotency_key)
