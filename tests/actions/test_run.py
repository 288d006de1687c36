"""Running an action: arguments from slots, threads, timeouts, failures and results."""

import asyncio
import contextvars
import dataclasses
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import MappingProxyType
from typing import Any

import pytest
from pydantic import BaseModel

from soni import (
    ActionArgumentError,
    ActionContext,
    ActionFailed,
    ActionNotFound,
    ActionRegistry,
    ActionTimeout,
)


@pytest.fixture
def registry() -> ActionRegistry:
    return ActionRegistry()


# -- arguments -------------------------------------------------------------------


async def test_parameters_receive_the_slots_of_the_same_name(registry: ActionRegistry) -> None:
    def transfer(amount: float, iban: str) -> dict:
        return {"amount": amount, "iban": iban}

    registry.register_local("transfer", transfer)

    result = await registry.run("transfer", {"amount": 10.5, "iban": "ES12", "unrelated": 1})

    assert result == {"amount": 10.5, "iban": "ES12"}


async def test_async_handler_receives_slots_too(registry: ActionRegistry) -> None:
    async def transfer(amount: float, iban: str) -> dict:
        await asyncio.sleep(0)
        return {"amount": amount, "iban": iban}

    registry.register_local("transfer", transfer)

    assert await registry.run("transfer", {"amount": 3, "iban": "X"}) == {"amount": 3, "iban": "X"}


@pytest.mark.parametrize("slots", [{}, {"currency": None}], ids=["absent", "none"])
async def test_unfilled_slot_leaves_the_default(
    registry: ActionRegistry, slots: dict[str, Any]
) -> None:
    def charge(amount: float = 1.0, currency: str = "EUR") -> dict:
        return {"amount": amount, "currency": currency}

    registry.register_local("charge", charge)

    assert await registry.run("charge", {"amount": 5.0, **slots}) == {
        "amount": 5.0,
        "currency": "EUR",
    }


async def test_falsy_slot_values_are_passed(registry: ActionRegistry) -> None:
    def charge(amount: float = 1.0, note: str = "default", ok: bool = True) -> dict:
        return {"amount": amount, "note": note, "ok": ok}

    registry.register_local("charge", charge)

    result = await registry.run("charge", {"amount": 0, "note": "", "ok": False})

    assert result == {"amount": 0, "note": "", "ok": False}


async def test_missing_required_slots_are_all_named_and_the_handler_is_not_called(
    registry: ActionRegistry,
) -> None:
    calls: list[tuple[Any, ...]] = []

    def transfer(amount: float, iban: str, currency: str = "EUR", *, memo: str) -> None:
        calls.append((amount, iban, currency, memo))

    registry.register_local("transfer", transfer)

    with pytest.raises(ActionArgumentError) as info:
        await registry.run("transfer", {"iban": None, "currency": "USD"})

    assert info.value.action == "transfer"
    assert info.value.missing == ("amount", "iban", "memo")
    message = str(info.value)
    assert "'transfer'" in message
    for name in ("'amount'", "'iban'", "'memo'"):
        assert name in message
    assert calls == []


async def test_missing_slots_without_a_slots_mapping(registry: ActionRegistry) -> None:
    async def greet(name: str) -> dict:
        return {"name": name}

    registry.register_local("greet", greet)

    with pytest.raises(ActionArgumentError) as info:
        await registry.run("greet")

    assert info.value.missing == ("name",)


async def test_slots_parameter_gets_a_copy_of_all_slots(registry: ActionRegistry) -> None:
    received: list[dict[str, Any]] = []

    def handler(slots: dict) -> None:
        received.append(dict(slots))
        slots["amount"] = 0
        slots["injected"] = True
        del slots["iban"]

    registry.register_local("handler", handler)
    caller_slots = {"amount": 10, "iban": "ES12", "empty": None}

    await registry.run("handler", caller_slots)

    assert received == [{"amount": 10, "iban": "ES12", "empty": None}]
    assert caller_slots == {"amount": 10, "iban": "ES12", "empty": None}


