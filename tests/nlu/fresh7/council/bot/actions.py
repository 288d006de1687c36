"""Handlers of the council assistant: pretend council systems kept in memory."""

from datetime import date, time, timedelta

from soni import ActionContext, ActionRegistry

TODAY_FOR_DAYS = None  # None: the real day; tests may pin it

# council-tax accounts: number (digits only) -> (balance, next instalment)
TAX_ACCOUNTS: dict[str, tuple[float, str]] = {
    "40012345": (412.50, "1 January"),
    "40019876": (0.0, "-"),
    "40020001": (137.20, "15 December"),
}
PERMIT_PRICES = {  # zone -> {length: price in pounds}
    "old town": {"3 months": 45, "12 months": 150},
    "riverside": {"3 months": 35, "12 months": 120},
    "northgate": {"3 months": 30, "12 months": 100},
}
BOOKINGS: list[dict[str, object]] = []
PERMITS: dict[str, dict[str, object]] = {}
REPORTS: dict[str, dict[str, object]] = {}


def _next_weekday(start: date, weekday: int) -> date:
    days = (weekday - start.weekday()) % 7 or 7
    return start + timedelta(days=days)


def _label(day: date) -> str:
    return day.strftime("%A %-d %B")


@ActionRegistry.register("find_collection_days", idempotent=True)
def find_collection_days(item_count: int, address: str) -> dict[str, object]:
    today = TODAY_FOR_DAYS or date.today()
    first = _next_weekday(today, 1)  # crews collect on Tuesdays and Fridays
    second = _next_weekday(first, 4)
    price = 15 if item_count <= 3 else 25
    return {"first_day": _label(first), "second_day": _label(second), "collection_price": price}


def _book(
    day: str, items: str, item_count: int, address: str, ctx: ActionContext
) -> dict[str, str]:
    reference = f"BW-{ctx.idempotency_key[-6:].upper()}"
    BOOKINGS.append(
        {
            "reference": reference,
            "day": day,
            "items": items,
            "count": item_count,
            "address": address,
        }
    )
    return {
        "booking_note": f"Booked {reference}: {items} collected from {address} on {day}. Please put them out by 7am."
    }


@ActionRegistry.register("book_first_day")
def book_first_day(
    items: str, item_count: int, address: str, first_day: str, ctx: ActionContext
) -> dict[str, str]:
    return _book(first_day, items, item_count, address, ctx)


@ActionRegistry.register("book_second_day")
def book_second_day(
    items: str, item_count: int, address: str, second_day: str, ctx: ActionContext
) -> dict[str, str]:
    return _book(second_day, items, item_count, address, ctx)


@ActionRegistry.register("drop_off_self", idempotent=True)
def drop_off_self(items: str) -> dict[str, str]:
    return {
        "booking_note": f"No booking needed: take {items} to Millbrook recycling centre, Quarry Road, open daily 8:00-18:00. Bring proof of address."
    }


@ActionRegistry.register("quote_permit", idempotent=True)
def quote_permit(zone: str, permit_length: str) -> dict[str, int]:
    return {"permit_price": PERMIT_PRICES[zone][permit_length]}


def _find_permit(ctx: ActionContext) -> dict[str, str] | None:
    number = f"RP-{ctx.idempotency_key[-6:].upper()}"
    return {"permit_number": number} if number in PERMITS else None


@ActionRegistry.register("pay_permit", reconcile=_find_permit)
def pay_permit(
    plate: str,
    zone: str,
    start_date: date,
    permit_length: str,
    permit_price: int,
    ctx: ActionContext,
) -> dict[str, str]:
    number = f"RP-{ctx.idempotency_key[-6:].upper()}"
    PERMITS[number] = {
        "plate": plate.upper().replace(" ", ""),
        "zone": zone,
        "start": start_date,
        "length": permit_length,
        "paid": permit_price,
    }
    return {"permit_number": number}


@ActionRegistry.register("file_report")
def file_report(
    problem_type: str, location: str, seen_time: time, ctx: ActionContext
) -> dict[str, str]:
    reference = f"SR-{len(REPORTS) + 1001}"
    REPORTS[reference] = {"type": problem_type, "location": location, "seen": seen_time}
    return {"report_reference": reference}


@ActionRegistry.register("get_tax_balance", idempotent=True)
def get_tax_balance(account_number: str) -> dict[str, object]:
    found = TAX_ACCOUNTS.get(account_number.replace(" ", ""))
    if found is None:
        raise LookupError(f"no council-tax account {account_number!r}")
    balance, next_due = found
    return {"tax_balance": balance, "next_due": next_due}
