"""Registering, finding and removing actions: the registry's bookkeeping."""

import functools
import logging
import threading
from typing import Any

import pytest

from soni import ActionRegistrationError, ActionRegistry


def greet(name: str) -> dict:
    return {"greeting": f"Hello {name}"}


def farewell(name: str) -> dict:
    return {"farewell": f"Bye {name}"}


def _qualified(handler: object) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


# -- registering globally ------------------------------------------------------


def test_class_decorator_registers_globally_and_returns_the_function() -> None:
    def handler() -> None: ...

    decorated = ActionRegistry.register("greet")(handler)

    assert decorated is handler
    assert ActionRegistry().get("greet") is handler
    assert ActionRegistry().list_actions() == {"global": ["greet"], "local": []}


def test_decorator_reached_through_an_instance_registers_globally() -> None:
    registry = ActionRegistry()

    @registry.register("greet")
    def handler() -> None: ...

    other = ActionRegistry()
    assert other.get("greet") is handler
    assert registry.list_actions() == {"global": ["greet"], "local": []}


def test_decorator_on_the_default_registry_registers_globally() -> None:
    @ActionRegistry.get_default().register("greet")
    def handler() -> None: ...

    assert ActionRegistry().get("greet") is handler


def test_registration_reaches_registries_created_before_it() -> None:
    early = ActionRegistry()

    ActionRegistry.register("greet")(greet)

    assert early.get("greet") is greet
    assert "greet" in early


def test_bare_decorator_uses_the_function_name() -> None:
    @ActionRegistry.register
    def send_invoice() -> None: ...

    assert ActionRegistry().get("send_invoice") is send_invoice


def test_bare_decorator_through_an_instance_uses_the_function_name() -> None:
    registry = ActionRegistry()

    @registry.register
    def send_invoice() -> None: ...

    assert ActionRegistry().get("send_invoice") is send_invoice


def test_register_keeps_the_description() -> None:
    ActionRegistry.register("greet", description="Says hello")(greet)

    spec = ActionRegistry().get_spec("greet")
    assert spec is not None
    assert spec.description == "Says hello"
    assert spec.scope == "global"


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


# -- local actions ---------------------------------------------------------------


def test_register_local_is_visible_only_in_that_registry() -> None:
    registry = ActionRegistry()
    other = ActionRegistry()

    registry.register_local("greet", greet)

    assert registry.get("greet") is greet
    assert other.get("greet") is None
    assert "greet" not in other
    assert registry.list_actions() == {"global": [], "local": ["greet"]}
    assert other.list_actions() == {"global": [], "local": []}


def test_local_action_wins_over_global_one_of_the_same_name() -> None:
    ActionRegistry.register("greet")(greet)
    registry = ActionRegistry()

    registry.register_local("greet", farewell)

    assert registry.get("greet") is farewell
    spec = registry.get_spec("greet")
    assert spec is not None
    assert spec.scope == "local"
    assert ActionRegistry().get("greet") is greet
    assert registry.list_actions() == {"global": ["greet"], "local": ["greet"]}


def test_removing_the_local_action_uncovers_the_global_one() -> None:
    ActionRegistry.register("greet")(greet)
    registry = ActionRegistry()
    registry.register_local("greet", farewell)

    assert registry.unregister_local("greet") is True

    assert registry.get("greet") is greet


def test_global_registration_does_not_hide_an_existing_local_one() -> None:
    registry = ActionRegistry()
    registry.register_local("greet", farewell)

    ActionRegistry.register("greet")(greet)

    assert registry.get("greet") is farewell


# -- lookups ---------------------------------------------------------------------


def test_get_returns_none_for_an_unknown_name() -> None:
    registry = ActionRegistry()

    assert registry.get("nope") is None
    assert registry.get_spec("nope") is None


def test_membership() -> None:
    registry = ActionRegistry()
    ActionRegistry.register("greet")(greet)
    registry.register_local("farewell", farewell)

    assert "greet" in registry
    assert "farewell" in registry
    assert "nope" not in registry
    assert 42 not in registry