async def test_handler_without_parameters_ignores_slots(registry: ActionRegistry) -> None:
    registry.register_local("ping", lambda: {"pong": True})

    assert await registry.run("ping", {"anything": 1}) == {"pong": True}


# -- context ---------------------------------------------------------------------


async def test_the_callers_context_is_passed(registry: ActionRegistry) -> None:
    seen: list[ActionContext] = []

    async def handler(amount: float, context: ActionContext) -> None:
        seen.append(context)

    registry.register_local("handler", handler)
    ctx = ActionContext(conversation_id="c-1", user_id="u-1", idempotency_key="key-1")

    await registry.run("handler", {"amount": 1}, ctx=ctx)

    assert len(seen) == 1
    assert seen[0] is ctx


async def test_a_fresh_context_with_a_random_idempotency_key_when_none_given(
    registry: ActionRegistry,
) -> None:
    seen: list[ActionContext] = []

    def handler(ctx) -> None:  # type: ignore[no-untyped-def]
        seen.append(ctx)

    registry.register_local("handler", handler)

    await registry.run("handler")
    await registry.run("handler")

    assert len(seen) == 2
    assert all(isinstance(ctx, ActionContext) for ctx in seen)
    keys = [ctx.idempotency_key for ctx in seen]
    assert all(isinstance(key, str) and key for key in keys)
    assert keys[0] != keys[1]


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


# -- threads ---------------------------------------------------------------------


async def test_sync_handler_runs_off_the_event_loop_thread(registry: ActionRegistry) -> None:
    threads: list[int] = []

    def handler() -> None:
        threads.append(threading.get_ident())

    registry.register_local("handler", handler)

    await registry.run("handler")

    assert len(threads) == 1
    assert threads[0] != threading.get_ident()


async def test_context_variables_reach_the_worker_thread(registry: ActionRegistry) -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")

    def handler() -> dict:
        return {"request_id": request_id.get("unset"), "thread": threading.get_ident()}

    registry.register_local("handler", handler)
    request_id.set("req-42")

    result = await registry.run("handler")

    assert result["request_id"] == "req-42"
    assert result["thread"] != threading.get_ident()


# -- timeouts --------------------------------------------------------------------


async def test_slow_async_handler_times_out_and_is_cancelled(registry: ActionRegistry) -> None:
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    registry.register_local("slow", slow)

    with pytest.raises(ActionTimeout) as info:
        await registry.run("slow", timeout=0.05)

    assert isinstance(info.value, ActionFailed)
    assert info.value.action == "slow"
    assert info.value.timeout == 0.05
    assert "'slow'" in str(info.value)
    assert cancelled.is_set()


async def test_slow_sync_handler_times_out(
    registry: ActionRegistry, release: threading.Event
) -> None:
    def slow() -> None:
        release.wait(5)  # until the test is over

    registry.register_local("slow", slow)

    with pytest.raises(ActionTimeout) as info:
        await registry.run("slow", timeout=0.05)

    assert info.value.action == "slow"
    assert info.value.timeout == 0.05


def test_action_timeout_is_an_action_failed() -> None:
    assert issubclass(ActionTimeout, ActionFailed)


async def _raise_timeout_async() -> None:
    raise TimeoutError("upstream API timed out")


def _raise_timeout_sync() -> None:
    raise TimeoutError("upstream API timed out")


@pytest.mark.parametrize("handler", [_raise_timeout_async, _raise_timeout_sync])
@pytest.mark.parametrize("timeout", [None, 5.0])
async def test_handlers_own_timeout_error_is_a_failure_not_a_timeout(
    registry: ActionRegistry, handler: Callable[[], Any], timeout: float | None
) -> None:
    registry.register_local("call_api", handler)

    with pytest.raises(ActionFailed) as info:
        await registry.run("call_api", timeout=timeout)

    assert not isinstance(info.value, ActionTimeout)
    assert isinstance(info.value.cause, TimeoutError)
    assert str(info.value.cause) == "upstream API timed out"


