"""Handlers of the insurance bot: a pretend insurer that keeps its policies in memory."""

from datetime import date, time
from typing import Any

from soni import ActionContext, ActionRegistry

POLICIES: dict[str, dict[str, Any]] = {
    "POL-8841207": {"kind": "car", "premium": 48.0, "plan": "monthly"},
    "POL-5520981": {"kind": "car", "premium": 61.5, "plan": "monthly"},
    "POL-7710032": {"kind": "car", "premium": 39.9, "plan": "quarterly"},
    "POL-1190342": {"kind": "car", "premium": 52.0, "plan": "monthly"},
    "POL-2288105": {"kind": "car", "premium": 44.0, "plan": "yearly"},
    "POL-3302918": {"kind": "home", "premium": 21.0, "plan": "monthly"},
    "POL-6604417": {"kind": "home", "premium": 18.5, "plan": "monthly"},
    "POL-4471200": {"kind": "car", "premium": 57.0, "plan": "monthly"},
    "POL-9034411": {"kind": "home", "premium": 25.0, "plan": "quarterly"},
    "POL-3019987": {"kind": "car", "premium": 41.0, "plan": "monthly"},
}
CLAIMS: dict[str, str] = {
    "CLM-55230": "being assessed by an adjuster",
    "CLM-55231": "approved; the payment is on its way",
    "CLM-48817": "waiting for the repair estimate",
}
DRIVERS: dict[str, list[str]] = {}
CANCELLED: dict[str, date] = {}


def _policy(policy_number: str) -> dict[str, Any]:
    policy = POLICIES.get(policy_number.strip().upper())
    if policy is None:
        raise LookupError(f"no policy {policy_number!r}")
    return policy


def _reference(prefix: str, ctx: ActionContext) -> str:
    # The confirmation's id is the idempotency key: a retried call gets the same reference.
    return f"{prefix}-{ctx.idempotency_key[-5:].upper()}"


@ActionRegistry.register("submit_claim")
def submit_claim(
    policy_number: str,
    claim_type: str,
    incident_date: date,
    incident_time: time,
    description: str,
    anyone_injured: bool,
    ctx: ActionContext,
) -> dict[str, str]:
    _policy(policy_number)
    number = _reference("CLM", ctx)
    CLAIMS[number] = "received; an adjuster will be assigned"
    return {"claim_number": number}


@ActionRegistry.register("get_claim_status", idempotent=True)
def get_claim_status(claim_number: str) -> dict[str, str]:
    status = CLAIMS.get(claim_number.strip().upper())
    if status is None:
        raise LookupError(f"no claim {claim_number!r}")
    return {"status": status}


@ActionRegistry.register("quote_new_driver", idempotent=True)
def quote_new_driver(
    policy_number: str, driver_birth_date: date, licence_years: int
) -> dict[str, float]:
    policy = _policy(policy_number)
    if policy["kind"] != "car":
        raise LookupError(f"{policy_number} is not a car policy")
    age = (date.today() - driver_birth_date).days // 365
    extra = 12.0
    if age < 25:
        extra += 25.0
    if licence_years < 3:
        extra += 15.0
    return {"premium": round(policy["premium"] + extra, 2)}


@ActionRegistry.register("add_driver_to_policy")
def add_driver_to_policy(
    policy_number: str, driver_name: str, new_premium: float, ctx: ActionContext
) -> dict[str, str]:
    policy = _policy(policy_number)
    DRIVERS.setdefault(policy_number.upper(), []).append(driver_name)
    policy["premium"] = new_premium
    return {"reference": _reference("DRV", ctx)}


@ActionRegistry.register("get_payment_plan", idempotent=True)
def get_payment_plan(policy_number: str) -> dict[str, str]:
    return {"plan": str(_policy(policy_number)["plan"])}


def _set_plan(policy_number: str, plan: str) -> dict[str, str]:
    _policy(policy_number)["plan"] = plan
    return {"payment_plan": plan}


@ActionRegistry.register("set_monthly_plan")
def set_monthly_plan(policy_number: str) -> dict[str, str]:
    return _set_plan(policy_number, "monthly")


@ActionRegistry.register("set_quarterly_plan")
def set_quarterly_plan(policy_number: str) -> dict[str, str]:
    return _set_plan(policy_number, "quarterly")


@ActionRegistry.register("set_yearly_plan")
def set_yearly_plan(policy_number: str) -> dict[str, str]:
    return _set_plan(policy_number, "yearly")


@ActionRegistry.register("cancel_policy")
def cancel_policy(policy_number: str, cancel_date: date, ctx: ActionContext) -> dict[str, str]:
    _policy(policy_number)
    CANCELLED[policy_number.upper()] = cancel_date
    return {"reference": _reference("CNL", ctx)}
