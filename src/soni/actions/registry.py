"""The ActionRegistry: every action handler the bots can call, by name.

Below both maps, an instance may hold **remote entries**: actions that action workers
announced to the server (``soni.server`` publishes them with :meth:`set_remote`; see
docs/workers.md). A handler in the process wins over a remote entry of the same name.

The global map and each instance's local map are :class:`~soni.actions.names.NameMap`
values (copy-on-write: writers serialise, readers never lock). Each instance also
keeps a merged view of its local actions over the global ones, republished under one
lock after every write that concerns it, so a lookup is one dict read.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import threading
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, TypeVar, overload

from soni.actions.context import ActionContext
from soni.actions.errors import ActionNotFound, ActionRegistrationError
from soni.actions.invoke import call_check, call_handler
from soni.actions.names import NameMap, close_names
from soni.actions.spec import ActionSpec, Handler, describe, inspect_handler, validate_name

__all__ = ("ActionRegistry",)

logger = logging.getLogger("soni.actions")

H = TypeVar("H", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class _View:
    """One instance's maps, published together so a reader sees them consistently."""

    global_: Mapping[str, ActionSpec]
    local: Mapping[str, ActionSpec]
    remote: Mapping[str, ActionSpec]
    merged: Mapping[str, ActionSpec]


class _Register(Protocol):
    @overload
    def __call__(
        self,
        name: str,
        *,
        description: str | None = None,
        idempotent: bool = False,
        reconcile: Handler | None = None,
    ) -> Callable[[H], H]: ...
    @overload
    def __call__(
        self,
        name: H,
        *,
        description: str | None = None,
        idempotent: bool = False,
        reconcile: Handler | None = None,
    ) -> H: ...


class _RegisterDescriptor:
    """``register`` registers globally, whether reached through the class or an instance.

    Through an instance it honours that instance's ``strict`` setting.
    """

    def __get__(self, obj: ActionRegistry | None, objtype: type[ActionRegistry]) -> _Register:
        strict = obj.strict if obj is not None else False

        def register(
            name: Any,
            *,
            description: str | None = None,
            idempotent: bool = False,
            reconcile: Handler | None = None,
        ) -> Any:
            options: dict[str, Any] = {
                "description": description,
                "strict": strict,
                "idempotent": idempotent,
                "reconcile": reconcile,
            }
            if callable(name) and not isinstance(name, str):
                handler = name
                own_name = getattr(handler, "__name__", None)
                if not isinstance(own_name, str):
                    raise ActionRegistrationError(
                        handler,
                        "this handler has no __name__; register it with a name: "
                        '@ActionRegistry.register("name")',
                    )
                objtype.register_global(own_name, handler, **options)
                return handler

            def decorator(handler: H) -> H:
                objtype.register_global(name, handler, **options)
                return handler

            return decorator

        register.__doc__ = ActionRegistry.register_global.__doc__
        return register


