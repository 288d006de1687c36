"""Checking names and handler signatures when an action is registered."""

import functools
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from soni import ActionContext, ActionRegistrationError, ActionRegistry, ActionSpec

# -- names -----------------------------------------------------------------------


def handler() -> None: ...


@pytest.mark.parametrize("name", ["1abc", "", "a b", "-x", ".x", "greet!", "a/b"])
def test_bad_names_are_refused_naming_the_action_and_reason(name: str) -> None:
    with pytest.raises(ActionRegistrationError) as info:
        ActionRegistry.register(name)(handler)

    assert info.value.action == name
    assert repr(name) in str(info.value)
    assert info.value.reason in str(info.value)
    assert "may contain only" in info.value.reason
    assert ActionRegistry().list_actions()["global"] == []


@pytest.mark.parametrize("name", [42, None, b"greet", ("greet",)])
def test_non_string_names_are_refused(name: Any) -> None:
    with pytest.raises(ActionRegistrationError) as info:
        ActionRegistry.register_global(name, handler)

    assert info.value.action == name
    assert repr(name) in str(info.value)
    assert "must be a string" in info.value.reason
    assert type(name).__name__ in info.value.reason


def test_bad_name_is_refused_for_local_registration_too() -> None:
    registry = ActionRegistry()

    with pytest.raises(ActionRegistrationError):
        registry.register_local("a b", handler)

    assert registry.list_actions()["local"] == []


@pytest.mark.parametrize("name", ["greet", "billing.charge", "send-email", "_private", "A1_b.c-d"])
def test_good_names_are_accepted(name: str) -> None:
    ActionRegistry.register(name)(handler)

    assert ActionRegistry().get(name) is handler


# -- refused handlers ------------------------------------------------------------


def _var_positional(*args: Any) -> None: ...


def _var_keyword(amount: float, **kwargs: Any) -> None: ...


def _positional_only(amount: float, /) -> None: ...


def _slots_and_named(slots: dict, amount: float) -> None: ...


def _two_contexts(ctx: ActionContext, other: ActionContext) -> None: ...


@pytest.mark.parametrize(
    ("bad_handler", "expected"),
    [
        pytest.param(_var_positional, ["*args"], id="var-positional"),
        pytest.param(_var_keyword, ["**kwargs", "slots"], id="var-keyword"),
        pytest.param(_positional_only, ["'amount'", "positional-only"], id="positional-only"),
        pytest.param(_slots_and_named, ["`slots`", "'amount'"], id="slots-with-named"),
        pytest.param(_two_contexts, ["two context parameters", "'ctx'", "'other'"], id="two-ctx"),
    ],
)
def test_unsupported_signatures_are_refused_with_a_reason(
    bad_handler: Any, expected: list[str]
) -> None:
    registry = ActionRegistry()

    with pytest.raises(ActionRegistrationError) as info:
        ActionRegistry.register("pay")(bad_handler)
    with pytest.raises(ActionRegistrationError):
        registry.register_local("pay", bad_handler)

    assert info.value.action == "pay"
    for fragment in expected:
        assert fragment in info.value.reason
    assert "pay" not in registry


@pytest.mark.parametrize("not_callable", [42, "greet", None, {"a": 1}])
def test_non_callable_handler_is_refused(not_callable: Any) -> None:
    with pytest.raises(ActionRegistrationError) as info:
        ActionRegistry.register_global("pay", not_callable)

    assert info.value.action == "pay"
    assert "callable" in info.value.reason
    assert "pay" not in ActionRegistry()


# -- generators are not handlers --------------------------------------------------


@pytest.fixture
def registry() -> ActionRegistry:
    return ActionRegistry()


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


# -- accepted handlers and how they are described ---------------------------------


def no_params() -> None: ...


def all_slots(slots: dict) -> None: ...


def named(amount: float, iban: str, currency: str = "EUR") -> None: ...


def keyword_only(*, amount: float, note: str | None = None) -> None: ...


def no_params_ctx(ctx: ActionContext) -> None: ...


def all_slots_ctx(slots: dict, ctx: ActionContext) -> None: ...


def named_ctx(amount: float, ctx: ActionContext, currency: str = "EUR") -> None: ...


def ctx_any_name(amount: float, context: ActionContext) -> None: ...