async def test_fast_handler_with_a_timeout_returns_normally(registry: ActionRegistry) -> None:
    registry.register_local("fast", lambda: {"ok": True})

    assert await registry.run("fast", timeout=5.0) == {"ok": True}


# -- failures --------------------------------------------------------------------


class PaymentDeclined(Exception):
    pass


async def declined_async(amount: float) -> None:
    raise PaymentDeclined(f"card declined for {amount}")


def declined_sync(amount: float) -> None:
    raise PaymentDeclined(f"card declined for {amount}")


@pytest.mark.parametrize("handler", [declined_async, declined_sync])
async def test_handler_exception_becomes_action_failed_with_the_cause(
    registry: ActionRegistry, handler: Callable[..., Any]
) -> None:
    registry.register_local("pay", handler)

    with pytest.raises(ActionFailed) as info:
        await registry.run("pay", {"amount": 12})

    error = info.value
    assert error.action == "pay"
    assert isinstance(error.cause, PaymentDeclined)
    assert error.__cause__ is error.cause
    assert "'pay'" in str(error)
    assert "PaymentDeclined" in str(error)
    assert "card declined for 12" in str(error)
    frames = traceback.extract_tb(error.cause.__traceback__)
    assert handler.__name__ in [frame.name for frame in frames]


async def test_sync_handler_raising_stop_iteration_fails_instead_of_hanging(
    registry: ActionRegistry,
) -> None:
    # ``next()`` on an exhausted iterator is an everyday bug in handler code.
    def first_open_invoice() -> dict:
        return {"invoice": next(iter([]))}

    registry.register_local("first_open_invoice", first_open_invoice)

    with pytest.raises(ActionFailed) as info:
        async with asyncio.timeout(2):  # guard: the failure must not turn into a hang
            await registry.run("first_open_invoice")

    assert isinstance(info.value.cause, StopIteration)


async def test_sync_wrapper_returning_a_coroutine_is_awaited(registry: ActionRegistry) -> None:
    async def lookup(name: str) -> dict:
        await asyncio.sleep(0)
        return {"found": name}

    def wrapper(name: str) -> Any:
        return lookup(name)

    registry.register_local("lookup", wrapper)

    assert await registry.run("lookup", {"name": "ana"}) == {"found": "ana"}


async def test_registry_still_works_after_a_failure(registry: ActionRegistry) -> None:
    attempts: list[int] = []

    def flaky() -> dict:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first call fails")
        return {"attempt": len(attempts)}

    registry.register_local("flaky", flaky)
    registry.register_local("ping", lambda: {"pong": True})

    with pytest.raises(ActionFailed):
        await registry.run("flaky")

    assert await registry.run("ping") == {"pong": True}
    assert await registry.run("flaky") == {"attempt": 2}


async def test_caller_cancellation_of_an_async_handler_propagates(
    registry: ActionRegistry,
) -> None:
    started = asyncio.Event()

    async def wait_forever() -> None:
        started.set()
        await asyncio.Event().wait()

    registry.register_local("wait", wait_forever)

    for timeout in (None, 30.0):
        started.clear()
        task = asyncio.create_task(registry.run("wait", timeout=timeout))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


async def test_caller_cancellation_of_a_sync_handler_propagates(
    registry: ActionRegistry, release: threading.Event
) -> None:
    started = threading.Event()

    def block() -> None:
        started.set()
        release.wait(5)

    registry.register_local("block", block)

    task = asyncio.create_task(registry.run("block"))
    assert await asyncio.to_thread(started.wait, 5), "the handler never started"
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


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


# -- results ---------------------------------------------------------------------


