"""Handlers of the cinema bot: a pretend box office that keeps its bookings in memory."""

from dataclasses import dataclass
from datetime import date, time

from soni import ActionContext, ActionRegistry, validator

# Each film's showings, the same at every cinema; weekends add an 11:00 matinee.
SHOWINGS = {
    "the last lighthouse": ["14:30", "17:15", "20:00"],
    "starfall protocol": ["13:00", "16:45", "19:30", "22:15"],
    "paper tigers": ["15:00", "18:30", "21:00"],
    "midnight at the aquarium": ["18:00", "20:45", "23:30"],
    "granny bot 2": ["11:00", "13:30", "16:00"],
    "the winter king": ["14:00", "17:30", "20:30"],
}
# (cinema, film), in lower case: not showing there, to show on_error.
CLOSED = {("harbour point", "granny bot 2")}
PRICES = {"standard": (11.50, 8.00), "premium": (16.00, 12.50)}  # adult, child
SNACKS = {
    "add_popcorn_menu": "a popcorn menu (8.50 EUR)",
    "add_nachos_menu": "a nachos menu (9.00 EUR)",
    "add_drink_only": "a soft drink (3.50 EUR)",
}


@dataclass
class Booking:
    film: str
    cinema: str
    when: str
    paid: float


BOOKINGS = {
    "CN-77120": Booking("Starfall Protocol", "Riverside", "2026-12-12 at 19:30", 23.0),
    "CN-40518": Booking("Granny Bot 2", "Northgate", "2026-12-13 at 11:00", 39.0),
    "CN-90233": Booking("The Winter King", "City Centre", "2026-12-18 at 20:30", 32.0),
}
DONE: list[dict[str, object]] = []  # what the box office did, for the tests


def _times(film: str, show_date: date) -> list[str]:
    times = list(SHOWINGS[film.lower()])
    if show_date.weekday() >= 5 and "11:00" not in times:
        times.insert(0, "11:00")
    return times


def _booking(booking_ref: str) -> Booking:
    booking = BOOKINGS.get(booking_ref.strip().upper())
    if booking is None:
        raise LookupError(f"no booking {booking_ref!r}")
    return booking


@validator("offered_showtime")
def offered_showtime(value: time, slots: dict[str, object]) -> bool:
    """A showtime must be one the box office offered for that film and day."""
    offered = str(slots.get("showtimes") or "")
    if not offered:
        # Said before the showings were looked up: checked again when they are.
        return True
    if value.strftime("%H:%M") not in offered.split(", "):
        raise ValueError(f"There's no showing then. Pick one of: {offered}.")
    return True


@ActionRegistry.register("list_showtimes", idempotent=True)
def list_showtimes(film: str, cinema: str, show_date: date) -> dict[str, str]:
    if (cinema.lower(), film.lower()) in CLOSED:
        raise LookupError(f"{film} is not showing at {cinema}")
    return {"showtimes": ", ".join(_times(film, show_date))}


@ActionRegistry.register("quote_price", idempotent=True)
def quote_price(adults: int, children: int, seat_type: str) -> dict[str, float]:
    adult, child = PRICES[seat_type]
    return {"price": round(adults * adult + children * child, 2)}


@ActionRegistry.register("buy_tickets")
def buy_tickets(
    film: str,
    cinema: str,
    show_date: date,
    showtime: time,
    adults: int,
    children: int,
    seat_type: str,
    price: float,
    ctx: ActionContext,
) -> dict[str, str]:
    # The confirmation's id is the idempotency key: a retried purchase is recognised.
    reference = f"CN-{int(ctx.idempotency_key[-8:], 16) % 100000:05d}"
    when = f"{show_date.isoformat()} at {showtime.strftime('%H:%M')}"
    BOOKINGS[reference] = Booking(film, cinema, when, price)
    DONE.append({"action": "buy", "reference": reference, "seats": adults + children})
    return {"reference": reference}


@ActionRegistry.register("lookup_booking", idempotent=True)
def lookup_booking(booking_ref: str) -> dict[str, object]:
    booking = _booking(booking_ref)
    return {
        "film": booking.film,
        "cinema": booking.cinema,
        "booked_when": booking.when,
        "paid": booking.paid,
    }


@ActionRegistry.register("change_showing")
def change_showing(booking_ref: str, show_date: date, showtime: time) -> dict[str, str]:
    booking = _booking(booking_ref)
    booking.when = f"{show_date.isoformat()} at {showtime.strftime('%H:%M')}"
    DONE.append({"action": "change", "reference": booking_ref, "when": booking.when})
    return {"booked_when": booking.when}


@ActionRegistry.register("refund_booking")
def refund_booking(booking_ref: str) -> dict[str, float]:
    booking = BOOKINGS.pop(booking_ref.strip().upper())
    DONE.append({"action": "refund", "reference": booking_ref})
    return {"paid": booking.paid}


def _add_snack(action: str, booking_ref: str) -> dict[str, str]:
    _booking(booking_ref)
    DONE.append({"action": action, "reference": booking_ref})
    return {"snack_note": SNACKS[action]}


@ActionRegistry.register("add_popcorn_menu")
def add_popcorn_menu(booking_ref: str) -> dict[str, str]:
    return _add_snack("add_popcorn_menu", booking_ref)


@ActionRegistry.register("add_nachos_menu")
def add_nachos_menu(booking_ref: str) -> dict[str, str]:
    return _add_snack("add_nachos_menu", booking_ref)


@ActionRegistry.register("add_drink_only")
def add_drink_only(booking_ref: str) -> dict[str, str]:
    return _add_snack("add_drink_only", booking_ref)