class ActionRegistry:
    """Action handlers by name: one global map for the process, one local map per instance.

    ``get`` looks in the instance's local map first, then in the global map.

    Example:
        >>> @ActionRegistry.register("greet")
        ... def greet(name: str) -> dict:
        ...     return {"greeting": f"Hello {name}"}
        >>> registry = ActionRegistry()
        >>> registry.get("greet") is greet
        True
    """

    __slots__ = (
        "__weakref__",
        "_executor",
        "_handlers",
        "_local",
        "_remote",
        "_unknown",
        "_view",
        "strict",
    )

    # Merged views are published under this lock, each from the maps current then,
    # so a global write and a local write can never leave a stale merge behind.
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _global: ClassVar[NameMap[ActionSpec]] = NameMap()
    _instances: ClassVar[weakref.WeakSet[ActionRegistry]] = weakref.WeakSet()
    _default: ClassVar[ActionRegistry | None] = None
    _default_lock: ClassVar[threading.Lock] = threading.Lock()

    register: ClassVar[_RegisterDescriptor] = _RegisterDescriptor()
    """Decorator: ``@ActionRegistry.register("name")`` or ``@ActionRegistry.register``."""

    strict: bool
    _executor: Executor | None
    _local: NameMap[ActionSpec]
    _remote: Mapping[str, ActionSpec]
    _unknown: Callable[[str], str | None] | None
    _handlers: Mapping[str, Handler]
    _view: _View

    def __init__(self, *, strict: bool = False, executor: Executor | None = None) -> None:
        """Create a registry with an empty local map.

        Args:
            strict: Refuse to overwrite an existing name (``ActionRegistrationError``)
                instead of logging a warning.
            executor: Where synchronous handlers run; soni's shared pool by default.
        """
        self.strict = strict
        self._executor = executor
        self._local = NameMap()
        self._remote = MappingProxyType({})
        self._unknown = None
        with ActionRegistry._lock:
            self._publish()
            ActionRegistry._instances.add(self)

    @classmethod
    def get_default(cls) -> ActionRegistry:
        """The process-wide default registry (its local map is empty unless you fill it)."""
        default = ActionRegistry._default
        if default is None:
            with ActionRegistry._default_lock:
                default = ActionRegistry._default
                if default is None:
                    default = ActionRegistry._default = ActionRegistry()
        return default

    # -- reading (lock-free) ------------------------------------------------------

    def get(self, name: str) -> Handler | None:
        """The handler registered as ``name`` (local first, then global), or ``None``."""
        return self._handlers.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._handlers

    def __len__(self) -> int:
        return len(self._handlers)

    def get_spec(self, name: str) -> ActionSpec | None:
        """How ``name`` is called (signature, scope, description), or ``None``."""
        return self._view.merged.get(name)

    def list_actions(self) -> dict[str, list[str]]:
        """Sorted names in each map, from one consistent snapshot."""
        view = self._view
        return {"global": sorted(view.global_), "local": sorted(view.local)}

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Registered names close to ``name``, best first (for 'did you mean')."""
        return close_names(name, self._view.merged, limit)

    def resolve(self, name: str) -> ActionSpec:
        """Like ``get_spec``, but an unknown name raises.

        Raises:
            ActionNotFound: with close names as suggestions.
        """
        spec = self._view.merged.get(name)
        if spec is None:
            unknown = self._unknown
            raise ActionNotFound(name, self.suggest(name), unknown(name) if unknown else None)
        return spec

    def list_remote(self) -> list[str]:
        """Sorted names of the remote entries (actions workers announced)."""
        return sorted(self._view.remote)

    async def run(
        self,
        name: str,
        slots: Mapping[str, Any] | None = None,
        ctx: ActionContext | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Call the action ``name`` with arguments taken from ``slots``.

        Synchronous handlers run in a worker thread, so the event loop never blocks.

        Args:
            name: The action to run.
            slots: Slot values; parameters named after slots receive them.
            ctx: The call's context; a fresh one (with a random idempotency key) if
                omitted.
            timeout: Seconds the handler may take.

        Returns:
            The handler's result as a dict: a dict as is, ``None`` as ``{}``, a
            pydantic model or dataclass as its fields, anything else under ``"result"``.

        Raises:
            ActionNotFound: no such action.
            ActionArgumentError: required slots have no value.
            ActionTimeout: the timeout passed.
            ActionFailed: the handler raised (chained as ``__cause__``).
        """
        spec = self.resolve(name)
        return await call_handler(
            spec, slots or {}, ctx or ActionContext(), timeout=timeout, executor=self._executor
        )

    async def reconcile(
        self,
        name: str,
        slots: Mapping[str, Any] | None = None,
        ctx: ActionContext | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any] | None:
        """Ask the action's reconcile check whether the call ``ctx`` names happened.

        For a call whose outcome was lost (its process died while it ran): the
        check looks ``ctx.idempotency_key`` up where the action has its effect.

        Returns:
            The call's result if it happened (normalised as ``run`` does), ``None``
            if it did not.

        Raises:
            ActionNotFound: no such action.
            LookupError: the action has no reconcile check.
            ActionArgumentError / ActionTimeout / ActionFailed: the check could not
                be called, took too long, or raised — it could not tell.
        """
        spec = self.resolve(name)
        if spec.reconcile is None:
            raise LookupError(f"action {name!r} has no reconcile check")
        check = dataclasses.replace(spec.reconcile, name=f"{name} (reconcile)")
        return await call_check(
            check, slots or {}, ctx or ActionContext(), timeout=timeout, executor=self._executor
        )

    # -- writing (one lock) -------------------------------------------------------

    @classmethod
    def register_global(
        cls,
        name: str,
        handler: Handler,
        *,
        description: str | None = None,
        strict: bool = False,
        idempotent: bool = False,
        reconcile: Handler | None = None,
    ) -> ActionSpec:
        """Register ``handler`` as ``name`` for the whole process.

        The handler's signature is checked now: no parameters; one ``slots`` dict;
        parameters named after slots (defaults allowed); any of these plus a
        context parameter (named ``ctx`` or annotated ``ActionContext``).

        Args:
            name: The name flows call it by.
            handler: The function (sync or async) or callable object.
            description: Free text for listings.
            strict: Refuse to replace another handler of that name.
            idempotent: Running it again with the same ``ctx.idempotency_key`` is
                safe; soni then runs it again when a crash lost a run's outcome,
                instead of reporting the outcome as unknown.
            reconcile: A check, called like the handler, that tells whether a call
                with ``ctx.idempotency_key`` happened: the call's result if it
                did, ``None`` if it did not (soni then runs it). It raises when it
                cannot tell.

        Raises:
            ActionRegistrationError: bad name or signature (the handler's or the
                check's), or (``strict``) the name is taken by another handler.
        """
        spec = inspect_handler(
            validate_name(name),
            handler,
            "global",
            description,
            idempotent=idempotent,
            reconcile=reconcile,
        )
        previous = ActionRegistry._global.put(
            name, spec, lambda previous: _check_overwrite(previous, spec, strict)
        )
        ActionRegistry._publish_all()
        _log_registered(spec, previous)
        return spec

    def register_local(
        self,
        name: str,
        handler: Handler,
        *,
        description: str | None = None,
        idempotent: bool = False,
        reconcile: Handler | None = None,
    ) -> ActionSpec:
        """Register ``handler`` as ``name`` in this registry only; it wins over a global one.

        ``idempotent`` and ``reconcile`` are as for ``register_global``.

        Raises:
            ActionRegistrationError: bad name or signature, or (``strict``) the name
                is taken locally by another handler.
        """
        spec = inspect_handler(
            validate_name(name),
            handler,
            "local",
            description,
            idempotent=idempotent,
            reconcile=reconcile,
        )
        previous = self._local.put(
            name, spec, lambda previous: _check_overwrite(previous, spec, self.strict)
        )
        with ActionRegistry._lock:
            self._publish()
        _log_registered(spec, previous)
        return spec

    def set_remote(
        self,
        actions: Mapping[str, ActionSpec],
        *,
        unknown: Callable[[str], str | None] | None = None,
    ) -> None:
        """Replace this registry's remote entries: the actions workers offer now.

        Args:
            actions: Name → spec (scope ``"remote"``); its handler sends the call to a
                worker.
            unknown: Says why a name is not found (the workers connected and what they
                offer), for the ``ActionNotFound`` of a call nobody can serve.
        """
        remote = MappingProxyType(dict(actions))
        with ActionRegistry._lock:
            self._remote = remote
            self._unknown = unknown
            self._publish()
        logger.debug("remote actions now: %s", ", ".join(sorted(remote)) or "none")

    @classmethod
    def unregister(cls, name: str) -> bool:
        """Remove a global action. Returns whether it was registered."""
        if not ActionRegistry._global.remove(name):
            return False
        ActionRegistry._publish_all()
        logger.debug("unregistered global action %r", name)
        return True

    def unregister_local(self, name: str) -> bool:
        """Remove a local action. Returns whether it was registered."""
        if not self._local.remove(name):
            return False
        with ActionRegistry._lock:
            self._publish()
        logger.debug("unregistered local action %r", name)
        return True

    @classmethod
    def clear_global(cls) -> int:
        """Remove every global action. Returns how many there were."""
        count = len(ActionRegistry._replace_global({}))
        logger.info("cleared %d global action(s)", count)
        return count

    clear = clear_global

    def clear_local(self) -> int:
        """Remove every local action of this registry. Returns how many there were."""
        count = len(self._local.replace({}))
        with ActionRegistry._lock:
            self._publish()
        logger.info("cleared %d local action(s)", count)
        return count

    @classmethod
    def _replace_global(cls, actions: Mapping[str, ActionSpec]) -> Mapping[str, ActionSpec]:
        """Swap the whole global map (test isolation). Returns the previous one."""
        previous = ActionRegistry._global.replace(actions)
        ActionRegistry._publish_all()
        return previous

    @staticmethod
    def _publish_all() -> None:
        with ActionRegistry._lock:
            for registry in ActionRegistry._instances:
                registry._publish()

    def _publish(self) -> None:
        # Caller holds the lock. Build everything from the maps published now, then
        # publish with plain attribute stores, which readers see atomically.
        global_, local, remote = ActionRegistry._global.current, self._local.current, self._remote
        merged: Mapping[str, ActionSpec]
        if remote:
            merged = MappingProxyType({**remote, **global_, **local})
        else:
            merged = MappingProxyType({**global_, **local}) if local else global_
        handlers = {name: spec.handler for name, spec in merged.items()}
        self._view = _View(global_=global_, local=local, remote=remote, merged=merged)
        self._handlers = handlers

    def __repr__(self) -> str:
        view = self._view
        remote = f" remote={len(view.remote)}" if view.remote else ""
        return (
            f"<ActionRegistry global={len(view.global_)} local={len(view.local)}{remote}"
            f"{' strict' if self.strict else ''}>"
        )


def _same_handler(a: Handler, b: Handler) -> bool:
    # Each access to ``obj.method`` makes a new bound method: compare what it binds.
    if inspect.ismethod(a) and inspect.ismethod(b):
        return a.__self__ is b.__self__ and a.__func__ is b.__func__
    return a is b


def _check_overwrite(previous: ActionSpec | None, spec: ActionSpec, strict: bool) -> None:
    if strict and previous is not None and not _same_handler(previous.handler, spec.handler):
        raise ActionRegistrationError(
            spec.name,
            f"the name is already registered ({spec.scope}) to {describe(previous.handler)}",
        )


def _log_registered(spec: ActionSpec, previous: ActionSpec | None) -> None:
    # Called after the lock is released: logging handlers are other people's code.
    if previous is not None and not _same_handler(previous.handler, spec.handler):
        logger.warning(
            "%s action %r overwritten: previous handler %s, new handler %s",
            spec.scope,
            spec.name,
            describe(previous.handler),
            describe(spec.handler),
        )
    else:
        logger.debug("registered %s action %r -> %s", spec.scope, spec.name, describe(spec.handler))
