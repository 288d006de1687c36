"""Handlers of the dentist: a pretend diary of free times and booked appointments."""

import datetime as dt

from soni import ActionContext, ActionRegistry

# The free times of each weekday (Monday is 0); Sunday is closed.
DIARY: dict[int, list[dict[str, str]]] = {
    day: [
        {"time": "09:00", "dentist": "Dr Ruiz"},
        {"time": "11:30", "dentist": "Dr Okafor"},
        {"time": "15:00", "dentist": "Dr Ruiz"},
    ]
    for day in range(6)
}
BOOKED: dict[str, list[str]] = {"Ana Lopez": ["DN-1001", "DN-1002"]}
DONE: list[dict[str, str]] = []  # what the booking actions did, for the tests


@ActionRegistry.register("find_free_times", idempotent=True)
def find_free_times(appointment_date: dt.date) -> dict[str, object]:
    return {"free_times": DIARY.get(appointment_date.weekday(), [])}


@ActionRegistry.register("book_appointment")
def book_appointment(
    patient_name: str,
    appointment_date: dt.date,
    appointment_time: dt.time,
    dentist: str,
    ctx: ActionContext,
) -> dict[str, str]:
    reference = f"DN-{ctx.idempotency_key[-6:].upper()}"
    DONE.append(
        {
            "conversation": ctx.conversation_id,
            "action": "booked",
            "patient": patient_name,
            "when": f"{appointment_date.isoformat()} {appointment_time:%H:%M}",
            "dentist": dentist,
        }
    )
    return {"reference": reference}


@ActionRegistry.register("find_my_appointments", idempotent=True)
def find_my_appointments(patient_name: str) -> dict[str, object]:
    return {"my_appointments": list(BOOKED.get(patient_name, []))}


@ActionRegistry.register("cancel_appointment")
def cancel_appointment(appointment_ref: str, ctx: ActionContext) -> dict[str, str]:
    DONE.append(
        {"conversation": ctx.conversation_id, "action": "cancelled", "reference": appointment_ref}
    )
    return {"reference": appointment_ref}
