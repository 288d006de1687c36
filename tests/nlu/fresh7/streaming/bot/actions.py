"""Handlers of the streaming bot: a pretend subscription back office kept in memory."""

from __future__ import annotations

import calendar
from datetime import date, time

from soni import ActionContext, ActionRegistry, validator

PRICES = {"Basic": 7.99, "Standard": 12.99, "Premium": 17.99}
ACCOUNT: dict[str, object] = {
    "plan": "Standard",
    "renewal": date(2026, 12, 21),
    "status": "active",
    "card": {"holder": "Marta Ruiz", "last4": "1111", "expiry": "03/27"},
    "profiles": {"Marta": False, "Jorge": False, "Kids": True},
}
TICKETS: list[dict[str, object]] = []
CANCELLED: dict[str, str] = {}  # idempotency key -> reference
PAUSES: dict[str, date] = {}  # idempotency key -> resume date
MAX_PROFILES = 5


def _add_months(start: date, months: int) -> date:
    month = start.month - 1 + months
    year = start.year + month // 12
    month = month % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


@validator("pause_length")
def pause_length(value: int) -> bool:
    return 1 <= value <= 3


@ActionRegistry.register("get_current_plan", idempotent=True)
def get_current_plan() -> dict[str, object]:
    return {"current_plan": ACCOUNT["plan"], "renewal_date": ACCOUNT["renewal"]}


def _switch(plan: str) -> dict[str, object]:
    current = str(ACCOUNT["plan"])
    if plan == current:
        raise ValueError(f"already on {plan}")
    # Upgrades start now; downgrades at the next billing date.
    if PRICES[plan] > PRICES[current]:
        effective = date.today()
    else:
        effective = ACCOUNT["renewal"]
    ACCOUNT["plan"] = plan
    return {"new_plan": plan, "plan_effective": effective}


@ActionRegistry.register("switch_to_basic")
def switch_to_basic() -> dict[str, object]:
    return _switch("Basic")


@ActionRegistry.register("switch_to_standard")
def switch_to_standard() -> dict[str, object]:
    return _switch("Standard")


@ActionRegistry.register("switch_to_premium")
def switch_to_premium() -> dict[str, object]:
    return _switch("Premium")


def find_cancellation(ctx: ActionContext) -> dict[str, str] | None:
    reference = CANCELLED.get(ctx.idempotency_key)
    return None if reference is None else {"cancel_ref": reference}


@ActionRegistry.register("end_subscription", reconcile=find_cancellation)
def end_subscription(cancel_reason: str, ctx: ActionContext) -> dict[str, str]:
    reference = f"CX-{ctx.idempotency_key[-6:].upper()}"
    CANCELLED[ctx.idempotency_key] = reference
    ACCOUNT["status"] = f"cancelled ({cancel_reason}), ends {ACCOUNT['renewal']}"
    return {"cancel_ref": reference}


def _digits(card_number: str) -> str:
    return "".join(ch for ch in card_number if ch.isdigit())


@ActionRegistry.register("mask_card", idempotent=True)
def mask_card(card_number: str) -> dict[str, str]:
    return {"card_last4": _digits(card_number)[-4:]}


@ActionRegistry.register("save_card")
def save_card(card_holder: str, card_number: str, card_expiry: str) -> dict[str, str]:
    digits = _digits(card_number)
    if digits.startswith("0000"):
        raise ValueError("card declined")
    ACCOUNT["card"] = {"holder": card_holder, "last4": digits[-4:], "expiry": card_expiry}
    return {}


@ActionRegistry.register("create_profile")
def create_profile(profile_name: str, kids_profile: bool) -> dict[str, object]:
    profiles: dict[str, bool] = ACCOUNT["profiles"]  # type: ignore[assignment]
    name = profile_name.strip()
    if len(profiles) >= MAX_PROFILES or name.lower() in {p.lower() for p in profiles}:
        raise ValueError(f"cannot add profile {name!r}")
    profiles[name] = kids_profile
    return {}


@ActionRegistry.register("delete_profile")
def delete_profile(profile_name: str) -> dict[str, object]:
    profiles: dict[str, bool] = ACCOUNT["profiles"]  # type: ignore[assignment]
    for name in list(profiles):
        if name.lower() == profile_name.strip().lower():
            del profiles[name]
            return {}
    raise LookupError(f"no profile {profile_name!r}")


@ActionRegistry.register("log_ticket")
def log_ticket(
    device: str, error_code: str, issue_time: time, ctx: ActionContext
) -> dict[str, str]:
    ticket = f"PB-{len(TICKETS) + 4101}"
    TICKETS.append(
        {
            "ticket": ticket,
            "device": device,
            "error_code": error_code.upper(),
            "time": issue_time,
            "conversation": ctx.conversation_id,
        }
    )
    return {"ticket_id": ticket}


def find_pause(ctx: ActionContext) -> dict[str, date] | None:
    resume = PAUSES.get(ctx.idempotency_key)
    return None if resume is None else {"resume_date": resume}


@ActionRegistry.register("pause_account", reconcile=find_pause)
def pause_account(pause_months: int, pause_start: date, ctx: ActionContext) -> dict[str, date]:
    resume = _add_months(pause_start, pause_months)
    PAUSES[ctx.idempotency_key] = resume
    ACCOUNT["status"] = f"paused {pause_start} to {resume}"
    return {"resume_date": resume}