class Receipt(BaseModel):
    transaction_id: str
    amount: float


@dataclasses.dataclass
class Transfer:
    transaction_id: str
    fees: list[int]


class Frozen(Mapping[str, Any]):
    """A Mapping that is not a dict."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param({"transaction_id": "TX-1"}, {"transaction_id": "TX-1"}, id="dict"),
        pytest.param({}, {}, id="empty-dict"),
        pytest.param(None, {}, id="none"),
        pytest.param(
            Receipt(transaction_id="TX-1", amount=5.0),
            {"transaction_id": "TX-1", "amount": 5.0},
            id="pydantic",
        ),
        pytest.param(
            Transfer("TX-2", [1, 2]), {"transaction_id": "TX-2", "fees": [1, 2]}, id="dataclass"
        ),
        pytest.param(MappingProxyType({"a": 1}), {"a": 1}, id="mappingproxy"),
        pytest.param(Frozen({"b": 2}), {"b": 2}, id="mapping"),
        pytest.param(42, {"result": 42}, id="int"),
        pytest.param([1, 2], {"result": [1, 2]}, id="list"),
        pytest.param("done", {"result": "done"}, id="str"),
        pytest.param(False, {"result": False}, id="false"),
        pytest.param(0, {"result": 0}, id="zero"),
    ],
)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_results_are_normalised_to_a_dict(
    registry: ActionRegistry, value: Any, expected: dict[str, Any], is_async: bool
) -> None:
    if is_async:

        async def handler() -> Any:
            return value

    else:

        def handler() -> Any:
            return value

    registry.register_local("act", handler)

    result = await registry.run("act")

    assert type(result) is dict
    assert result == expected


async def test_dataclass_class_itself_is_kept_under_result(registry: ActionRegistry) -> None:
    registry.register_local("act", lambda: Transfer)

    assert await registry.run("act") == {"result": Transfer}


# -- lookup ----------------------------------------------------------------------


async def test_unknown_action_suggests_close_names(registry: ActionRegistry) -> None:
    registry.register_local("send_email", lambda: None)
    ActionRegistry.register("send_sms")(lambda: None)

    with pytest.raises(ActionNotFound) as info:
        await registry.run("send_emial")

    assert info.value.name == "send_emial"
    assert "send_email" in info.value.suggestions
    assert isinstance(info.value, LookupError)
    message = str(info.value)
    assert "'send_emial'" in message
    assert "did you mean" in message
    assert "'send_email'" in message


async def test_unknown_action_without_close_names(registry: ActionRegistry) -> None:
    registry.register_local("send_email", lambda: None)

    with pytest.raises(ActionNotFound) as info:
        await registry.run("zzz")

    assert info.value.suggestions == ()
    assert "did you mean" not in str(info.value)


async def test_another_registrys_local_action_is_not_found(registry: ActionRegistry) -> None:
    ActionRegistry().register_local("private", lambda: None)

    with pytest.raises(ActionNotFound):
        await registry.run("private")


async def test_local_action_runs_instead_of_the_global_one(registry: ActionRegistry) -> None:
    ActionRegistry.register("greet")(lambda: {"from": "global"})
    registry.register_local("greet", lambda: {"from": "local"})

    assert await registry.run("greet") == {"from": "local"}
    assert await ActionRegistry().run("greet") == {"from": "global"}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_handler_calling_sys_exit_fails_without_ending_the_process(
    registry: ActionRegistry, is_async: bool
) -> None:
    def quit_sync() -> None:
        raise SystemExit(3)

    async def quit_async() -> None:
        raise SystemExit(3)

    registry.register_local("quit", quit_async if is_async else quit_sync)
    registry.register_local("ping", lambda: {"pong": True})

    with pytest.raises(ActionFailed) as info:
        await registry.run("quit")

    assert isinstance(info.value.cause, SystemExit)
    assert await registry.run("ping") == {"pong": True}
