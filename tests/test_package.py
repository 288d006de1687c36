"""The public surface: what ``import soni`` offers, the error tree, the CLI."""

import dataclasses
import importlib
import inspect
from importlib.metadata import version
from types import MappingProxyType

import pytest
from typer.testing import CliRunner

import soni
import soni.errors
from soni import ActionContext, SoniError, __version__
from soni.cli import app


def test_the_documented_names_are_the_objects_their_packages_define() -> None:
    # ``from soni import X`` is what the docs and every handler module write: each name
    # must be the very object its package defines (not a copy, an alias or a stub),
    # including the lazily imported ones (Bot, create_app…).
    for name in soni.__all__:
        if name == "__version__":
            continue
        value = getattr(soni, name)
        assert value.__name__ == name
        assert value.__module__.startswith("soni."), (name, value.__module__)
        assert getattr(importlib.import_module(value.__module__), name) is value, name
    assert issubclass(SoniError, Exception)
    assert __version__ == version("soni")


@pytest.mark.parametrize("name", soni.__all__)
def test_every_public_name_is_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from soni import {name}", namespace)

    assert namespace[name] is getattr(soni, name)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from soni import *", namespace)

    assert set(namespace) - {"__builtins__"} == set(soni.__all__)


ERROR_MODULES = (
    "soni.errors",
    "soni.actions.errors",
    "soni.confirmations.errors",
    "soni.dsl.errors",
    "soni.nlu.errors",
    "soni.sessions.errors",
    "soni.client.errors",
    "soni.server.errors",
    "soni.remote.errors",
    "soni.worker.errors",
)
"""Each package's errors live in its own module, under the one root in soni.errors."""

ERRORS = [
    error
    for module in map(importlib.import_module, ERROR_MODULES)
    for _, error in inspect.getmembers(module, inspect.isclass)
    if issubclass(error, BaseException)
    and error.__module__ == module.__name__
    # FastAPI must re-raise it unchanged while it reads a body: an HTTPException.
    and error.__name__ != "BodyTooLarge"
]


def test_the_action_layer_defines_the_action_errors() -> None:
    import soni.actions.errors

    defined = {
        name
        for name, error in inspect.getmembers(soni.actions.errors, inspect.isclass)
        if error.__module__ == "soni.actions.errors"
    }
    assert defined >= {
        "ActionArgumentError",
        "ActionError",
        "ActionFailed",
        "ActionLoadError",
        "ActionNotFound",
        "ActionRegistrationError",
        "ActionTimeout",
    }


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: error.__name__)
def test_every_error_is_a_soni_error_its_module_exports(error: type[BaseException]) -> None:
    assert issubclass(error, SoniError)
    assert error.__name__ in importlib.import_module(error.__module__).__all__


def test_action_context_is_frozen() -> None:
    ctx = ActionContext(conversation_id="c-1")

    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.conversation_id = "c-2"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.idempotency_key = "forged"  # type: ignore[misc]
    assert ctx.conversation_id == "c-1"


def test_action_context_extras_are_a_read_only_copy() -> None:
    extras = {"channel": "web"}
    ctx = ActionContext(extras=extras)

    extras["channel"] = "changed"
    extras["new"] = True
    with pytest.raises(TypeError):
        ctx.extras["channel"] = "sms"  # type: ignore[index]

    assert dict(ctx.extras) == {"channel": "web"}


def test_action_context_extras_given_as_a_proxy_are_copied_too() -> None:
    underlying = {"channel": "web"}
    ctx = ActionContext(extras=MappingProxyType(underlying))

    underlying["channel"] = "changed"

    assert dict(ctx.extras) == {"channel": "web"}


def test_action_context_defaults() -> None:
    first = ActionContext()
    second = ActionContext()

    assert dict(first.extras) == {}
    assert first.idempotency_key
    assert first.idempotency_key != second.idempotency_key
    assert first.logger.name == "soni.actions"


def test_cli_prints_the_version() -> None:
    runner = CliRunner()

    for args in (["--version"], ["version"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert result.output.strip() == f"soni {__version__}"


def test_dir_lists_the_lazily_imported_names_too() -> None:
    # Bot, SyncBot and create_app are imported on first use (they pull in LangGraph):
    # dir() and completion still show them.
    assert {"Bot", "SyncBot", "TurnResult", "create_app", "ServerSettings"} <= set(dir(soni))
    assert set(soni.__all__) <= set(dir(soni))


def test_what_bot_decide_raises_and_a_turn_returns_import_from_the_top() -> None:
    from soni.engine import PendingView, ReplyView

    for name in ("UnknownConfirmation", "ConfirmationExpired", "AlreadyDecided",
                 "ConfirmationClosed", "InvalidDecision", "ConversationBusy"):  # fmt: skip
        error = getattr(soni, name)
        assert issubclass(error, SoniError)
        assert getattr(importlib.import_module(error.__module__), name) is error
    assert soni.PendingView is PendingView and soni.ReplyView is ReplyView
