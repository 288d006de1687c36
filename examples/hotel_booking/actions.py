"""Handlers of the hotel booking example: a pretend reservation system."""

from datetime import date

from soni import ActionContext, ActionRegistry

HELD: list[dict[str, object]] = []  # each hold_room call, for the tests
BOOKED: list[dict[str, object]] = []  # each book_room call, for the tests


@ActionRegistry.register("hold_room")
def hold_room(
    room_type: str, check_in: date, check_out: date, rooms_added: int, ctx: ActionContext
) -> dict[str, str]:
    floor = 5 if room_type == "suite" else 1
    number = f"{floor}{rooms_added + 1:02d}"
    HELD.append(
        {
            "conversation": ctx.conversation_id,
            "key": ctx.idempotency_key,
            "room_type": room_type,
            "number": number,
            "nights": (check_out - check_in).days,
        }
    )
    return {"room_number": number}


@ActionRegistry.register("book_room")
def book_room(
    room_type: str,
    rooms: int,
    guests: int,
    check_in: date,
    check_out: date,
    guest_name: str,
    guest_email: str,
    ctx: ActionContext,
) -> dict[str, str]:
    BOOKED.append(
        {
            "conversation": ctx.conversation_id,
            "room_type": room_type,
            "rooms": rooms,
            "guests": guests,
            "check_in": check_in,
            "check_out": check_out,
            "guest": guest_name,
            "email": guest_email,
        }
    )
    return {"reference": f"HB-{ctx.idempotency_key[-6:].upper()}"}
