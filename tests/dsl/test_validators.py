"""The slot validator registry: registering, built-ins, signatures, concurrency."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from soni.actions.errors import ValidatorNotFound, ValidatorRegistrationError
from soni.dsl import ValidatorRegistry, default_registry, default_validators, validator
from soni.errors import SoniError

BUILTINS = ["email", "non_negative", "not_empty", "phone", "positive"]


def check(registry: ValidatorRegistry, name: str, value: Any, slots: Any = None) -> bool:
    return asyncio.run(registry.check(name, value, slots))


def test_a_new_registry_has_the_builtins() -> None:
    assert ValidatorRegistry().names() == BUILTINS
    assert ValidatorRegistry(builtins=False).names() == []


def test_register_and_look_up() -> None:
    registry = ValidatorRegistry(builtins=False)

    def even(value: int) -> bool:
        return value % 2 == 0

    spec = registry.register("even", even)

    assert registry.get("even") is spec
    assert registry.resolve("even") is spec
    assert (spec.name, spec.func, spec.takes_slots, spec.is_async) == ("even", even, False, False)
    assert "even" in registry
    assert list(registry) == ["even"]
    assert len(registry) == 1
    assert registry.get("odd") is None
    assert check(registry, "even", 4) is True
    assert check(registry, "even", 3) is False


def test_the_decorator_registers_in_the_default_registry_and_returns_the_function() -> None:
    @validator("positive_amount")
    def positive_amount(value: float) -> bool:
        return value > 0

    assert default_registry.get("positive_amount") is not None
    assert default_validators() is default_registry
    assert check(default_registry, "positive_amount", 5.0) is True
    assert positive_amount(-1) is False


def test_the_bare_decorator_uses_the_function_name() -> None:
    registry = ValidatorRegistry(builtins=False)

    @registry.validator
    def iban(value: str) -> bool:
        return value.startswith("ES")

    assert registry.names() == ["iban"]


def test_registrations_do_not_leak_between_tests() -> None:
    assert "positive_amount" not in default_registry
    assert default_registry.names() == BUILTINS


def test_a_validator_may_take_the_slots() -> None:
    registry = ValidatorRegistry(builtins=False)

    @registry.validator("below_limit")
    def below_limit(value: float, slots: Mapping[str, Any]) -> bool:
        return value <= slots["limit"]

    assert registry.resolve("below_limit").takes_slots is True
    assert check(registry, "below_limit", 5, {"limit": 10}) is True
    assert check(registry, "below_limit", 50, {"limit": 10}) is False


def test_async_validators_are_awaited() -> None:
    registry = ValidatorRegistry(builtins=False)

    @registry.validator("remote")
    async def remote(value: str) -> bool:
        await asyncio.sleep(0)
        return value == "ok"

    assert registry.resolve("remote").is_async is True
    assert check(registry, "remote", "ok") is True
    assert check(registry, "remote", "no") is False


def test_a_callable_object_with_an_async_call_is_async() -> None:
    class Remote:
        async def __call__(self, value: str) -> bool:
            return bool(value)

    registry = ValidatorRegistry(builtins=False)
    registry.register("remote", Remote())

    assert registry.resolve("remote").is_async is True
    assert check(registry, "remote", "x") is True


def test_a_value_error_carries_the_reask_message() -> None:
    registry = ValidatorRegistry(builtins=False)

    @registry.validator("iban")
    def iban(value: str) -> bool:
        raise ValueError("An IBAN starts with two letters.")

    with pytest.raises(ValueError, match="An IBAN starts with two letters"):
        check(registry, "iban", "123")


def test_results_are_read_as_booleans() -> None:
    registry = ValidatorRegistry(builtins=False)
    registry.register("truthy", lambda value: value)

    assert check(registry, "truthy", "x") is True
    assert check(registry, "truthy", "") is False


def test_checking_an_unknown_validator_suggests_names() -> None:
    registry = ValidatorRegistry()

    with pytest.raises(ValidatorNotFound) as info:
        check(registry, "postive", 1)

    assert info.value.name == "postive"
    assert info.value.suggestions[0] == "positive"
    assert str(info.value) == "unknown validator 'postive' (did you mean 'positive'?)"
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, SoniError)


def test_unregister() -> None:
    registry = ValidatorRegistry()

    assert registry.unregister("phone") is True
    assert registry.unregister("phone") is False
    assert "phone" not in registry


def _value_only(value: Any) -> bool:
    return True


def _value_and_slots(value: Any, slots: Any) -> bool:
    return True


def _optional_slots(value: Any, slots: Any = None, extra: int = 1) -> bool:
    return True


def _keyword_with_default(value: Any, *, strict: bool = False) -> bool:
    return True


def _var_keyword(value: Any, **options: Any) -> bool:
    return True


@pytest.mark.parametrize(
    ("func", "takes_slots"),
    [
        (_value_only, False),
        (_value_and_slots, True),
        (_optional_slots, True),
        (_keyword_with_default, False),
        (_var_keyword, False),
        (str.isdigit, False),
    ],
)
def test_accepted_signatures(func: Any, takes_slots: bool) -> None:
    spec = ValidatorRegistry(builtins=False).register("v", func)

    assert spec.takes_slots is takes_slots


def _nothing() -> bool:
    return True


def _three(value: Any, slots: Any, other: Any) -> bool:
    return True


def _star_args(*values: Any) -> bool:
    return True


def _keyword_only(value: Any, *, required: Any) -> bool:
    return True


def _only_keywords(*, value: Any) -> bool:
    return True


@pytest.mark.parametrize(
    ("name", "func", "reason"),
    [
        ("v", _nothing, "takes (value) or (value, slots), but it takes no positional parameter"),
        ("v", _three, "but it requires 3 positional parameters"),
        ("v", _star_args, "*values is not accepted"),
        ("v", _keyword_only, "keyword-only parameter 'required' has no default"),
        ("v", _only_keywords, "keyword-only parameter 'value' has no default"),
        ("v", "not a function", "must be callable"),
        ("bad name", _value_only, "the name may contain only"),
        ("", _value_only, "the name may contain only"),
        (42, _value_only, "the name may contain only"),
    ],
)
def test_bad_registrations_fail_at_registration(name: Any, func: Any, reason: str) -> None:
    registry = ValidatorRegistry(builtins=False)

    with pytest.raises(ValidatorRegistrationError) as info:
        registry.register(name, func)

    assert reason in info.value.reason
    assert info.value.validator == name
    assert str(info.value).startswith(f"cannot register validator {name!r}: ")
    assert registry.names() == []


def test_replacing_a_validator_warns_and_strict_refuses(caplog: pytest.LogCaptureFixture) -> None:
    registry = ValidatorRegistry()
    with caplog.at_level(logging.WARNING, logger="soni.dsl"):
        registry.register("email", _value_only)

    assert registry.resolve("email").func is _value_only
    assert "validator 'email' replaced" in caplog.text

    strict = ValidatorRegistry(strict=True)
    with pytest.raises(ValidatorRegistrationError, match="already registered"):
        strict.register("email", _value_only)
    strict.register("mine", _value_only)
    strict.register("mine", _value_only)  # the same function again is fine


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("not_empty", "x", True),
        ("not_empty", "  ", False),
        ("not_empty", "", False),
        ("not_empty", None, False),
        ("not_empty", [], False),
        ("not_empty", [0], True),
        ("not_empty", 0, True),
        ("positive", 5, True),
        ("positive", 0.01, True),
        ("positive", "12.5", True),
        ("positive", 0, False),
        ("positive", -3, False),
        ("positive", "abc", False),
        ("positive", True, False),
        ("positive", None, False),
        ("non_negative", 0, True),
        ("non_negative", 3, True),
        ("non_negative", -0.5, False),
        ("non_negative", "x", False),
        ("email", "ana@example.com", True),
        ("email", "  ana.maria+tag@mail.example.org ", True),
        ("email", "ana@localhost", False),
        ("email", "ana.example.com", False),
        ("email", "ana@@example.com", False),
        ("email", 42, False),
        ("phone", "+34 612 345 678", True),
        ("phone", "(555) 123-4567", True),
        ("phone", "5551234", True),
        ("phone", 5551234567, True),
        ("phone", "123456", False),
        ("phone", "1234567890123456", False),
        ("phone", "555-CALL-NOW", False),
        ("phone", "12+3456789", False),
        ("phone", True, False),
    ],
)
def test_builtin_validators(name: str, value: Any, expected: bool) -> None:
    assert check(ValidatorRegistry(), name, value) is expected


def test_concurrent_registration_loses_nothing() -> None:
    registry = ValidatorRegistry(builtins=False)
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def register_many(thread: int) -> None:
        try:
            start.wait()
            for index in range(100):
                registry.register(f"v{thread}_{index}", _value_only)
                # Readers see a consistent snapshot while writers publish.
                assert f"v{thread}_{index}" in registry
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=register_many, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(registry) == 800
    assert set(registry) == {f"v{t}_{i}" for t in range(8) for i in range(100)}
