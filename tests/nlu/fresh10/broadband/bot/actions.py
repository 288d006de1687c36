"""Handlers of the broadband assistant: a pretend provider keeping its records in memory."""

import hashlib
from datetime import date, time, timedelta

from soni import ActionContext, ActionRegistry

# Postcode areas with a known problem (the first letters of the postcode).
AREA_OUTAGES = {
    "LS6": "Yes: there's an outage in LS6 since 07:40 this morning. Engineers are on it; the estimate is 18:00 today.",
    "M14": "Planned maintenance in M14 tonight from 00:00 to 04:00; you may lose the connection briefly.",
}
BILLS = {
    "BB10203040": (41.50, date(2026, 12, 28), "It includes a one-off £6.50 for calls to mobiles."),
    "BB55501234": (35.00, date(2027, 1, 2), "No extra charges this month."),
}
CURRENT_PACKAGE = "Fibre 70 (70 Mb, £25 a month)"
TICKETS: list[dict[str, object]] = []
VISITS: list[dict[str, object]] = []
MOVES: list[dict[str, object]] = []
PACKAGE_CHANGES: list[str] = []


def _area(postcode: str) -> str:
    return (
        postcode.strip().upper().split(" ")[0]
        if " " in postcode.strip()
        else postcode.strip().upper()[:-3]
    )


def _key(ctx: ActionContext) -> str:
    # Idempotency keys of nearby calls share their start: hash the whole key.
    return hashlib.sha256(ctx.idempotency_key.encode()).hexdigest()[:6].upper()


@ActionRegistry.register("run_line_test", idempotent=True)
def run_line_test(postcode: str) -> dict[str, str]:
    if _area(postcode) in AREA_OUTAGES:
        return {"line_status": "no sync from the exchange; there is a known problem in your area"}
    return {"line_status": "the line reaches the exchange, so the fault is probably at home"}


@ActionRegistry.register("log_fault")
def log_fault(
    postcode: str, router_lights: str, down_since: date, ctx: ActionContext
) -> dict[str, str]:
    ticket = f"FT-{_key(ctx)}"
    TICKETS.append(
        {"ticket": ticket, "postcode": postcode, "lights": router_lights, "since": down_since}
    )
    return {"fault_ticket": ticket}


@ActionRegistry.register("find_visit_slots", idempotent=True)
def find_visit_slots(postcode: str, visit_date: date, available_from: time) -> dict[str, time]:
    if visit_date.weekday() == 6:
        raise LookupError("no engineers on Sundays")
    start = max(8, available_from.hour + (1 if available_from.minute else 0))
    if start > 16:
        raise LookupError("no slot after 16:00")
    hours = [start, min(start + 2, 16), min(start + 4, 18)]
    if hours[1] == hours[0]:
        hours[1] = hours[0] + 1
    if hours[2] <= hours[1]:
        hours[2] = hours[1] + 1
    return {"slot_one": time(hours[0]), "slot_two": time(hours[1]), "slot_three": time(hours[2])}


def _book(postcode: str, visit_date: date, at: time, ctx: ActionContext) -> dict[str, object]:
    reference = f"EV-{_key(ctx)}"
    VISITS.append({"reference": reference, "postcode": postcode, "date": visit_date, "time": at})
    return {"visit_reference": reference, "visit_time": at}


@ActionRegistry.register("book_slot_one")
def book_slot_one(
    postcode: str, visit_date: date, slot_one: time, ctx: ActionContext
) -> dict[str, object]:
    return _book(postcode, visit_date, slot_one, ctx)


@ActionRegistry.register("book_slot_two")
def book_slot_two(
    postcode: str, visit_date: date, slot_two: time, ctx: ActionContext
) -> dict[str, object]:
    return _book(postcode, visit_date, slot_two, ctx)


@ActionRegistry.register("book_slot_three")
def book_slot_three(
    postcode: str, visit_date: date, slot_three: time, ctx: ActionContext
) -> dict[str, object]:
    return _book(postcode, visit_date, slot_three, ctx)


@ActionRegistry.register("get_current_package", idempotent=True)
def get_current_package() -> dict[str, str]:
    return {"current_package": CURRENT_PACKAGE}


def _switch(name: str) -> dict[str, str]:
    PACKAGE_CHANGES.append(name)
    return {"new_package": name}


@ActionRegistry.register("switch_to_fibre_150")
def switch_to_fibre_150() -> dict[str, str]:
    return _switch("Fibre 150")


@ActionRegistry.register("switch_to_fibre_500")
def switch_to_fibre_500() -> dict[str, str]:
    return _switch("Fibre 500")


@ActionRegistry.register("switch_to_full_fibre_900")
def switch_to_full_fibre_900() -> dict[str, str]:
    return _switch("Full Fibre 900")


@ActionRegistry.register("schedule_move")
def schedule_move(
    new_address: str, new_postcode: str, move_date: date, ctx: ActionContext
) -> dict[str, str]:
    if move_date < date.today() + timedelta(days=1):
        raise ValueError("a move needs at least one day's notice")
    reference = f"MV-{_key(ctx)}"
    MOVES.append(
        {
            "reference": reference,
            "address": new_address,
            "postcode": new_postcode,
            "date": move_date,
        }
    )
    return {"move_reference": reference}


@ActionRegistry.register("get_bill", idempotent=True)
def get_bill(account_number: str) -> dict[str, object]:
    found = BILLS.get(account_number.strip().upper())
    if found is None:
        raise LookupError(f"no account {account_number!r}")
    amount, due, note = found
    return {"bill_amount": amount, "bill_due": due, "bill_note": note}


@ActionRegistry.register("check_area", idempotent=True)
def check_area(postcode: str) -> dict[str, str]:
    status = AREA_OUTAGES.get(_area(postcode))
    return {"area_status": status or f"No known problems around {postcode.upper()} right now."}
