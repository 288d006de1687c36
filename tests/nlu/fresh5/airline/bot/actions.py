"""Handlers of the airline bot: a pretend reservation system kept in memory."""

from datetime import date

from soni import ActionContext, ActionRegistry

BOOKINGS: dict[str, dict[str, object]] = {
    "K7XQ2P": {
        "route": "Madrid-Lisbon",
        "date": "2026-12-19",
        "refund": 84.0,
        "passengers": ["okafor"],
    },
    "9FJ2LM": {
        "route": "Barcelona-Paris",
        "date": "2026-12-23",
        "refund": 120.0,
        "passengers": ["smyth", "garcia"],
    },
}
# The three departures offered on any day, with the fare difference of each (the
# choose step's labels name the same times).
DEPARTURES = {"early": ("07:15", 0.0), "midday": ("14:30", 45.0), "late": ("20:45", 18.0)}
BAG_PRICES = {"23kg": 35.0, "32kg": 60.0}
DONE: list[dict[str, object]] = []  # what the bot changed, for whoever reads it


def _fare(difference: float) -> str:
    return "same fare" if difference == 0 else f"+{difference:.0f} EUR"


def _booking(booking_code: str) -> dict[str, object]:
    booking = BOOKINGS.get(booking_code.strip().upper())
    if booking is None:
        raise LookupError(f"no booking {booking_code!r}")
    return booking


@ActionRegistry.register("find_flights", idempotent=True)
def find_flights(booking_code: str, new_date: date) -> dict[str, str]:
    _booking(booking_code)
    if new_date < date.today():
        raise ValueError("that day is in the past")
    return {f"{name}_fare": _fare(difference) for name, (_, difference) in DEPARTURES.items()}


def _pick(name: str) -> dict[str, object]:
    time, difference = DEPARTURES[name]
    return {"chosen_flight": time, "fare_difference": difference}


@ActionRegistry.register("pick_early_flight", idempotent=True)
def pick_early_flight() -> dict[str, object]:
    return _pick("early")


@ActionRegistry.register("pick_midday_flight", idempotent=True)
def pick_midday_flight() -> dict[str, object]:
    return _pick("midday")


@ActionRegistry.register("pick_late_flight", idempotent=True)
def pick_late_flight() -> dict[str, object]:
    return _pick("late")


@ActionRegistry.register("apply_flight_change")
def apply_flight_change(
    booking_code: str, new_date: date, chosen_flight: str, ctx: ActionContext
) -> dict[str, str]:
    booking = _booking(booking_code)
    booking["date"] = new_date.isoformat()
    DONE.append({"change": booking_code, "date": new_date, "flight": chosen_flight})
    return {"new_ticket": f"TK-{ctx.idempotency_key[-6:].upper()}"}


@ActionRegistry.register("quote_baggage", idempotent=True)
def quote_baggage(bags: int, bag_weight: str) -> dict[str, float]:
    return {"baggage_price": bags * BAG_PRICES[bag_weight]}


@ActionRegistry.register("add_checked_bags")
def add_checked_bags(
    booking_code: str, bags: int, bag_weight: str, ctx: ActionContext
) -> dict[str, str]:
    _booking(booking_code)
    DONE.append({"bags": booking_code, "count": bags, "weight": bag_weight})
    return {"baggage_receipt": f"BG-{ctx.idempotency_key[-6:].upper()}"}


@ActionRegistry.register("check_in_passenger")
def check_in_passenger(booking_code: str, surname: str, seat_preference: str) -> dict[str, str]:
    booking = _booking(booking_code)
    passengers = booking["passengers"]
    assert isinstance(passengers, list)
    if surname.strip().lower() not in passengers:
        raise LookupError(f"{surname!r} is not on {booking_code}")
    seat = {"window": "14A", "aisle": "14C"}.get(seat_preference, "22E")
    return {"seat": seat}


@ActionRegistry.register("lookup_booking", idempotent=True)
def lookup_booking(booking_code: str) -> dict[str, object]:
    booking = _booking(booking_code)
    return {"route": booking["route"], "flight_date": booking["date"], "refund": booking["refund"]}


@ActionRegistry.register("cancel_reservation")
def cancel_reservation(booking_code: str) -> dict[str, str]:
    BOOKINGS.pop(booking_code.strip().upper(), None)
    DONE.append({"cancelled": booking_code})
    return {}


@ActionRegistry.register("request_assistance")
def request_assistance(
    booking_code: str, assistance_type: str, assistance_details: str
) -> dict[str, str]:
    DONE.append(
        {"assistance": booking_code, "type": assistance_type, "details": assistance_details}
    )
    return {"assistance_reference": f"SA-{1000 + len(DONE)}"}