def ctx_unannotated(amount, ctx) -> None: ...  # type: ignore[no-untyped-def]


async def async_named(amount: float, ctx: ActionContext) -> None: ...


async def async_no_params() -> None: ...


class SyncCallable:
    def __call__(self, slots: dict) -> None: ...


class AsyncCallable:
    async def __call__(self, amount: float, call: ActionContext) -> None: ...


def charge(amount: float, currency: str) -> None: ...


_FUTURE_SOURCE = """
from __future__ import annotations

import soni
from soni import ActionContext


def future_named(amount: float, context: ActionContext, note: str | None = None) -> dict:
    return {}


def future_qualified(slots: dict, c: soni.ActionContext) -> None:
    return None
"""


def _future_handlers() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "future_handlers"}
    exec(compile(_FUTURE_SOURCE, "future_handlers.py", "exec"), namespace)
    return namespace


_FUTURE = _future_handlers()

ACCEPTED = [
    pytest.param(no_params, "none", (), (), None, False, id="no-params"),
    pytest.param(all_slots, "slots", (), (), None, False, id="slots"),
    pytest.param(
        named, "params", ("amount", "iban", "currency"), ("amount", "iban"), None, False, id="named"
    ),
    pytest.param(
        keyword_only, "params", ("amount", "note"), ("amount",), None, False, id="keyword-only"
    ),
    pytest.param(no_params_ctx, "none", (), (), "ctx", False, id="no-params+ctx"),
    pytest.param(all_slots_ctx, "slots", (), (), "ctx", False, id="slots+ctx"),
    pytest.param(
        named_ctx, "params", ("amount", "currency"), ("amount",), "ctx", False, id="named+ctx"
    ),
    pytest.param(ctx_any_name, "params", ("amount",), ("amount",), "context", False, id="any-name"),
    pytest.param(
        ctx_unannotated, "params", ("amount",), ("amount",), "ctx", False, id="unannotated-ctx"
    ),
    pytest.param(async_named, "params", ("amount",), ("amount",), "ctx", True, id="async"),
    pytest.param(async_no_params, "none", (), (), None, True, id="async-no-params"),
    pytest.param(SyncCallable(), "slots", (), (), None, False, id="callable-object"),
    pytest.param(
        AsyncCallable(), "params", ("amount",), ("amount",), "call", True, id="async-callable"
    ),
    pytest.param(
        functools.partial(charge, currency="USD"),
        "params",
        ("amount", "currency"),
        ("amount",),
        None,
        False,
        id="partial",
    ),
    pytest.param(
        functools.partial(async_named, amount=1.0),
        "params",
        ("amount",),
        (),
        "ctx",
        True,
        id="async-partial",
    ),
    pytest.param(
        _FUTURE["future_named"],
        "params",
        ("amount", "note"),
        ("amount",),
        "context",
        False,
        id="string-annotations",
    ),
    pytest.param(
        _FUTURE["future_qualified"], "slots", (), (), "c", False, id="string-qualified-annotation"
    ),
]


@pytest.mark.parametrize(("h", "mode", "params", "required", "ctx_param", "is_async"), ACCEPTED)
def test_accepted_handler_is_described_by_its_spec(
    h: Any,
    mode: str,
    params: tuple[str, ...],
    required: tuple[str, ...],
    ctx_param: str | None,
    is_async: bool,
) -> None:
    returned = ActionRegistry.register_global("act", h, description="does things")
    spec = ActionRegistry().get_spec("act")

    assert spec == returned
    assert isinstance(spec, ActionSpec)
    assert spec.name == "act"
    assert spec.handler is h
    assert spec.scope == "global"
    assert spec.description == "does things"
    assert spec.mode == mode
    assert spec.params == params
    assert spec.required == required
    assert spec.ctx_param == ctx_param
    assert spec.is_async is is_async


def test_local_spec_has_local_scope() -> None:
    registry = ActionRegistry()

    spec = registry.register_local("act", named_ctx)

    assert spec.scope == "local"
    assert registry.get_spec("act") == spec


def test_string_annotations_really_are_strings() -> None:
    # Guards the string-annotation cases above: they must not be evaluated objects.
    parameters = inspect.signature(_FUTURE["future_named"]).parameters

    assert parameters["context"].annotation == "ActionContext"