def test_list_actions_is_sorted() -> None:
    registry = ActionRegistry()
    for name in ["charlie", "alpha", "bravo"]:
        ActionRegistry.register(name)(greet)
        registry.register_local(f"local_{name}", greet)

    assert registry.list_actions() == {
        "global": ["alpha", "bravo", "charlie"],
        "local": ["local_alpha", "local_bravo", "local_charlie"],
    }


# -- removing --------------------------------------------------------------------


def test_unregister_reports_whether_the_action_existed() -> None:
    ActionRegistry.register("greet")(greet)
    registry = ActionRegistry()

    assert ActionRegistry.unregister("greet") is True
    assert registry.get("greet") is None
    assert ActionRegistry.unregister("greet") is False


def test_unregister_leaves_a_local_action_of_the_same_name() -> None:
    ActionRegistry.register("greet")(greet)
    registry = ActionRegistry()
    registry.register_local("greet", farewell)

    assert registry.unregister("greet") is True

    assert registry.get("greet") is farewell
    assert registry.list_actions() == {"global": [], "local": ["greet"]}


def test_unregister_local_reports_whether_the_action_existed() -> None:
    registry = ActionRegistry()
    registry.register_local("greet", greet)

    assert registry.unregister_local("greet") is True
    assert registry.get("greet") is None
    assert registry.unregister_local("greet") is False


def test_unregister_local_leaves_the_global_map_alone() -> None:
    ActionRegistry.register("greet")(greet)
    registry = ActionRegistry()

    assert registry.unregister_local("greet") is False
    assert registry.get("greet") is greet


def test_clear_global_returns_the_count_and_keeps_local_actions() -> None:
    registry = ActionRegistry()
    for name in ["a", "b", "c"]:
        ActionRegistry.register(name)(greet)
    registry.register_local("mine", farewell)

    assert ActionRegistry.clear_global() == 3

    assert registry.list_actions() == {"global": [], "local": ["mine"]}
    assert registry.get("a") is None
    assert ActionRegistry.clear_global() == 0


def test_clear_is_an_alias_of_clear_global() -> None:
    ActionRegistry.register("a")(greet)
    ActionRegistry.register("b")(greet)

    assert ActionRegistry.clear() == 2
    assert ActionRegistry().list_actions()["global"] == []


def test_clear_local_returns_the_count_and_keeps_global_actions() -> None:
    ActionRegistry.register("shared")(greet)
    registry = ActionRegistry()
    other = ActionRegistry()
    registry.register_local("a", greet)
    registry.register_local("b", greet)
    other.register_local("c", greet)

    assert registry.clear_local() == 2

    assert registry.list_actions() == {"global": ["shared"], "local": []}
    assert other.list_actions() == {"global": ["shared"], "local": ["c"]}
    assert registry.clear_local() == 0


# -- overwriting -----------------------------------------------------------------


def test_global_overwrite_warns_naming_both_handlers(caplog: pytest.LogCaptureFixture) -> None:
    ActionRegistry.register("greet")(greet)

    with caplog.at_level(logging.WARNING, logger="soni.actions"):
        ActionRegistry.register("greet")(farewell)

    assert ActionRegistry().get("greet") is farewell
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "'greet'" in message
    assert _qualified(greet) in message
    assert _qualified(farewell) in message
    assert message.index(_qualified(greet)) < message.index(_qualified(farewell))


def test_local_overwrite_warns_naming_both_handlers(caplog: pytest.LogCaptureFixture) -> None:
    registry = ActionRegistry()
    registry.register_local("greet", greet)

    with caplog.at_level(logging.WARNING, logger="soni.actions"):
        registry.register_local("greet", farewell)

    assert registry.get("greet") is farewell
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "'greet'" in message
    assert _qualified(greet) in message
    assert _qualified(farewell) in message


