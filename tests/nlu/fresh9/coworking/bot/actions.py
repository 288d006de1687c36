"""Handlers of the co-working bot: a pretend space that keeps its data in memory."""

from datetime import date, time

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

# --- meeting rooms ----------------------------------------------------------

ROOMS = {
    "small": [("Kepler", "2nd floor, whiteboard wall"), ("Curie", "ground floor, by the kitchen")],
    "medium": [("Hopper", "1st floor, big screen"), ("Turing", "3rd floor, terrace view")],
    "boardroom": [
        ("Lovelace", "top floor, video conferencing"),
        ("Darwin", "1st floor, long table"),
    ],
}
BOOKINGS: list[dict[str, object]] = []


@validator("within_opening_hours")
def within_opening_hours(value: time) -> bool:
    return time(7, 0) <= value <= time(21, 0)


@validator("bookable_length")
def bookable_length(value: float) -> bool:
    return 0.5 <= value <= 10


@ActionRegistry.register("find_free_rooms", idempotent=True)
def find_free_rooms(
    room_size: str, booking_date: date, start_time: time, duration_hours: float
) -> dict[str, str]:
    taken = {b["room"] for b in BOOKINGS if b["date"] == booking_date and b["start"] == start_time}
    free = [room for room in ROOMS[room_size] if room[0] not in taken]
    if len(free) < 2:
        raise LookupError("not enough free rooms")
    (a, a_info), (b, b_info) = free[:2]
    return {"room_a": a, "room_a_info": a_info, "room_b": b, "room_b_info": b_info}


def _reserve(
    room: str, booking_date: date, start_time: time, hours: float, ctx: ActionContext
) -> dict:
    ref = f"MR-{ctx.idempotency_key[-5:].upper()}"
    BOOKINGS.append(
        {"room": room, "date": booking_date, "start": start_time, "hours": hours, "ref": ref}
    )
    return {"booked_room": room, "room_booking_ref": ref}


@ActionRegistry.register("reserve_room_a")
def reserve_room_a(
    room_a: str, booking_date: date, start_time: time, duration_hours: float, ctx: ActionContext
) -> dict:
    return _reserve(room_a, booking_date, start_time, duration_hours, ctx)


@ActionRegistry.register("reserve_room_b")
def reserve_room_b(
    room_b: str, booking_date: date, start_time: time, duration_hours: float, ctx: ActionContext
) -> dict:
    return _reserve(room_b, booking_date, start_time, duration_hours, ctx)


# --- day passes -------------------------------------------------------------

PASSES: dict[str, dict[str, object]] = {}


def find_pass(ctx: ActionContext) -> dict | None:
    code = f"DP-{ctx.idempotency_key[-6:].upper()}"
    return {"pass_code": code} if code in PASSES else None


@ActionRegistry.register("buy_day_pass", reconcile=find_pass)
def buy_day_pass(guest_name: str, pass_date: date, ctx: ActionContext) -> dict[str, str]:
    code = f"DP-{ctx.idempotency_key[-6:].upper()}"
    PASSES[code] = {"guest": guest_name, "date": pass_date, "member": ctx.user_id, "price": 25.0}
    return {"pass_code": code}


# --- membership plans -------------------------------------------------------

FEES = {"hot desk": 190.0, "fixed desk": 290.0, "private office": 650.0}
MEMBER_PLANS: dict[str, str] = {}  # user id -> plan; everybody starts on hot desk


@ActionRegistry.register("quote_plan", idempotent=True)
def quote_plan(new_plan: str, ctx: ActionContext) -> dict[str, object]:
    return {
        "current_plan": MEMBER_PLANS.get(ctx.user_id or "", "hot desk"),
        "new_fee": FEES[new_plan],
    }


@ActionRegistry.register("change_membership_plan", idempotent=True)
def change_membership_plan(new_plan: str, plan_start: date, ctx: ActionContext) -> dict:
    MEMBER_PLANS[ctx.user_id or ""] = new_plan
    return {}


# --- facilities -------------------------------------------------------------

TICKETS: dict[str, dict[str, str]] = {}


@ActionRegistry.register("open_ticket")
def open_ticket(issue_type: str, issue_location: str, ctx: ActionContext) -> dict[str, str]:
    ticket = f"FAC-{len(TICKETS) + 101}"
    TICKETS[ticket] = {"type": issue_type, "where": issue_location, "by": ctx.user_id or ""}
    return {"ticket_id": ticket}


# --- parcels ----------------------------------------------------------------

PARCELS: list[dict[str, object]] = []


@ActionRegistry.register("register_parcel")
def register_parcel(
    recipient: str, carrier: str, delivery_date: date, tracking_number: str
) -> dict[str, str]:
    shelf = "ABCDEF"[len(PARCELS) % 6] + str(len(PARCELS) % 4 + 1)
    PARCELS.append(
        {
            "for": recipient,
            "carrier": carrier,
            "date": delivery_date,
            "tracking": tracking_number.upper(),
            "shelf": shelf,
        }
    )
    return {"shelf": shelf}
