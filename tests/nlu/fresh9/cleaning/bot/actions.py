"""Handlers of the cleaning bot: a pretend home-cleaning agency kept in memory."""

from datetime import date, datetime, time, timedelta

from soni import ActionContext, ActionRegistry

BASE_PRICE = {"regular": 60.0, "deep clean": 120.0, "end of tenancy": 180.0, "windows": 40.0}
PER_EXTRA_BEDROOM = 15.0
EXTRA_PRICE = {"oven": 35.0, "fridge": 20.0, "ironing": 25.0}
CLEANERS = ["Maria", "Tomasz", "Aisha", "Grace", "Dev"]

# Bookings by reference: upcoming ones can take extras, plans have a next visit.
BOOKINGS: dict[str, dict[str, object]] = {
    "CL-4821": {
        "type": "regular",
        "bedrooms": 2,
        "date": date(2026, 12, 22),
        "extras": [],
        "plan": True,
        "cleaner": "Maria",
    },
    "CL-1093": {
        "type": "deep clean",
        "bedrooms": 3,
        "date": date(2026, 12, 28),
        "extras": [],
        "plan": False,
        "cleaner": "Tomasz",
    },
    "CL-2231": {
        "type": "regular",
        "bedrooms": 1,
        "date": date(2026, 12, 18),
        "extras": ["ironing"],
        "plan": True,
        "cleaner": "Aisha",
    },
}
SKIPPED: list[dict[str, object]] = []
PROBLEMS: dict[str, dict[str, object]] = {}
RECLEANS: list[dict[str, object]] = []


def _price(kind: str, bedrooms: int, extras: list) -> float:
    base = BASE_PRICE.get(kind, 60.0) + PER_EXTRA_BEDROOM * max(bedrooms - 1, 0)
    return base + sum(EXTRA_PRICE[e] for e in extras)


def _as_date(value: object) -> date:
    # An approved action's arguments come back from the confirmation store as text.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _as_time(value: object) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def _hhmm(value: object) -> str:
    return _as_time(value).strftime("%H:%M")


def _shift(at: time, hours: int) -> time:
    moved = datetime.combine(date(2000, 1, 1), at) + timedelta(hours=hours)
    return max(time(8, 0), min(moved.time(), time(16, 0)))


@ActionRegistry.register("find_cleaner_slots", idempotent=True)
def find_cleaner_slots(
    cleaning_type: str, bedrooms: int, cleaning_date: date, preferred_time: time
) -> dict[str, object]:
    cleaning_date, preferred_time = _as_date(cleaning_date), _as_time(preferred_time)
    if cleaning_date.weekday() == 6:
        raise LookupError("we do not clean on Sundays")
    start = cleaning_date.toordinal() % len(CLEANERS)
    names = [CLEANERS[(start + i) % len(CLEANERS)] for i in range(3)]
    times = [_shift(preferred_time, -1), _shift(preferred_time, 0), _shift(preferred_time, 2)]
    return {
        "slot_a_time": _hhmm(times[0]),
        "slot_a_cleaner": names[0],
        "slot_b_time": _hhmm(times[1]),
        "slot_b_cleaner": names[1],
        "slot_c_time": _hhmm(times[2]),
        "slot_c_cleaner": names[2],
    }


def _book(
    kind: str, bedrooms: int, address: str, day: date, at: time, cleaner: str, ctx: ActionContext
) -> dict[str, object]:
    reference = f"CL-{int(ctx.idempotency_key[-4:], 16) % 9000 + 1000}"
    BOOKINGS[reference] = {
        "type": kind,
        "bedrooms": bedrooms,
        "address": address,
        "date": day,
        "time": at,
        "extras": [],
        "plan": False,
        "cleaner": cleaner,
    }
    return {
        "new_reference": reference,
        "booked_time": _hhmm(at),
        "booked_cleaner": cleaner,
        "quoted_price": _price(kind, bedrooms, []),
    }


