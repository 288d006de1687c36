"""Handlers of the parcels bot: a pretend courier with a few parcels and pickups in memory."""

import re
from datetime import date

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

PARCELS: dict[str, str] = {
    "PX4482913DE": "out for delivery today, between 12:00 and 17:00",
    "PX1000200FR": "in transit, at the Lyon hub",
    "PX7700311ES": "delivered yesterday at 10:42, signed by M. GARCIA",
}
PICKUPS: dict[str, str] = {"PU-20931": "booked", "PU-55120": "booked"}
DOMESTIC = {"germany"}
EUROPE = {"france", "spain", "italy", "netherlands", "belgium", "austria", "poland", "portugal"}

TRACKING = re.compile(r"^[A-Z]{2}\d{7,9}[A-Z]{2}$")


@validator("tracking_number")
def tracking_number_ok(value: str) -> bool:
    return bool(TRACKING.match(value.replace(" ", "").upper()))


def _number(tracking_number: str) -> str:
    return tracking_number.replace(" ", "").upper()


@ActionRegistry.register("get_parcel_status", idempotent=True)
def get_parcel_status(tracking_number: str) -> dict[str, str]:
    status = PARCELS.get(_number(tracking_number))
    if status is None:
        raise LookupError(f"no parcel {tracking_number!r}")
    return {"status": status}


def _reschedule(tracking_number: str, delivery_date: date, window: str) -> dict[str, str]:
    number = _number(tracking_number)
    PARCELS[number] = f"rescheduled to {delivery_date.isoformat()}, {window}"
    return {"outcome": f"parcel {number} will come on {delivery_date.isoformat()}, {window}"}


@ActionRegistry.register("deliver_morning")
def deliver_morning(tracking_number: str, delivery_date: date) -> dict[str, str]:
    return _reschedule(tracking_number, delivery_date, "8:00-12:00")


@ActionRegistry.register("deliver_afternoon")
def deliver_afternoon(tracking_number: str, delivery_date: date) -> dict[str, str]:
    return _reschedule(tracking_number, delivery_date, "12:00-17:00")


@ActionRegistry.register("deliver_evening")
def deliver_evening(tracking_number: str, delivery_date: date) -> dict[str, str]:
    return _reschedule(tracking_number, delivery_date, "17:00-21:00")


@ActionRegistry.register("redirect_to_address")
def redirect_to_address(tracking_number: str, new_address: str) -> dict[str, str]:
    number = _number(tracking_number)
    PARCELS[number] = f"redirected to {new_address}"
    return {"outcome": f"parcel {number} now goes to {new_address}"}


@ActionRegistry.register("find_pickup_point", idempotent=True)
def find_pickup_point(postcode: str) -> dict[str, str]:
    return {"name": f"the Parcel Shop at Kiosk Sonnenstrasse ({postcode.strip()})"}


@ActionRegistry.register("redirect_to_pickup_point")
def redirect_to_pickup_point(tracking_number: str, pickup_point_name: str) -> dict[str, str]:
    number = _number(tracking_number)
    PARCELS[number] = f"redirected to {pickup_point_name}"
    return {"outcome": f"parcel {number} will wait for you at {pickup_point_name} for 7 days"}


@ActionRegistry.register("cancel_pickup_request")
def cancel_pickup_request(pickup_reference: str) -> dict[str, str]:
    reference = pickup_reference.strip().upper()
    if reference not in PICKUPS:
        raise LookupError(f"no pickup {pickup_reference!r}")
    PICKUPS[reference] = "cancelled"
    return {"outcome": f"Pickup {reference} is cancelled; the courier won't come."}


@ActionRegistry.register("quote_price", idempotent=True)
def quote_price(weight: float, destination_country: str) -> dict[str, float]:
    if destination_country in DOMESTIC:
        base, per_kg = 6.5, 1.5
    elif destination_country in EUROPE or destination_country == "united kingdom":
        base, per_kg = 12.0, 3.0
    else:
        base, per_kg = 25.0, 6.0
    extra = max(0.0, weight - 2.0)
    return {"price": round(base + per_kg * round(extra + 0.49), 2)}


@ActionRegistry.register("book_shipment")
def book_shipment(
    weight: float, destination_country: str, price: float, ctx: ActionContext
) -> dict[str, str]:
    return {"label_number": f"PX{abs(hash(ctx.idempotency_key)) % 10**7:07d}DE"}
