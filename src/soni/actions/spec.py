"""Inspecting a handler once, when it is registered.

Everything ``run`` needs to call a handler — how it takes its arguments, whether it
is a coroutine function — is worked out here, so a bad handler fails at import
time with a message that names it, not on the first conversation that reaches it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from soni.actions.context import ActionContext
from soni.actions.errors import ActionRegistrationError

__all__ = ("ActionSpec", "Handler", "inspect_handler", "validate_name")

Handler = Callable[..., Any]
"""An action handler: a function, coroutine function or callable object."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_IDENTIFIER_HINT = "letters, digits, '_', '.', '-', not starting with a digit, '.' or '-'"


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A registered action and how to call it.

    Attributes:
        name: The name flows call it by.
        handler: The callable itself.
        scope: ``"global"`` (process-wide), ``"local"`` (one registry instance) or
            ``"remote"`` (run by action workers, see docs/workers.md).
        mode: ``"none"`` (no slot parameters), ``"slots"`` (one ``slots`` dict) or
            ``"params"`` (one parameter per slot).
        params: Slot parameters, in signature order (``mode == "params"``).
        required: The slot parameters without a default.
        ctx_param: The parameter that receives the ``ActionContext``, if any.
        is_async: Whether calling the handler returns an awaitable.
        description: Free text for listings.
        idempotent: Whether running it again with the same idempotency key is
            safe (the provider recognises the key, or the action changes nothing):
            soni then runs it again when a run's outcome was lost in a crash.
        reconcile: How to ask whether a call happened, when its outcome was lost:
            called like the handler, with the same ``ctx.idempotency_key``; it
            returns the call's result if it happened, ``None`` if it did not.
    """

    name: str
    handler: Handler
    scope: Literal["global", "local", "remote"]
    mode: Literal["none", "slots", "params"]
    params: tuple[str, ...]
    required: tuple[str, ...]
    ctx_param: str | None
    is_async: bool
    description: str | None = None
    idempotent: bool = False
    reconcile: ActionSpec | None = None


def validate_name(name: object) -> str:
    if not isinstance(name, str):
        raise ActionRegistrationError(name, f"the name must be a string, not {type(name).__name__}")
    if not _NAME.fullmatch(name):
        raise ActionRegistrationError(name, f"the name may contain only {_IDENTIFIER_HINT}")
    return name


def describe(handler: object) -> str:
    """A human name for a handler: ``module.qualname`` where it has one."""
    target = handler.func if isinstance(handler, functools.partial) else handler
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}.{qualname}" if module else qualname


def _is_async(handler: Handler) -> bool:
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(handler, "__call__", None)  # noqa: B004 - callable objects
    return call is not None and inspect.iscoroutinefunction(call)


def _is_ctx(param: inspect.Parameter) -> bool:
    annotation = param.annotation
    if annotation is ActionContext:
        return True
    if isinstance(annotation, str) and annotation.rsplit(".", 1)[-1] == "ActionContext":
        return True
    return param.name == "ctx"


def inspect_handler(
    name: str,
    handler: object,
    scope: Literal["global", "local"],
    description: str | None = None,
    *,
    idempotent: bool = False,
    reconcile: object = None,
) -> ActionSpec:
    """Check a handler's signature (and its reconcile check's) and describe how to call it.

    Raises:
        ActionRegistrationError: the handler or the reconcile check is not callable
            or its signature is not one of the accepted forms; the message says why.
    """
    if not isinstance(idempotent, bool):
        raise ActionRegistrationError(name, f"idempotent must be true or false, got {idempotent!r}")
    check: ActionSpec | None = None
    if reconcile is not None:
        try:
            check = inspect_handler(name, reconcile, scope)
        except ActionRegistrationError as exc:
            raise ActionRegistrationError(name, f"reconcile: {exc.reason}") from None
    spec = _inspect(name, handler, scope, description)
    if check is None and not idempotent:
        return spec
    return dataclasses.replace(spec, idempotent=idempotent, reconcile=check)


def _inspect(
    name: str, handler: object, scope: Literal["global", "local"], description: str | None
) -> ActionSpec:
    if not callable(handler):
        raise ActionRegistrationError(name, f"the handler must be callable, got {handler!r}")
    if inspect.isgeneratorfunction(handler) or inspect.isasyncgenfunction(handler):
        raise ActionRegistrationError(
            name, f"{describe(handler)} is a generator function; return a dict instead of yielding"
        )
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError) as exc:
        raise ActionRegistrationError(
            name, f"the signature of {describe(handler)} cannot be inspected ({exc})"
        ) from exc

    ctx_param: str | None = None
    slot_params: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            raise ActionRegistrationError(
                name, f"*{param.name} is not accepted; name the slots the handler needs"
            )
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            raise ActionRegistrationError(
                name,
                f"**{param.name} is not accepted; name the slots the handler needs, "
                "or take them all as one `slots` parameter",
            )
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise ActionRegistrationError(
                name, f"parameter {param.name!r} is positional-only; slots are passed by name"
            )
        if _is_ctx(param):
            if ctx_param is not None:
                raise ActionRegistrationError(
                    name, f"two context parameters, {ctx_param!r} and {param.name!r}"
                )
            ctx_param = param.name
        else:
            slot_params.append(param)

    names = tuple(p.name for p in slot_params)
    if "slots" in names:
        if len(names) > 1:
            others = ", ".join(repr(n) for n in names if n != "slots")
            raise ActionRegistrationError(
                name,
                f"`slots` receives every slot as one dict and cannot be combined with "
                f"slot parameters ({others})",
            )
        mode: Literal["none", "slots", "params"] = "slots"
        required: tuple[str, ...] = ()
    elif names:
        mode = "params"
        required = tuple(p.name for p in slot_params if p.default is inspect.Parameter.empty)
    else:
        mode = "none"
        required = ()

    return ActionSpec(
        name=name,
        handler=handler,
        scope=scope,
        mode=mode,
        params=names if mode == "params" else (),
        required=required,
        ctx_param=ctx_param,
        is_async=_is_async(handler),
        description=description,
    )
