"""Regression tests for the review of the action layer."""

import asyncio
import functools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from soni import ActionContext, ActionFailed, ActionRegistrationError, ActionRegistry


@pytest.fixture
def registry() -> ActionRegistry:
    return ActionRegistry()


# -- generators are not handlers --------------------------------------------------


def numbers() -> Iterator[dict[str, int]]:
    yield {"n": 1}


async def async_numbers() -> Any:
    yield {"n": 1}


@pytest.mark.parametrize("handler", [numbers, async_numbers], ids=["generator", "async-generator"])
def test_a_generator_function_is_refused_locally(registry: ActionRegistry, handler: Any) -> None:
    with pytest.raises(ActionRegistrationError, match="generator"):
        registry.register_local("numbers", handler)

    assert "numbers" not in registry


@pytest.mark.parametrize("handler", [numbers, async_numbers], ids=["generator", "async-generator"])
def test_a_generator_function_is_refused_by_the_decorator(handler: Any) -> None:
    with pytest.raises(ActionRegistrationError, match="generator"):
        ActionRegistry.register("numbers")(handler)
    with pytest.raises(ActionRegistrationError, match="generator"):
        ActionRegistry.register(handler)

    assert ActionRegistry().list_actions() == {"global": [], "local": []}


# -- the bare decorator needs a name ----------------------------------------------


def transfer(amount: float) -> dict:
    return {"amount": amount}


class Greeter:
    def __call__(self, name: str) -> dict:
        return {"greeting": f"Hello {name}"}


@pytest.mark.parametrize(
    "handler",
    [functools.partial(transfer, amount=1.0), Greeter()],
    ids=["partial", "callable-object"],
)
def test_the_bare_decorator_refuses_a_handler_without_a_name(handler: Any) -> None:
    with pytest.raises(ActionRegistrationError, match="name"):
        ActionRegistry.register(handler)

    assert ActionRegistry().list_actions() == {"global": [], "local": []}


@pytest.mark.parametrize(
    "handler",
    [functools.partial(transfer, amount=1.0), Greeter()],
    ids=["partial", "callable-object"],
)
def test_a_handler_without_a_name_registers_under_a_given_name(handler: Any) -> None:
    assert ActionRegistry.register("act")(handler) is handler

    assert ActionRegistry().get("act") is handler


# -- a handler's own CancelledError is its failure --------------------------------


async def cancels_itself() -> None:
    raise asyncio.CancelledError()


def cancels_itself_in_a_thread() -> None:
    raise asyncio.CancelledError()


async def awaits_a_cancelled_call() -> None:
    inner = asyncio.create_task(asyncio.sleep(30))
    inner.cancel()
    await inner


@pytest.mark.parametrize(
    "handler",
    [cancels_itself, cancels_itself_in_a_thread, awaits_a_cancelled_call],
    ids=["async", "sync", "cancelled-inner-call"],
)
async def test_a_handler_raising_cancelled_error_fails_without_cancelling_its_caller(
    registry: ActionRegistry, handler: Any
) -> None:
    registry.register_local("act", handler)

    caller = asyncio.create_task(registry.run("act"))
    done, _ = await asyncio.wait({caller}, timeout=5)

    assert done == {caller}
    assert not caller.cancelled()
    failure = caller.exception()
    assert isinstance(failure, ActionFailed)
    assert isinstance(failure.__cause__, asyncio.CancelledError)
    current = asyncio.current_task()
    assert current is not None and current.cancelling() == 0
    # The registry stays usable.
    registry.register_local("ping", lambda: {"pong": True})
    assert await registry.run("ping") == {"pong": True}


# -- a broken pool is not the handler's failure -----------------------------------


async def test_a_shut_down_executor_is_not_blamed_on_the_handler() -> None:
    pool = ThreadPoolExecutor(max_workers=1)
    pool.shutdown()
    registry = ActionRegistry(executor=pool)
    calls: list[str] = []
    registry.register_local("transfer", lambda: calls.append("ran"))

    with pytest.raises(RuntimeError) as caught:
        await registry.run("transfer")

    assert not isinstance(caught.value, ActionFailed)
    assert calls == []


# -- ActionContext ---------------------------------------------------------------


def test_the_context_repr_hides_the_idempotency_key_and_the_token() -> None:
    ctx = ActionContext(
        conversation_id="conv-1",
        idempotency_key="idem-key-7f3a",
        confirmation_token="secret-token-91bc",
    )

    text = repr(ctx)

    assert "idem-key-7f3a" not in text
    assert "secret-token-91bc" not in text
    assert "conv-1" in text
    assert ctx.idempotency_key == "idem-key-7f3a"
    assert ctx.confirmation_token == "secret-token-91bc"


def test_a_context_is_hashable() -> None:
    plain = ActionContext()
    with_extras = ActionContext(conversation_id="conv-1", extras={"channel": "chat"})

    contexts = {plain, with_extras}
    by_context = {plain: "a", with_extras: "b"}

    assert isinstance(hash(plain), int)
    assert hash(with_extras) == hash(with_extras)
    assert len(contexts) == 2
    assert plain in contexts
    assert by_context[with_extras] == "b"
