"""Handlers of the museum bot: a pretend ticket office, tour desk, membership
office and lost-property desk, all keeping their records in memory."""

from datetime import date, time, timedelta

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

ADULT, CHILD, CONCESSION = 18.0, 8.0, 12.0
TIER_PRICES = {"individual": 60.0, "dual": 95.0, "family": 120.0, "patron": 250.0}

TICKETS: list[dict[str, object]] = []
TOURS: list[dict[str, object]] = []
MEMBERS: dict[str, dict[str, object]] = {
    "MB-204518": {"name": "Ana Pereira", "tier": "dual", "expires": date(2026, 12, 31)},
    "MB-310077": {"name": "Tom de Vries", "tier": "individual", "expires": date(2027, 1, 15)},
    "MB-118230": {"name": "Lena Hofmann", "tier": "family", "expires": date(2026, 12, 20)},
}
LOST: list[dict[str, object]] = []
BUSY_TOURS = {("sign language", 10)}  # (language, hour) with no guide free


def _ref(prefix: str, ctx: ActionContext) -> str:
    return f"{prefix}-{ctx.idempotency_key[-6:].upper()}"


def _norm_member(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"MB-{digits}"


@validator("tour_group_size")
def tour_group_size(value: int) -> bool:
    return 1 <= value <= 20


@validator("tour_start")
def tour_start(value: time) -> bool:
    return time(10, 0) <= value <= time(16, 0)


# --- tickets ---------------------------------------------------------------


@ActionRegistry.register("find_entry_slots", idempotent=True)
def find_entry_slots(visit_date: date) -> dict[str, time]:
    if visit_date.weekday() == 0:  # closed on Mondays
        raise LookupError("closed on Mondays")
    if visit_date.weekday() >= 5:
        return {"slot_1": time(10, 0), "slot_2": time(11, 30), "slot_3": time(14, 30)}
    return {"slot_1": time(10, 0), "slot_2": time(13, 0), "slot_3": time(15, 30)}


def _hold(entry: time, adults: int, children: int, concessions: int) -> dict[str, object]:
    total = adults * ADULT + children * CHILD + concessions * CONCESSION
    return {"entry_time": entry, "total_price": total}


@ActionRegistry.register("hold_slot_1")
def hold_slot_1(slot_1: time, adults: int, children: int, concessions: int) -> dict[str, object]:
    return _hold(slot_1, adults, children, concessions)


@ActionRegistry.register("hold_slot_2")
def hold_slot_2(slot_2: time, adults: int, children: int, concessions: int) -> dict[str, object]:
    return _hold(slot_2, adults, children, concessions)


@ActionRegistry.register("hold_slot_3")
def hold_slot_3(slot_3: time, adults: int, children: int, concessions: int) -> dict[str, object]:
    return _hold(slot_3, adults, children, concessions)


def find_tickets(ctx: ActionContext) -> dict[str, str] | None:
    ref = _ref("TK", ctx)
    return {"ticket_reference": ref} if any(t["ref"] == ref for t in TICKETS) else None


@ActionRegistry.register("pay_tickets", reconcile=find_tickets)
def pay_tickets(
    visit_date: date,
    entry_time: time,
    adults: int,
    children: int,
    concessions: int,
    total_price: float,
    ctx: ActionContext,
) -> dict[str, str]:
    ref = _ref("TK", ctx)
    TICKETS.append(
        {
            "ref": ref,
            "date": visit_date,
            "entry": entry_time,
            "tickets": (adults, children, concessions),
            "paid": total_price,
        }
    )
    return {"ticket_reference": ref}


# --- guided tours ----------------------------------------------------------


def find_tour(ctx: ActionContext) -> dict[str, str] | None:
    ref = _ref("GT", ctx)
    return {"tour_reference": ref} if any(t["ref"] == ref for t in TOURS) else None


@ActionRegistry.register("book_guided_tour", reconcile=find_tour)
def book_guided_tour(
    tour_language: str,
    group_size: int,
    tour_date: date,
    tour_time: time,
    tour_contact: str,
    ctx: ActionContext,
) -> dict[str, str]:
    if (tour_language, tour_time.hour) in BUSY_TOURS:
        raise LookupError(f"no {tour_language} guide at {tour_time}")
    ref = _ref("GT", ctx)
    TOURS.append(
        {
            "ref": ref,
            "language": tour_language,
            "size": group_size,
            "when": (tour_date, tour_time),
            "contact": tour_contact,
        }
    )
    return {"tour_reference": ref}


# --- membership ------------------------------------------------------------


@ActionRegistry.register("quote_membership", idempotent=True)
def quote_membership(membership_tier: str) -> dict[str, float]:
    return {"membership_price": TIER_PRICES[membership_tier]}


def find_new_member(ctx: ActionContext) -> dict[str, str] | None:
    ref = _ref("MB", ctx)
    return {"membership_reference": ref} if ref in MEMBERS else None


@ActionRegistry.register("create_membership", reconcile=find_new_member)
def create_membership(
    membership_tier: str, member_name: str, member_email: str, ctx: ActionContext
) -> dict[str, str]:
    ref = f"MB-{abs(hash(ctx.idempotency_key)) % 1_000_000:06d}"
    MEMBERS[ref] = {
        "name": member_name,
        "email": member_email,
        "tier": membership_tier,
        "expires": date.today() + timedelta(days=365),
        "key": ctx.idempotency_key,
    }
    return {"membership_reference": ref}


@ActionRegistry.register("find_member", idempotent=True)
def find_member(member_number: str) -> dict[str, object]:
    member = MEMBERS.get(_norm_member(member_number))
    if member is None:
        raise LookupError(f"no membership {member_number!r}")
    return {
        "member_name": member["name"],
        "current_tier": member["tier"],
        "membership_expiry": member["expires"],
    }


@ActionRegistry.register("renew_member")
def renew_member(member_number: str, membership_tier: str, ctx: ActionContext) -> dict[str, str]:
    member = MEMBERS[_norm_member(member_number)]
    member["tier"] = membership_tier
    member["expires"] = member["expires"] + timedelta(days=365)  # type: ignore[operator]
    return {"membership_reference": _ref("RN", ctx)}


# --- lost property ---------------------------------------------------------


@ActionRegistry.register("file_lost_report")
def file_lost_report(
    item_description: str, lost_date: date, contact_email: str, ctx: ActionContext
) -> dict[str, str]:
    ref = f"LP-{len(LOST) + 1001}"
    LOST.append({"ref": ref, "item": item_description, "date": lost_date, "email": contact_email})
    return {"lost_reference": ref}
