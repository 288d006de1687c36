"""Handlers of the dental clinic bot: a pretend appointment book kept in memory."""

from __future__ import annotations

from datetime import date, time

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

DENTISTS = ("Dr. Ortega", "Dr. Lindqvist", "Dr. Haddad")

# Free times by weekday (0 = Monday); Saturdays are mornings only, Sundays closed.
WEEKDAY_TIMES = [("09:30", "Dr. Ortega"), ("12:15", "Dr. Lindqvist"), ("17:45", "Dr. Ortega")]
SATURDAY_TIMES = [("09:00", "Dr. Haddad"), ("10:30", "Dr. Haddad"), ("12:45", "Dr. Lindqvist")]
FULL_DAYS = {date(2026, 12, 24), date(2026, 12, 31)}

# The appointment book, by reference.
APPOINTMENTS: dict[str, dict[str, object]] = {
    "DN-1042": {
        "patient": "Marta Gil",
        "treatment": "cleaning",
        "date": date(2026, 12, 11),
        "time": "10:00",
    },
    "DN-2231": {
        "patient": "Tom Becker",
        "treatment": "checkup",
        "date": date(2026, 12, 14),
        "time": "16:30",
    },
    "DN-3307": {
        "patient": "Lucía Pérez",
        "treatment": "filling",
        "date": date(2026, 12, 17),
        "time": "09:30",
    },
    "DN-4471": {
        "patient": "Samir Haddou",
        "treatment": "root canal",
        "date": date(2026, 12, 22),
        "time": "12:00",
    },
}
PATIENTS: dict[str, dict[str, object]] = {}
INSURERS = {"sanitas", "adeslas", "dkv", "mapfre", "asisa", "axa"}


# ---------------------------------------------------------------- validators


@validator("clinic_open_day")
def clinic_open_day(value: date) -> bool:
    if value.weekday() == 6:
        raise ValueError("We're closed on Sundays. Which other day suits you?")
    return True


@validator("clinic_open_time")
def clinic_open_time(value: time, slots: dict) -> bool:
    day = slots.get("new_date")
    closing = time(14, 0) if isinstance(day, date) and day.weekday() == 5 else time(19, 0)
    opening = time(9, 0) if closing == time(14, 0) else time(8, 30)
    if not opening <= value < closing:
        raise ValueError(
            f"We see patients from {opening:%H:%M} to {closing:%H:%M} that day. What time then?"
        )
    return True


@validator("plausible_birth_date")
def plausible_birth_date(value: date) -> bool:
    return date(1900, 1, 1) <= value <= date.today()


@validator("pain_scale")
def pain_scale(value: int) -> bool:
    if not 0 <= value <= 10:
        raise ValueError("Please give a number from 0 (no pain) to 10 (the worst pain).")
    return True


# ---------------------------------------------------------------- booking


@ActionRegistry.register("find_free_times", idempotent=True)
def find_free_times(treatment: str, preferred_date: date) -> dict[str, str]:
    if preferred_date in FULL_DAYS:
        raise LookupError(f"{preferred_date} is fully booked")
    times = SATURDAY_TIMES if preferred_date.weekday() == 5 else WEEKDAY_TIMES
    (t1, d1), (t2, d2), (t3, d3) = times
    return {
        "first_time": t1,
        "first_dentist": d1,
        "second_time": t2,
        "second_dentist": d2,
        "third_time": t3,
        "third_dentist": d3,
    }


def _book(
    patient_name: str, treatment: str, day: date, at: str, dentist: str, ctx: ActionContext
) -> dict[str, str]:
    reference = f"DN-{5000 + len(APPOINTMENTS)}"
    for ref, appt in APPOINTMENTS.items():  # a retried call is recognised
        if appt.get("key") == ctx.idempotency_key:
            return {"appointment_ref": ref, "appointment_time": at, "dentist": dentist}
    APPOINTMENTS[reference] = {
        "patient": patient_name,
        "treatment": treatment,
        "date": day,
        "time": at,
        "dentist": dentist,
        "key": ctx.idempotency_key,
    }
    return {"appointment_ref": reference, "appointment_time": at, "dentist": dentist}


