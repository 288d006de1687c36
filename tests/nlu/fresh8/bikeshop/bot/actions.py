"""Handlers of the bike shop: a pretend workshop diary and rental fleet kept in memory."""

from datetime import date, time

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

# Repair tickets the workshop already has: ticket -> (status, ready)
REPAIRS: dict[str, tuple[str, str]] = {
    "TK-4821": ("waiting for a new derailleur hanger", "Friday 18 December"),
    "TK-5007": ("fixed and ready for pickup", "today"),
    "TK-5010": ("on the stand right now", "tomorrow afternoon"),
}
# Rentals already booked: reference -> (summary, amount refunded on cancelling)
RENTALS: dict[str, tuple[str, float]] = {
    "RN-3310": ("2 city bikes from 2026-12-19 for 3 days", 190.0),
    "RN-3342": ("1 e-bike from 2026-12-21 for 2 days", 220.0),
}
DAY_PRICE = {"city": 15.0, "e-bike": 35.0, "mountain": 25.0, "tandem": 30.0, "kids": 10.0}
DEPOSIT = {"city": 50.0, "e-bike": 150.0, "mountain": 100.0, "tandem": 100.0, "kids": 30.0}
HELMET_PER_DAY = 3.0
PACKAGES = {
    "basic_tuneup": ("basic tune-up", "45 EUR"),
    "full_service": ("full service", "95 EUR"),
    "just_fix": ("just the fix", "15 EUR labour plus parts"),
}


@validator("shop_open_day")
def shop_open_day(value: date) -> bool:
    if value.weekday() == 6:
        raise ValueError("We're closed on Sundays; which other day suits you?")
    return True


@validator("workshop_hours")
def workshop_hours(value: time) -> bool:
    if not time(9, 0) <= value <= time(18, 0):
        raise ValueError(
            "The workshop takes bikes in between 9:00 and 18:00; what time in that window?"
        )
    return True


def _ticket(
    package: str,
    bike_type: str,
    problem: str,
    dropoff_date: date,
    dropoff_time: time,
    ctx: ActionContext,
) -> dict[str, str]:
    ticket = f"TK-{6000 + len(REPAIRS)}"
    REPAIRS[ticket] = (f"booked in for {dropoff_date} {dropoff_time:%H:%M}", "after drop-off")
    name, price = PACKAGES[package]
    return {"ticket_number": ticket, "service_name": name, "service_price": price}


@ActionRegistry.register("basic_tuneup")
def basic_tuneup(
    bike_type: str, problem: str, dropoff_date: date, dropoff_time: time, ctx: ActionContext
) -> dict[str, str]:
    return _ticket("basic_tuneup", bike_type, problem, dropoff_date, dropoff_time, ctx)


@ActionRegistry.register("full_service")
def full_service(
    bike_type: str, problem: str, dropoff_date: date, dropoff_time: time, ctx: ActionContext
) -> dict[str, str]:
    return _ticket("full_service", bike_type, problem, dropoff_date, dropoff_time, ctx)


@ActionRegistry.register("just_fix")
def just_fix(
    bike_type: str, problem: str, dropoff_date: date, dropoff_time: time, ctx: ActionContext
) -> dict[str, str]:
    return _ticket("just_fix", bike_type, problem, dropoff_date, dropoff_time, ctx)


@ActionRegistry.register("get_repair_status", idempotent=True)
def get_repair_status(ticket_number: str) -> dict[str, str]:
    found = REPAIRS.get(ticket_number.strip().upper())
    if found is None:
        raise LookupError(f"no ticket {ticket_number!r}")
    status, ready = found
    return {"repair_status": status, "ready_date": ready}


@ActionRegistry.register("quote_rental", idempotent=True)
def quote_rental(
    rental_bike: str, num_bikes: int, num_days: int, add_helmets: bool = False
) -> dict[str, float]:
    total = DAY_PRICE[rental_bike] * num_bikes * num_days
    if add_helmets:
        total += HELMET_PER_DAY * num_bikes * num_days
    return {"rental_total": total, "deposit": DEPOSIT[rental_bike] * num_bikes}


@ActionRegistry.register("book_rental")
def book_rental(
    rental_bike: str,
    num_bikes: int,
    rental_start: date,
    num_days: int,
    ctx: ActionContext,
    add_helmets: bool = False,
) -> dict[str, str]:
    reference = f"RN-{4000 + len(RENTALS)}"
    helmets = " with helmets" if add_helmets else ""
    quote = quote_rental(rental_bike, num_bikes, num_days, add_helmets)
    RENTALS[reference] = (
        f"{num_bikes} {rental_bike} bike(s){helmets} from {rental_start} for {num_days} days",
        quote["rental_total"] + quote["deposit"],
    )
    return {"rental_ref": reference}


@ActionRegistry.register("lookup_rental", idempotent=True)
def lookup_rental(rental_ref: str) -> dict[str, object]:
    found = RENTALS.get(rental_ref.strip().upper())
    if found is None:
        raise LookupError(f"no rental {rental_ref!r}")
    summary, refund = found
    return {"rental_summary": summary, "refund_amount": refund}


@ActionRegistry.register("cancel_reservation")
def cancel_reservation(rental_ref: str, ctx: ActionContext) -> dict[str, str]:
    RENTALS.pop(rental_ref.strip().upper(), None)
    return {}