def test_registering_the_same_handler_again_does_not_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = ActionRegistry()
    ActionRegistry.register("greet")(greet)
    registry.register_local("greet", greet)

    with caplog.at_level(logging.WARNING, logger="soni.actions"):
        ActionRegistry.register("greet")(greet)
        registry.register_local("greet", greet)

    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_strict_registry_refuses_a_local_overwrite() -> None:
    registry = ActionRegistry(strict=True)
    registry.register_local("greet", greet)

    with pytest.raises(ActionRegistrationError) as info:
        registry.register_local("greet", farewell)

    assert info.value.action == "greet"
    assert "already registered" in str(info.value)
    assert _qualified(greet) in str(info.value)
    assert registry.get("greet") is greet


def test_strict_registry_refuses_a_global_overwrite_through_its_decorator() -> None:
    strict_registry = ActionRegistry(strict=True)
    ActionRegistry.register("greet")(greet)

    with pytest.raises(ActionRegistrationError) as info:
        strict_registry.register("greet")(farewell)

    assert info.value.action == "greet"
    assert "already registered" in str(info.value)
    assert ActionRegistry().get("greet") is greet


def test_strict_registry_accepts_the_same_handler_again() -> None:
    strict_registry = ActionRegistry(strict=True)

    strict_registry.register("greet")(greet)
    strict_registry.register("greet")(greet)
    strict_registry.register_local("mine", farewell)
    strict_registry.register_local("mine", farewell)

    assert strict_registry.get("greet") is greet
    assert strict_registry.get("mine") is farewell


def test_strictness_belongs_to_the_instance() -> None:
    ActionRegistry(strict=True).register("greet")(greet)
    lenient = ActionRegistry()

    ActionRegistry.register("greet")(farewell)
    lenient.register_local("mine", greet)
    lenient.register_local("mine", farewell)

    assert lenient.get("greet") is farewell
    assert lenient.get("mine") is farewell


# -- logging ---------------------------------------------------------------------


def test_registering_logs_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    registry = ActionRegistry()

    with caplog.at_level(logging.DEBUG, logger="soni.actions"):
        ActionRegistry.register("greet")(greet)
        registry.register_local("farewell", farewell)

    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("'greet'" in m and _qualified(greet) in m for m in debug)
    assert any("'farewell'" in m and _qualified(farewell) in m for m in debug)


def test_clearing_logs_the_count_at_info(caplog: pytest.LogCaptureFixture) -> None:
    registry = ActionRegistry()
    for name in ["a", "b", "c"]:
        ActionRegistry.register(name)(greet)
    registry.register_local("mine", greet)
    registry.register_local("also_mine", greet)

    with caplog.at_level(logging.INFO, logger="soni.actions"):
        ActionRegistry.clear_global()
        registry.clear_local()

    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("3" in m and "global" in m for m in info)
    assert any("2" in m and "local" in m for m in info)


# -- the default registry --------------------------------------------------------


def test_get_default_returns_the_same_instance() -> None:
    first = ActionRegistry.get_default()

    assert isinstance(first, ActionRegistry)
    assert ActionRegistry.get_default() is first


def test_get_default_returns_one_instance_to_concurrent_first_callers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ActionRegistry, "_default", None)
    barrier = threading.Barrier(20)
    seen: list[ActionRegistry] = []
    seen_lock = threading.Lock()

    def call() -> None:
        barrier.wait()
        default = ActionRegistry.get_default()
        with seen_lock:
            seen.append(default)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(seen) == 20
    assert len({id(default) for default in seen}) == 1
    assert ActionRegistry.get_default() is seen[0]


def test_registering_the_same_bound_method_twice_is_not_an_overwrite(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Bank:
        def balance(self) -> dict:
            return {"balance": 1}

    bank = Bank()
    strict = ActionRegistry(strict=True)
    with caplog.at_level(logging.WARNING, logger="soni.actions"):
        strict.register_local("balance", bank.balance)
        strict.register_local("balance", bank.balance)  # a new bound-method object
    assert caplog.records == []
    with pytest.raises(ActionRegistrationError):
        strict.register_local("balance", Bank().balance)  # another instance: a real overwrite