@ActionRegistry.register("book_first")
def book_first(
    patient_name: str,
    treatment: str,
    preferred_date: date,
    first_time: str,
    first_dentist: str,
    ctx: ActionContext,
) -> dict[str, str]:
    return _book(patient_name, treatment, preferred_date, first_time, first_dentist, ctx)


@ActionRegistry.register("book_second")
def book_second(
    patient_name: str,
    treatment: str,
    preferred_date: date,
    second_time: str,
    second_dentist: str,
    ctx: ActionContext,
) -> dict[str, str]:
    return _book(patient_name, treatment, preferred_date, second_time, second_dentist, ctx)


@ActionRegistry.register("book_third")
def book_third(
    patient_name: str,
    treatment: str,
    preferred_date: date,
    third_time: str,
    third_dentist: str,
    ctx: ActionContext,
) -> dict[str, str]:
    return _book(patient_name, treatment, preferred_date, third_time, third_dentist, ctx)


# ---------------------------------------------------------------- existing appointments


@ActionRegistry.register("lookup_appointment", idempotent=True)
def lookup_appointment(appointment_ref: str) -> dict[str, object]:
    appt = APPOINTMENTS.get(appointment_ref.strip().upper())
    if appt is None:
        raise LookupError(f"no appointment {appointment_ref!r}")
    return {
        "booked_patient": appt["patient"],
        "booked_treatment": appt["treatment"],
        "booked_date": appt["date"],
        "booked_time": appt["time"],
    }


@ActionRegistry.register("move_appointment", idempotent=True)
def move_appointment(appointment_ref: str, new_date: date, new_time: time) -> dict[str, str]:
    ref = appointment_ref.strip().upper()
    for other_ref, appt in APPOINTMENTS.items():
        if other_ref != ref and appt["date"] == new_date and appt["time"] == f"{new_time:%H:%M}":
            raise LookupError("that time is taken")
    APPOINTMENTS[ref]["date"] = new_date
    APPOINTMENTS[ref]["time"] = f"{new_time:%H:%M}"
    return {"moved_to": f"{ref} is now on {new_date:%A %d %B} at {new_time:%H:%M}"}


def _was_cancelled(appointment_ref: str) -> dict[str, str] | None:
    appt = APPOINTMENTS.get(appointment_ref.strip().upper())
    if appt is not None and appt.get("cancelled"):
        return {"cancelled_ref": appointment_ref.strip().upper()}
    return None


@ActionRegistry.register("cancel_appointment", reconcile=_was_cancelled)
def cancel_appointment(appointment_ref: str) -> dict[str, str]:
    ref = appointment_ref.strip().upper()
    APPOINTMENTS[ref]["cancelled"] = True
    return {"cancelled_ref": ref}


# ---------------------------------------------------------------- patients, insurance


@ActionRegistry.register("register_patient")
def register_patient(
    patient_name: str, date_of_birth: date, phone: str, email: str, ctx: ActionContext
) -> dict[str, str]:
    for number, patient in PATIENTS.items():
        if patient["key"] == ctx.idempotency_key:
            return {"patient_number": number}
    number = f"P-{20500 + len(PATIENTS)}"
    PATIENTS[number] = {
        "name": patient_name,
        "born": date_of_birth,
        "phone": phone,
        "email": email,
        "key": ctx.idempotency_key,
    }
    return {"patient_number": number}


@ActionRegistry.register("check_insurer", idempotent=True)
def check_insurer(insurer: str) -> dict[str, str]:
    name = insurer.strip()
    if name.lower() in INSURERS:
        answer = (
            f"Yes, we work with {name}: check-ups and cleanings are covered, "
            "other treatments at your policy's rates. Bring your card."
        )
    else:
        answer = (
            f"We don't have an agreement with {name}, sorry. You can still come as a "
            "private patient; we work with Sanitas, Adeslas, DKV, Mapfre, Asisa and AXA."
        )
    return {"insurance_answer": answer}
