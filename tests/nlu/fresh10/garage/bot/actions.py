"""Handlers of the garage bot: a pretend workshop that keeps its diary in memory."""

import re
from datetime import date, time

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

# Days already full for early drop-offs (booking then fails, to show on_error).
FULL_DAYS: set[date] = {date(2026, 12, 24)}

BOOKINGS: list[dict[str, object]] = []
COURTESY: list[dict[str, object]] = []

# job number -> (car, status, extra work found or None, price of the extra work)
JOBS: dict[str, dict[str, object]] = {
    "JB-4821": {
        "car": "Ford Focus KX19 PLM",
        "status": "Your Ford Focus is in the workshop; we expect it ready by 16:00 today.",
        "findings": "the rear brake discs are worn below the limit and need replacing",
        "price": 185.0,
    },
    "JB-5530": {
        "car": "VW Golf YT68 VBN",
        "status": "Your VW Golf is ready to collect. The bill is £212.40.",
        "findings": None,
        "price": 0.0,
    },
    "JB-6017": {
        "car": "Nissan Leaf LD21 ZXC",
        "status": "Your Nissan Leaf is waiting for a part; we expect it ready tomorrow afternoon.",
        "findings": "the cabin filter is blocked and the wiper blades are split",
        "price": 48.5,
    },
}

# Rough labour rates for the quote: keyword -> (price, hours)
ESTIMATES = {
    "brake": (160.0, 1.5),
    "clutch": (620.0, 5.0),
    "tyre": (90.0, 0.5),
    "exhaust": (240.0, 2.0),
    "battery": (130.0, 0.5),
    "air con": (75.0, 1.0),
    "timing belt": (450.0, 4.0),
    "cambelt": (450.0, 4.0),
}


def _job(job_number: str) -> tuple[str, dict[str, object]]:
    key = job_number.strip().upper().replace(" ", "")
    if not key.startswith("JB-"):
        key = "JB-" + key[2:]
    job = JOBS.get(key)
    if job is None:
        raise LookupError(f"no job {job_number!r}")
    return key, job


@validator("courtesy_length")
def courtesy_length(value: int) -> bool:
    if value < 1 or value > 14:
        raise ValueError("We can lend a courtesy car for 1 to 14 days.")
    return True


def _book(
    kind: str,
    registration: str,
    service_type: str,
    service_date: date,
    mileage: int,
    ctx: ActionContext,
) -> dict[str, str]:
    if kind == "08:00" and service_date in FULL_DAYS:
        raise LookupError("no early slot left")
    ref = "SV-" + re.sub(r"[^A-Za-z0-9]", "", ctx.idempotency_key)[-6:].upper()
    BOOKINGS.append(
        {
            "ref": ref,
            "registration": registration.upper(),
            "type": service_type,
            "date": service_date,
            "mileage": mileage,
            "slot": kind,
        }
    )
    return {"booking_ref": ref}


@ActionRegistry.register("book_dropoff_early")
def book_dropoff_early(
    registration: str, service_type: str, service_date: date, mileage: int, ctx: ActionContext
) -> dict[str, str]:
    return _book("08:00", registration, service_type, service_date, mileage, ctx)


@ActionRegistry.register("book_dropoff_midday")
def book_dropoff_midday(
    registration: str, service_type: str, service_date: date, mileage: int, ctx: ActionContext
) -> dict[str, str]:
    return _book("12:30", registration, service_type, service_date, mileage, ctx)


@ActionRegistry.register("book_while_you_wait")
def book_while_you_wait(
    registration: str, service_type: str, service_date: date, mileage: int, ctx: ActionContext
) -> dict[str, str]:
    return _book("wait", registration, service_type, service_date, mileage, ctx)


@ActionRegistry.register("estimate_repair", idempotent=True)
def estimate_repair(registration: str, repair_description: str) -> dict[str, float]:
    text = repair_description.lower()
    for word, (price, hours) in ESTIMATES.items():
        if word in text:
            return {"price": price, "hours": hours}
    return {"price": 95.0, "hours": 1.0}  # a diagnostic hour


@ActionRegistry.register("lookup_findings", idempotent=True)
def lookup_findings(job_number: str) -> dict[str, object]:
    _, job = _job(job_number)
    if not job["findings"]:
        raise LookupError("nothing to approve")
    return {"findings": job["findings"], "price": job["price"]}


@ActionRegistry.register("approve_extra_work")
def approve_extra_work(
    job_number: str, findings: str, extra_price: float, ctx: ActionContext
) -> dict[str, str]:
    key, job = _job(job_number)
    job["findings"] = None
    job["status"] = f"Approved extra work ({findings}, £{extra_price:.2f}) is being done."
    return {"status": "We'll call you when it's ready."}


@ActionRegistry.register("get_job_status", idempotent=True)
def get_job_status(job_number: str) -> dict[str, str]:
    _, job = _job(job_number)
    return {"status": str(job["status"])}


@ActionRegistry.register("reserve_courtesy_car")
def reserve_courtesy_car(
    courtesy_date: date, courtesy_days: int, pickup_time: time, ctx: ActionContext
) -> dict[str, str]:
    if courtesy_date.weekday() == 6:
        raise LookupError("closed on Sundays")
    ref = "CC-" + re.sub(r"[^A-Za-z0-9]", "", ctx.idempotency_key)[-5:].upper()
    COURTESY.append({"ref": ref, "from": courtesy_date, "days": courtesy_days, "time": pickup_time})
    return {"reference": ref}
