"""What a handler says about a call whose outcome was lost: idempotent, or a reconcile check."""

from __future__ import annotations

import pytest

from soni import ActionContext, ActionRegistrationError, ActionRegistry
from soni.actions.errors import ActionFailed, ActionNotFound

ORDERS = {"key-1": "O-1"}


def find_order(ctx: ActionContext) -> dict[str, str] | None:
    """At the provider: the order placed under this idempotency key, if any."""
    number = ORDERS.get(ctx.idempotency_key)
    return None if number is None else {"order": number}


def place_order(item: str, ctx: ActionContext) -> dict[str, str]:
    return {"order": f"O-{item}"}


def test_the_decorator_records_idempotent_and_the_reconcile_check() -> None:
    ActionRegistry.register("place_order", reconcile=find_order)(place_order)

    @ActionRegistry.register("read_stock", idempotent=True)
    def read_stock() -> dict[str, int]:
        return {"stock": 3}

    registry = ActionRegistry()
    placing, reading = registry.resolve("place_order"), registry.resolve("read_stock")
    assert (placing.idempotent, placing.reconcile is not None) == (False, True)
    assert placing.reconcile is not None and placing.reconcile.handler is find_order
    assert (reading.idempotent, reading.reconcile) == (True, None)


def test_a_local_registration_takes_them_too() -> None:
    registry = ActionRegistry()
    spec = registry.register_local(
        "place_order", place_order, idempotent=True, reconcile=find_order
    )

    assert spec.idempotent and spec.reconcile is not None
    assert registry.resolve("place_order").idempotent


def test_a_bad_reconcile_check_is_refused_when_registered_and_named() -> None:
    def bad(*items: str) -> None: ...

    with pytest.raises(ActionRegistrationError, match=r"'place_order'.*reconcile: \*items"):
        ActionRegistry.register("place_order", reconcile=bad)(place_order)
    with pytest.raises(ActionRegistrationError, match="reconcile: the handler must be callable"):
        ActionRegistry.register("place_order", reconcile="find_order")(place_order)  # type: ignore[arg-type]
    with pytest.raises(ActionRegistrationError, match="idempotent must be true or false"):
        ActionRegistry.register("place_order", idempotent="yes")(place_order)  # type: ignore[arg-type]
    assert "place_order" not in ActionRegistry()


async def test_the_check_tells_a_call_that_happened_from_one_that_did_not() -> None:
    registry = ActionRegistry()
    registry.register_local("place_order", place_order, reconcile=find_order)

    found = await registry.reconcile(
        "place_order", {"item": "pen"}, ActionContext(idempotency_key="key-1")
    )
    missing = await registry.reconcile(
        "place_order", {"item": "pen"}, ActionContext(idempotency_key="key-2")
    )

    assert found == {"order": "O-1"}
    assert missing is None


async def test_a_check_that_cannot_tell_raises_as_a_handler_would() -> None:
    async def unreachable(ctx: ActionContext) -> dict[str, str] | None:
        raise ConnectionError("the provider does not answer")

    registry = ActionRegistry()
    registry.register_local("place_order", place_order, reconcile=unreachable)

    with pytest.raises(ActionFailed, match="does not answer") as failure:
        await registry.reconcile("place_order", {"item": "pen"}, ActionContext())
    assert failure.value.action == "place_order (reconcile)"


async def test_an_action_without_a_check_cannot_be_reconciled() -> None:
    registry = ActionRegistry()
    registry.register_local("place_order", place_order)

    with pytest.raises(LookupError, match="no reconcile check"):
        await registry.reconcile("place_order", {"item": "pen"})
    with pytest.raises(ActionNotFound):
        await registry.reconcile("no_such_action")
