"""Handlers of the utility bot: a pretend electricity and gas supplier, in memory."""

from datetime import date, time

from soni import ActionContext, ActionRegistry

# (account, meter) -> the last reading on file; an account not listed starts at 0.
LAST_READINGS: dict[tuple[str, str], int] = {
    ("ACC-7731092", "electricity"): 45210,
    ("ACC-7731092", "gas"): 3120,
    ("ACC-5520917", "electricity"): 18877,
}
TARIFFS: dict[str, str] = {"ACC-7731092": "Standard Variable", "ACC-5520917": "Night Saver"}
BALANCES: dict[str, float] = {"ACC-7731092": 84.2, "ACC-5520917": 213.75}
READINGS: list[dict[str, object]] = []
OUTAGES: list[dict[str, object]] = []
MOVES: list[dict[str, object]] = []
PAYMENTS: list[dict[str, object]] = []


def _ref(prefix: str, ctx: ActionContext) -> str:
    return f"{prefix}-{ctx.idempotency_key[-6:].upper()}"


@ActionRegistry.register("get_last_reading", idempotent=True)
def get_last_reading(account_number: str, meter_type: str) -> dict[str, int]:
    return {"last_reading": LAST_READINGS.get((account_number.upper(), meter_type), 0)}


@ActionRegistry.register("submit_reading")
def submit_reading(
    account_number: str, meter_type: str, reading: int, ctx: ActionContext
) -> dict[str, str]:
    LAST_READINGS[(account_number.upper(), meter_type)] = reading
    READINGS.append({"account": account_number, "meter": meter_type, "reading": reading})
    return {"reference": _ref("RD", ctx)}


@ActionRegistry.register("log_outage")
def log_outage(
    outage_address: str, outage_since: time, medical_equipment: bool, ctx: ActionContext
) -> dict[str, str]:
    OUTAGES.append(
        {"address": outage_address, "since": outage_since, "priority": medical_equipment}
    )
    return {"reference": _ref("OUT", ctx)}


@ActionRegistry.register("register_move")
def register_move(
    account_number: str,
    move_out_date: date,
    final_reading_time: time,
    new_address: str,
    keep_tariff: bool,
    ctx: ActionContext,
) -> dict[str, str]:
    MOVES.append(
        {
            "account": account_number,
            "date": move_out_date,
            "reading_time": final_reading_time,
            "new_address": new_address,
            "keep_tariff": keep_tariff,
        }
    )
    return {"reference": _ref("MV", ctx)}


@ActionRegistry.register("get_current_tariff", idempotent=True)
def get_current_tariff(account_number: str) -> dict[str, str]:
    return {"tariff": TARIFFS.get(account_number.upper(), "Standard Variable")}


def _switch(account_number: str, tariff: str) -> dict[str, str]:
    TARIFFS[account_number.upper()] = tariff
    return {"tariff": tariff}


@ActionRegistry.register("switch_to_fixed")
def switch_to_fixed(account_number: str) -> dict[str, str]:
    return _switch(account_number, "Fixed 24")


@ActionRegistry.register("switch_to_green")
def switch_to_green(account_number: str) -> dict[str, str]:
    return _switch(account_number, "Green Flex")


@ActionRegistry.register("switch_to_night")
def switch_to_night(account_number: str) -> dict[str, str]:
    return _switch(account_number, "Night Saver")


@ActionRegistry.register("get_balance_due", idempotent=True)
def get_balance_due(account_number: str) -> dict[str, float]:
    return {"balance": BALANCES.get(account_number.upper(), 0.0)}


@ActionRegistry.register("pay_bill")
def pay_bill(account_number: str, bill_amount: float, ctx: ActionContext) -> dict[str, str]:
    account = account_number.upper()
    BALANCES[account] = round(BALANCES.get(account, 0.0) - bill_amount, 2)
    PAYMENTS.append({"account": account, "amount": bill_amount, "key": ctx.idempotency_key})
    return {"receipt": _ref("PAY", ctx)}
