"""Handlers of the car rental bot: a pretend rental desk that keeps its data in memory."""

import hashlib
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from soni import ActionContext, ActionRegistry

DAILY_RATE = {"economy": 29.0, "compact": 39.0, "SUV": 69.0, "van": 89.0}
CITY_SURCHARGE = {"Lisbon": 5.0, "Porto": 5.0}  # a day, at the Portuguese desks
EXTRA_DAILY = {"child seat": 8.0, "GPS navigator": 6.0, "second driver": 10.0}


@dataclass(slots=True)
class Rental:
    city: str
    category: str
    start: date
    days: int
    driver: str
    pickup: time = time(10, 0)
    extras: list[str] = field(default_factory=list)

    @property
    def daily_rate(self) -> float:
        return DAILY_RATE[self.category] + CITY_SURCHARGE.get(self.city, 0.0)

    @property
    def price(self) -> float:
        extras = sum(EXTRA_DAILY[extra] for extra in self.extras)
        return round((self.daily_rate + extras) * self.days, 2)

    @property
    def return_date(self) -> date:
        return self.start + timedelta(days=self.days)


RENTALS: dict[str, Rental] = {
    "RC-55012": Rental("Malaga", "compact", date(2026, 12, 5), 7, "Ana Ruiz"),
    "RC-40317": Rental(
        "Lisbon", "van", date(2026, 12, 12), 10, "Pieter van Dam", extras=["child seat"]
    ),
    "RC-71864": Rental("Madrid", "economy", date(2026, 12, 20), 3, "Keith Morgan"),
}
INCIDENTS: list[dict[str, object]] = []


def _rental(rental_reference: str) -> Rental:
    rental = RENTALS.get(rental_reference.strip().upper())
    if rental is None:
        raise LookupError(f"no rental {rental_reference!r}")
    return rental


@ActionRegistry.register("quote_rental", idempotent=True)
def quote_rental(car_category: str, rental_days: int, pickup_city: str) -> dict[str, float]:
    rate = DAILY_RATE[car_category] + CITY_SURCHARGE.get(pickup_city, 0.0)
    return {"price": round(rate * rental_days, 2)}


@ActionRegistry.register("book_rental")
def book_rental(
    pickup_city: str,
    pickup_date: date,
    pickup_time: time,
    rental_days: int,
    car_category: str,
    driver_name: str,
    ctx: ActionContext,
) -> dict[str, str]:
    # The confirmation's id is the idempotency key: a retried call books nothing new.
    digest = int(hashlib.sha256(ctx.idempotency_key.encode()).hexdigest(), 16)
    reference = f"RC-{digest % 90000 + 10000}"
    RENTALS.setdefault(
        reference,
        Rental(pickup_city, car_category, pickup_date, rental_days, driver_name, pickup_time),
    )
    return {"reference": reference}


@ActionRegistry.register("find_rental", idempotent=True)
def find_rental(rental_reference: str) -> dict[str, str]:
    rental = _rental(rental_reference)
    return {
        "summary": f"{rental.category}-class car in {rental.city} from {rental.start}, "
        f"{rental.days} days, driver {rental.driver}"
    }


@ActionRegistry.register("quote_extension", idempotent=True)
def quote_extension(rental_reference: str, extra_days: int) -> dict[str, object]:
    rental = _rental(rental_reference)
    extras = sum(EXTRA_DAILY[extra] for extra in rental.extras)
    return {
        "extension_price": round((rental.daily_rate + extras) * extra_days, 2),
        "new_return_date": (rental.return_date + timedelta(days=extra_days)).isoformat(),
    }


@ActionRegistry.register("extend_rental")
def extend_rental(rental_reference: str, extra_days: int) -> dict[str, str]:
    rental = _rental(rental_reference)
    rental.days += extra_days
    return {"return_date": rental.return_date.isoformat()}


@ActionRegistry.register("cancel_rental")
def cancel_rental(rental_reference: str) -> dict[str, float]:
    rental = _rental(rental_reference)
    del RENTALS[rental_reference.strip().upper()]
    return {"refund": rental.price}


def _add(rental_reference: str, extra: str) -> dict[str, str]:
    rental = _rental(rental_reference)
    if extra not in rental.extras:
        rental.extras.append(extra)
    return {"added": f"{extra}, {EXTRA_DAILY[extra]:.0f} EUR a day"}


@ActionRegistry.register("add_child_seat")
def add_child_seat(rental_reference: str) -> dict[str, str]:
    return _add(rental_reference, "child seat")


@ActionRegistry.register("add_gps")
def add_gps(rental_reference: str) -> dict[str, str]:
    return _add(rental_reference, "GPS navigator")


@ActionRegistry.register("add_second_driver")
def add_second_driver(rental_reference: str) -> dict[str, str]:
    return _add(rental_reference, "second driver")


@ActionRegistry.register("log_incident")
def log_incident(
    incident_location: str, incident_description: str, anyone_hurt: bool, ctx: ActionContext
) -> dict[str, str]:
    number = f"INC-{len(INCIDENTS) + 1:04d}"
    INCIDENTS.append(
        {
            "number": number,
            "conversation": ctx.conversation_id,
            "where": incident_location,
            "what": incident_description,
            "hurt": anyone_hurt,
        }
    )
    return {"incident": number}