@ActionRegistry.register("book_slot_a")
def book_slot_a(
    cleaning_type: str,
    bedrooms: int,
    address: str,
    cleaning_date: date,
    slot_a_time: time,
    slot_a_cleaner: str,
    ctx: ActionContext,
) -> dict:
    return _book(cleaning_type, bedrooms, address, cleaning_date, slot_a_time, slot_a_cleaner, ctx)


@ActionRegistry.register("book_slot_b")
def book_slot_b(
    cleaning_type: str,
    bedrooms: int,
    address: str,
    cleaning_date: date,
    slot_b_time: time,
    slot_b_cleaner: str,
    ctx: ActionContext,
) -> dict:
    return _book(cleaning_type, bedrooms, address, cleaning_date, slot_b_time, slot_b_cleaner, ctx)


@ActionRegistry.register("book_slot_c")
def book_slot_c(
    cleaning_type: str,
    bedrooms: int,
    address: str,
    cleaning_date: date,
    slot_c_time: time,
    slot_c_cleaner: str,
    ctx: ActionContext,
) -> dict:
    return _book(cleaning_type, bedrooms, address, cleaning_date, slot_c_time, slot_c_cleaner, ctx)


def _booking(booking_ref: str) -> dict[str, object]:
    booking = BOOKINGS.get(booking_ref.strip().upper())
    if booking is None:
        raise LookupError(f"no booking {booking_ref!r}")
    return booking


@ActionRegistry.register("quote_extra", idempotent=True)
def quote_extra(booking_ref: str, extra: str) -> dict[str, float]:
    booking = _booking(booking_ref)
    extras = list(booking["extras"]) + [extra]  # type: ignore[arg-type]
    return {
        "extra_price": EXTRA_PRICE[extra],
        "new_total": _price(str(booking["type"]), int(booking["bedrooms"]), extras),
    }  # type: ignore[arg-type]


@ActionRegistry.register("add_extra")
def add_extra(booking_ref: str, extra: str, extra_price: float) -> dict[str, float]:
    booking = _booking(booking_ref)
    extras = booking["extras"]
    assert isinstance(extras, list)
    if extra not in extras:
        extras.append(extra)
    return {"new_total": _price(str(booking["type"]), int(booking["bedrooms"]), extras)}  # type: ignore[arg-type]


@ActionRegistry.register("find_next_visit", idempotent=True)
def find_next_visit(booking_ref: str) -> dict[str, object]:
    booking = _booking(booking_ref)
    if not booking["plan"]:
        raise LookupError(f"{booking_ref} is a one-off booking")
    return {"next_visit_date": booking["date"], "plan_cleaner": booking["cleaner"]}


@ActionRegistry.register("skip_next_visit")
def skip_next_visit(booking_ref: str, next_visit_date: date, ctx: ActionContext) -> None:
    booking = _booking(booking_ref)
    SKIPPED.append({"ref": booking_ref, "date": next_visit_date, "key": ctx.idempotency_key})
    booking["date"] = _as_date(next_visit_date) + timedelta(days=7)


@ActionRegistry.register("log_problem")
def log_problem(
    booking_ref: str, visit_date: date, problem: str, ctx: ActionContext
) -> dict[str, str]:
    case = f"Q-{len(PROBLEMS) + 301}"
    PROBLEMS[case] = {
        "ref": booking_ref,
        "date": visit_date,
        "problem": problem,
        "conversation": ctx.conversation_id,
    }
    return {"case_number": case}


@ActionRegistry.register("request_reclean")
def request_reclean(booking_ref: str, case_number: str, ctx: ActionContext) -> dict[str, date]:
    day = date.today() + timedelta(days=2)
    RECLEANS.append(
        {"ref": booking_ref, "case": case_number, "date": day, "key": ctx.idempotency_key}
    )
    return {"reclean_date": day}
