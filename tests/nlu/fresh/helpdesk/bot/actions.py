"""Handlers of the helpdesk bot: a pretend ticket system and directory, all in memory."""

import re
from datetime import date

from soni import ActionContext, ActionRegistry
from soni.dsl import validator

TICKET_CODE = re.compile(r"^(INC|REQ)-?\d{4,6}$", re.IGNORECASE)

TICKETS: dict[str, dict[str, str]] = {
    "INC-20417": {
        "state": "in progress",
        "summary": "printer on 3rd floor jams",
        "assignee": "Marta",
    },
    "INC-20388": {"state": "waiting for you", "summary": "Outlook crashes", "assignee": "Dev"},
    "INC-19950": {"state": "closed", "summary": "new monitor", "assignee": "Marta"},
}
ACCOUNTS = {"jsmith", "amartin", "lchen", "okafor.b", "mgarcia"}
DONE: list[dict[str, object]] = []


def _normal(code: str) -> str:
    code = code.strip().upper()
    return code if "-" in code else f"{code[:3]}-{code[3:]}"


@validator("ticket_code")
def ticket_code(value: str) -> bool:
    return bool(TICKET_CODE.match(value.strip()))


@ActionRegistry.register("reset_password")
def reset_password(system: str, account_name: str, ctx: ActionContext) -> dict[str, str]:
    if account_name.strip().lower() not in ACCOUNTS:
        raise LookupError(f"no account {account_name!r}")
    DONE.append({"action": "reset", "system": system, "account": account_name})
    return {"temp_password": f"Tmp-{ctx.idempotency_key[-6:]}!"}


@ActionRegistry.register("create_ticket")
def create_ticket(
    category: str, description: str, urgency: str, affected_users: int, ctx: ActionContext
) -> dict[str, str]:
    code = f"INC-{20500 + len(TICKETS)}"
    TICKETS[code] = {"state": "new", "summary": description[:40], "assignee": "the service desk"}
    DONE.append({"action": "create", "code": code, "category": category, "urgency": urgency})
    return {"ticket_code": code}


@ActionRegistry.register("get_ticket", idempotent=True)
def get_ticket(ticket_code: str) -> dict[str, str]:
    ticket = TICKETS.get(_normal(ticket_code))
    if ticket is None:
        raise LookupError(f"no ticket {ticket_code!r}")
    return {
        "ticket_state": ticket["state"],
        "ticket_summary": ticket["summary"],
        "assignee": ticket["assignee"],
    }


@ActionRegistry.register("escalate_ticket")
def escalate_ticket(ticket_code: str) -> None:
    DONE.append({"action": "escalate", "code": _normal(ticket_code)})


@ActionRegistry.register("remind_assignee")
def remind_assignee(ticket_code: str) -> None:
    DONE.append({"action": "remind", "code": _normal(ticket_code)})


@ActionRegistry.register("close_ticket")
def close_ticket(ticket_code: str) -> None:
    TICKETS[_normal(ticket_code)]["state"] = "closed"


def _laptop(how: str, laptop_for: str, laptop_model: str, needed_by: date) -> dict[str, str]:
    code = f"REQ-{10200 + len(DONE)}"
    DONE.append({"action": how, "for": laptop_for, "model": laptop_model, "by": needed_by})
    return {"request_code": code}


@ActionRegistry.register("deliver_to_desk")
def deliver_to_desk(laptop_for: str, laptop_model: str, needed_by: date) -> dict[str, str]:
    return _laptop("desk", laptop_for, laptop_model, needed_by)


@ActionRegistry.register("hold_at_counter")
def hold_at_counter(laptop_for: str, laptop_model: str, needed_by: date) -> dict[str, str]:
    return _laptop("counter", laptop_for, laptop_model, needed_by)


@ActionRegistry.register("ship_home")
def ship_home(laptop_for: str, laptop_model: str, needed_by: date) -> dict[str, str]:
    return _laptop("home", laptop_for, laptop_model, needed_by)


@ActionRegistry.register("service_status", idempotent=True)
def service_status() -> dict[str, str]:
    return {
        "vpn_status": "up, no known problems",
        "wifi_status": "slow on the 3rd floor, an engineer is on it",
    }
