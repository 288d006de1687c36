"""Handlers of the telecom bot: a pretend mobile operator kept in memory."""

from datetime import date, time

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

# Lines of the pretend customer base: number -> current plan.
LINES: dict[str, str] = {
    "612345678": "Basic",
    "699111222": "Plus",
    "722004455": "Unlimited",
    "655443322": "Basic",
}
BLOCKED: dict[str, str] = {}  # number -> reason
PACKS: list[dict[str, object]] = []  # every pack added, for inspection
TICKETS: list[dict[str, object]] = []  # every coverage ticket
SIM_ORDERS: list[str] = []

DATA_PRICES = {5: 5.0, 10: 8.0, 20: 12.0}
ROAMING_PER_DAY = {"europe": 0.0, "americas": 5.0, "world": 9.0}


def _number(phone_number: str) -> str:
    digits = phone_number.strip().replace(" ", "")
    return digits[3:] if digits.startswith("+34") else digits


@validator("data_pack_size")
def data_pack_size(value: int) -> bool:
    return value in DATA_PRICES


@validator("roaming_days")
def roaming_days(value: int) -> bool:
    return 1 <= value <= 30


@ActionRegistry.register("get_current_plan", idempotent=True)
def get_current_plan(phone_number: str) -> dict[str, str]:
    plan = LINES.get(_number(phone_number))
    if plan is None:
        raise LookupError(f"no line {phone_number!r}")
    return {"plan": plan}


def _switch(phone_number: str, plan: str) -> dict[str, str]:
    number = _number(phone_number)
    old = LINES.get(number, "?")
    LINES[number] = plan
    return {"plan_change": f"{number} moves from {old} to {plan}"}


@ActionRegistry.register("switch_to_basic")
def switch_to_basic(phone_number: str) -> dict[str, str]:
    return _switch(phone_number, "Basic")


@ActionRegistry.register("switch_to_plus")
def switch_to_plus(phone_number: str) -> dict[str, str]:
    return _switch(phone_number, "Plus")


@ActionRegistry.register("switch_to_unlimited")
def switch_to_unlimited(phone_number: str) -> dict[str, str]:
    return _switch(phone_number, "Unlimited")


@ActionRegistry.register("quote_data_pack", idempotent=True)
def quote_data_pack(gigabytes: int) -> dict[str, float]:
    return {"price": DATA_PRICES.get(gigabytes, 1.0 * gigabytes)}


@ActionRegistry.register("add_data_pack")
def add_data_pack(gigabytes: int, pack_price: float, ctx: ActionContext) -> dict[str, str]:
    reference = f"DP-{ctx.idempotency_key[-6:].upper()}"
    PACKS.append(
        {
            "user": ctx.user_id,
            "kind": "data",
            "gb": gigabytes,
            "price": pack_price,
            "ref": reference,
        }
    )
    return {"reference": reference}


@ActionRegistry.register("quote_roaming_pack", idempotent=True)
def quote_roaming_pack(roaming_zone: str, days: int) -> dict[str, float]:
    return {"price": ROAMING_PER_DAY.get(roaming_zone, 9.0) * days}


@ActionRegistry.register("add_roaming_pack")
def add_roaming_pack(
    roaming_zone: str, start_date: date, days: int, pack_price: float, ctx: ActionContext
) -> dict[str, str]:
    reference = f"RP-{ctx.idempotency_key[-6:].upper()}"
    PACKS.append(
        {
            "user": ctx.user_id,
            "kind": "roaming",
            "zone": roaming_zone,
            "from": start_date,
            "days": days,
            "price": pack_price,
            "ref": reference,
        }
    )
    return {"reference": reference}


@ActionRegistry.register("block_line")
def block_line(phone_number: str, block_reason: str) -> dict[str, bool]:
    number = _number(phone_number)
    if number not in LINES:
        raise LookupError(f"no line {phone_number!r}")
    BLOCKED[number] = block_reason
    return {"blocked": True}


@ActionRegistry.register("order_replacement_sim")
def order_replacement_sim(phone_number: str) -> dict[str, str]:
    reference = f"SIM-{len(SIM_ORDERS) + 301}"
    SIM_ORDERS.append(reference)
    return {"reference": reference}


@ActionRegistry.register("get_usage", idempotent=True)
def get_usage(usage_kind: str) -> dict[str, str]:
    summaries = {
        "bill": "Your December bill so far is 23.40 EUR, due on 2 January.",
        "data": "You have used 7.2 GB of your 10 GB this month; 2.8 GB left.",
        "minutes": (
            "You have made 312 minutes of calls this month; calls are unlimited on your plan."
        ),
    }
    return {"summary": summaries[usage_kind]}


@ActionRegistry.register("open_network_ticket")
def open_network_ticket(
    address: str, since_date: date, callback_time: time, ctx: ActionContext
) -> dict[str, str]:
    ticket = f"NET-{len(TICKETS) + 4101}"
    TICKETS.append(
        {"user": ctx.user_id, "address": address, "since": since_date, "callback": callback_time}
    )
    return {"ticket": ticket}
