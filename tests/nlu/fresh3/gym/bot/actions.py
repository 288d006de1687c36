"""Handlers of the gym bot: a pretend club that keeps its bookings and members in memory."""

import hashlib
from datetime import date, time, timedelta

from soni import ActionContext, ActionRegistry, validator

# When each class runs, every day of the week.
TIMETABLE: dict[str, list[time]] = {
    "yoga": [time(7, 0), time(12, 15), time(19, 0)],
    "spinning": [time(6, 45), time(12, 30), time(18, 30)],
    "pilates": [time(10, 0), time(14, 30), time(17, 45)],
    "hiit": [time(7, 30), time(13, 0), time(18, 0)],
    "boxing": [time(11, 0), time(19, 30)],
}
PLACES_PER_CLASS = 20
PLANS: dict[str, str] = {"GM-48213": "Basic", "GM-10577": "Plus"}
# (member, class, day) -> booking reference
BOOKINGS: dict[tuple[str, str, date], str] = {
    ("GM-48213", "pilates", date(2026, 12, 11)): "BK-7001",
    ("GM-10577", "spinning", date(2026, 12, 10)): "BK-7002",
}
FROZEN: dict[str, tuple[date, date, str]] = {}


def _member(member_number: str) -> str:
    digits = "".join(ch for ch in member_number if ch.isdigit())
    return f"GM-{digits}"


def _say_times(times: list[time]) -> str:
    words = [t.strftime("%H:%M") for t in times]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


@validator("class_time_offered")
def class_time_offered(value: time, slots: dict[str, object]) -> bool:
    times = TIMETABLE.get(str(slots.get("class_type") or ""))
    if times is None or value in times:
        return True  # without a class yet, any time may do; the class is checked later
    raise ValueError(f"There's no {slots['class_type']} class at {value:%H:%M}.")


@validator("freeze_weeks_allowed")
def freeze_weeks_allowed(value: int) -> bool:
    return 1 <= value <= 12


@ActionRegistry.register("list_class_times", idempotent=True)
def list_class_times(class_type: str) -> dict[str, str]:
    return {"times": _say_times(TIMETABLE[class_type])}


@ActionRegistry.register("reserve_class")
def reserve_class(
    class_type: str, class_date: date, class_time: time, member_number: str, ctx: ActionContext
) -> dict[str, str]:
    taken = sum(1 for (_, kind, day) in BOOKINGS if kind == class_type and day == class_date)
    if taken >= PLACES_PER_CLASS:
        raise LookupError(f"{class_type} on {class_date} is full")
    digest = hashlib.sha256(ctx.idempotency_key.encode()).hexdigest()
    reference = f"BK-{digest[:6].upper()}"  # the same for a retried call
    BOOKINGS[(_member(member_number), class_type, class_date)] = reference
    return {"booking_ref": reference}


@ActionRegistry.register("cancel_class_booking")
def cancel_class_booking(member_number: str, class_type: str, class_date: date) -> dict[str, str]:
    reference = BOOKINGS.pop((_member(member_number), class_type, class_date), None)
    if reference is None:
        raise LookupError(f"no {class_type} booking on {class_date} for {member_number}")
    return {"cancelled": reference}


@ActionRegistry.register("apply_freeze")
def apply_freeze(
    member_number: str, freeze_start: date, freeze_weeks: int, freeze_reason: str
) -> dict[str, date]:
    resume = freeze_start + timedelta(weeks=freeze_weeks)
    FROZEN[_member(member_number)] = (freeze_start, resume, freeze_reason)
    return {"resume_date": resume}


@ActionRegistry.register("look_up_plan", idempotent=True)
def look_up_plan(member_number: str) -> dict[str, str]:
    return {"plan": PLANS.get(_member(member_number), "Basic")}


def _move_to(member_number: str, plan: str) -> dict[str, str]:
    PLANS[_member(member_number)] = plan
    return {"new_plan": plan}


@ActionRegistry.register("upgrade_to_plus")
def upgrade_to_plus(member_number: str) -> dict[str, str]:
    return _move_to(member_number, "Plus")


@ActionRegistry.register("upgrade_to_premium")
def upgrade_to_premium(member_number: str) -> dict[str, str]:
    return _move_to(member_number, "Premium")


@ActionRegistry.register("upgrade_to_elite")
def upgrade_to_elite(member_number: str) -> dict[str, str]:
    return _move_to(member_number, "Elite")
