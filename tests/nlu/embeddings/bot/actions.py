"""The café's handlers: paying for a cake does nothing but say it was paid."""

from soni import ActionRegistry


@ActionRegistry.register("pay_online")
def pay_online() -> dict[str, str]:
    return {"paid": "card"}


@ActionRegistry.register("pay_at_pickup")
def pay_at_pickup() -> dict[str, str]:
    return {"paid": "at pickup"}
