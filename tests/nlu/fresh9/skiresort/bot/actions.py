"""Handlers of the ski resort bot: a pretend ticket office, ski school and rental shop."""

from __future__ import annotations

import zlib
from datetime import date, time

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

ADULT_DAY = 62.0
CHILD_DAY = 31.0

# Bookings made earlier, by reference: (what, refund in EUR).
BOOKINGS: dict[str, tuple[str, float]] = {
    "SKI-10234": ("3-day lift passes for 2 adults", 336.0),
    "SKI-20871": ("a beginner child lesson on 2026-12-21", 55.0),
    "SKI-33310": ("a snowboard rental on 2026-12-26", 0.0),
}
CANCELLED: set[str] = set()
SALES: list[dict[str, object]] = []  # every pass, lesson and rental sold, for the tests

INSTRUCTORS = {
    "beginner": ("Lena", "Marco"),
    "intermediate": ("Tom", "Ines"),
    "advanced": ("Pierre", "Sofia"),
}


def _new_reference(ctx: ActionContext) -> str:
    """A SKI-nnnnn reference derived from the idempotency key (a retry gets the same one)."""
    return f"SKI-{zlib.crc32(ctx.idempotency_key.encode()) % 90000 + 10000}"


# --- validators ----------------------------------------------------------------


@validator("in_season")
def in_season(value: date) -> bool:
    if not (value.month in (12, 1, 2, 3) or (value.month == 4 and value.day <= 15)):
        raise ValueError(
            "The resort is open from 1 December to 15 April; please pick a day in the season."
        )
    return True


@validator("pass_length")
def pass_length(value: int) -> bool:
    return 1 <= value <= 14


@validator("boot_size_range")
def boot_size_range(value: float) -> bool:
    return 25 <= value <= 50


@validator("height_range")
def height_range(value: int) -> bool:
    return 90 <= value <= 220


@validator("shop_hours")
def shop_hours(value: time) -> bool:
    if not time(8, 0) <= value <= time(18, 0):
        raise ValueError("The rental shop is open 8:00 to 18:00; please pick a time in between.")
    return True


# --- lift passes ---------------------------------------------------------------


def _discount(days: int) -> float:
    return 0.9 if days >= 6 else 1.0


@ActionRegistry.register("quote_lift_pass", idempotent=True)
def quote_lift_pass(adults: int, children: int, pass_days: int) -> dict[str, float]:
    price = (adults * ADULT_DAY + children * CHILD_DAY) * pass_days * _discount(pass_days)
    return {"pass_price": round(price, 2)}


@ActionRegistry.register("purchase_lift_pass")
def purchase_lift_pass(
    adults: int,
    children: int,
    pass_start: date,
    pass_days: int,
    pass_price: float,
    ctx: ActionContext,
) -> dict[str, str]:
    reference = _new_reference(ctx)
    BOOKINGS[reference] = (f"{pass_days}-day lift passes from {pass_start}", pass_price)
    SALES.append(
        {
            "kind": "pass",
            "reference": reference,
            "adults": adults,
            "children": children,
            "start": pass_start,
            "days": pass_days,
        }
    )
    return {"pass_reference": reference}


# --- ski school ----------------------------------------------------------------


@ActionRegistry.register("find_lesson_slots", idempotent=True)
def find_lesson_slots(lesson_level: str, age_group: str, lesson_date: date) -> dict[str, object]:
    if lesson_date.month == 12 and lesson_date.day in (24, 25):
        raise LookupError("the ski school is closed")
    early, late = INSTRUCTORS.get(lesson_level, ("Lena", "Marco"))
    morning = time(9, 30) if age_group == "child" else time(10, 0)
    return {
        "early_time": morning,
        "early_instructor": early,
        "late_time": time(14, 0),
        "late_instructor": late,
    }


def _book_lesson(
    level: str, group: str, day: date, at: time, who: str, ctx: ActionContext
) -> dict[str, object]:
    reference = _new_reference(ctx)
    BOOKINGS[reference] = (f"a {level} {group} lesson on {day} at {at:%H:%M} with {who}", 55.0)
    SALES.append({"kind": "lesson", "reference": reference, "instructor": who})
    return {"lesson_reference": reference, "lesson_time": at}


@ActionRegistry.register("book_lesson_early")
def book_lesson_early(
    lesson_level: str,
    age_group: str,
    lesson_date: date,
    early_time: time,
    early_instructor: str,
    ctx: ActionContext,
) -> dict[str, object]:
    return _book_lesson(lesson_level, age_group, lesson_date, early_time, early_instructor, ctx)


@ActionRegistry.register("book_lesson_late")
def book_lesson_late(
    lesson_level: str,
    age_group: str,
    lesson_date: date,
    late_time: time,
    late_instructor: str,
    ctx: ActionContext,
) -> dict[str, object]:
    return _book_lesson(lesson_level, age_group, lesson_date, late_time, late_instructor, ctx)


# --- rentals -------------------------------------------------------------------


@ActionRegistry.register("reserve_equipment")
def reserve_equipment(
    equipment: str,
    boot_size: float,
    height: int,
    pickup_date: date,
    pickup_time: time,
    ctx: ActionContext,
) -> dict[str, str]:
    reference = _new_reference(ctx)
    BOOKINGS[reference] = (f"a {equipment} rental on {pickup_date}", 0.0)
    SALES.append(
        {
            "kind": "rental",
            "reference": reference,
            "equipment": equipment,
            "boot_size": boot_size,
            "height": height,
        }
    )
    return {"rental_reference": reference}


# --- cancellations -------------------------------------------------------------


@ActionRegistry.register("lookup_booking", idempotent=True)
def lookup_booking(booking_ref: str) -> dict[str, object]:
    key = booking_ref.strip().upper()
    if key not in BOOKINGS or key in CANCELLED:
        raise LookupError(f"no booking {booking_ref!r}")
    what, refund = BOOKINGS[key]
    return {"booking_summary": what, "refund_amount": refund}


@ActionRegistry.register("cancel_reservation")
def cancel_reservation(booking_ref: str) -> dict[str, str]:
    CANCELLED.add(booking_ref.strip().upper())
    return {}


# --- mountain report -----------------------------------------------------------


@ActionRegistry.register("get_mountain_report", idempotent=True)
def get_mountain_report() -> dict[str, object]:
    return {
        "snow_base": 145,
        "fresh_snow": 20,
        "open_lifts": "Gondola, Col Express, Blanchet, the village drag lifts",
        "closed_lifts": "Glacier chair (wind)",
    }
