"""Slot validators: named checks a slot's value must pass, registered from Python.

A validator is a function of the value (or of the value and all the slots, for
checks that compare slots), sync or async. It returns whether the value is
acceptable, or raises ``ValueError`` whose message becomes the re-ask text::

    from soni import validator

    @validator("positive_amount")
    def positive_amount(value: float) -> bool:
        return value > 0

Validators are kept like action handlers: in a :class:`~soni.actions.names.NameMap`
(copy-on-write: writers take one lock, readers — every collected value — never lock).
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar, overload

from soni.actions.errors import ValidatorNotFound, ValidatorRegistrationError
from soni.actions.names import NameMap

__all__ = (
    "BUILTIN_VALIDATORS",
    "ValidatorFunc",
    "ValidatorRegistry",
    "ValidatorSpec",
    "as_number",
    "default_registry",
    "default_validators",
    "is_email",
    "validator",
)

logger = logging.getLogger("soni.dsl")  # the name it has always logged under

ValidatorFunc = Callable[..., bool | Awaitable[bool]]
"""``f(value)`` or ``f(value, slots)``, returning (or resolving to) a bool."""

F = TypeVar("F", bound=Callable[..., Any])

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True, slots=True)
class ValidatorSpec:
    """A registered validator and how to call it.

    Attributes:
        name: The name bots use.
        func: The function.
        takes_slots: Whether it is called as ``func(value, slots)``.
        is_async: Whether calling it returns an awaitable.
    """

    name: str
    func: ValidatorFunc
    takes_slots: bool
    is_async: bool

    async def check(self, value: Any, slots: Mapping[str, Any] | None = None) -> bool:
        """Run the validator. Sync validators run inline: keep them quick.

        Raises:
            ValueError: the validator's own, whose message is the re-ask text.
        """
        args = (value, dict(slots or {})) if self.takes_slots else (value,)
        result = self.func(*args)
        if self.is_async or inspect.isawaitable(result):
            result = await result  # type: ignore[misc]
        return bool(result)


def _inspect(name: object, func: object) -> ValidatorSpec:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValidatorRegistrationError(
            name,
            "the name may contain only letters, digits, '_', '.' and '-', "
            "and must start with a letter or '_'",
        )
    if not callable(func):
        raise ValidatorRegistrationError(name, f"the validator must be callable, got {func!r}")
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        reason = f"its signature cannot be inspected ({exc})"
        raise ValidatorRegistrationError(name, reason) from exc
    positional = [p for p in signature.parameters.values() if p.kind in _POSITIONAL]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    for param in signature.parameters.values():
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            raise ValidatorRegistrationError(
                name, f"*{param.name} is not accepted; take (value) or (value, slots)"
            )
        if param.kind is inspect.Parameter.KEYWORD_ONLY and param.default is param.empty:
            raise ValidatorRegistrationError(
                name, f"keyword-only parameter {param.name!r} has no default and would get no value"
            )
    if not positional:
        raise ValidatorRegistrationError(
            name,
            "a validator takes (value) or (value, slots), but it takes no positional parameter",
        )
    if len(required) > 2:
        raise ValidatorRegistrationError(
            name,
            "a validator takes (value) or (value, slots), but it requires "
            f"{len(required)} positional parameters",
        )
    call = getattr(func, "__call__", None)  # noqa: B004 - callable objects
    is_async = inspect.iscoroutinefunction(func) or (
        call is not None and inspect.iscoroutinefunction(call)
    )
    return ValidatorSpec(name, func, takes_slots=len(positional) >= 2, is_async=is_async)


class ValidatorRegistry:
    """Slot validators by name. Thread-safe; lookups never lock.

    A new registry starts with the built-in validators (``not_empty``, ``positive``,
    ``non_negative``, ``email``, ``phone``) unless ``builtins=False``.
    """

    __slots__ = ("_specs", "strict")

    def __init__(self, *, builtins: bool = True, strict: bool = False) -> None:
        """Create a registry.

        Args:
            builtins: Start with the built-in validators.
            strict: Refuse to replace a name registered to another function
                (``ValidatorRegistrationError``) instead of logging a warning.
        """
        self.strict = strict
        initial = {name: _inspect(name, func) for name, func in BUILTIN_VALIDATORS.items()}
        self._specs: NameMap[ValidatorSpec] = NameMap(initial if builtins else {})

    # -- reading (lock-free) ------------------------------------------------------

    def get(self, name: str) -> ValidatorSpec | None:
        """The validator registered as ``name``, or ``None``."""
        return self._specs.get(name)

    def resolve(self, name: str) -> ValidatorSpec:
        """Like ``get``, but an unknown name raises ``ValidatorNotFound`` with suggestions."""
        spec = self._specs.get(name)
        if spec is None:
            raise ValidatorNotFound(name, self.suggest(name))
        return spec

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Registered names close to ``name``, best first."""
        return self._specs.suggest(name, limit)

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return self._specs.names()

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    async def check(self, name: str, value: Any, slots: Mapping[str, Any] | None = None) -> bool:
        """Run the validator ``name`` on ``value``.

        Raises:
            ValidatorNotFound: no such validator.
            ValueError: raised by the validator; its message is the re-ask text.
        """
        return await self.resolve(name).check(value, slots)

    # -- writing (one lock) -------------------------------------------------------

    def register(self, name: str, func: ValidatorFunc) -> ValidatorSpec:
        """Register ``func`` as ``name``; its signature is checked now.

        Raises:
            ValidatorRegistrationError: bad name or signature, or (``strict``) the
                name is taken by another function.
        """
        spec = _inspect(name, func)

        def refuse_taken(previous: ValidatorSpec | None) -> None:
            if self.strict and previous is not None and previous.func is not func:
                raise ValidatorRegistrationError(name, "the name is already registered")

        previous = self._specs.put(name, spec, refuse_taken)
        # Logging runs other people's handlers: never under the lock.
        if previous is not None and previous.func is not func:
            logger.warning("validator %r replaced: %r -> %r", name, previous.func, func)
        else:
            logger.debug("registered validator %r", name)
        return spec

    def unregister(self, name: str) -> bool:
        """Remove a validator. Returns whether it was registered."""
        return self._specs.remove(name)

    @overload
    def validator(self, name: str) -> Callable[[F], F]: ...
    @overload
    def validator(self, name: F) -> F: ...
    def validator(self, name: Any) -> Any:
        """Decorator: ``@registry.validator("name")``, or bare (the function's name)."""
        if callable(name) and not isinstance(name, str):
            self.register(name.__name__, name)
            return name

        def decorator(func: F) -> F:
            self.register(name, func)
            return func

        return decorator

    def _replace(self, specs: Mapping[str, ValidatorSpec]) -> Mapping[str, ValidatorSpec]:
        """Swap the whole map (test isolation). Returns the previous one."""
        return self._specs.replace(specs)

    def __repr__(self) -> str:
        return f"<ValidatorRegistry {len(self._specs)} validators>"


# -- built-ins ------------------------------------------------------------------------


def not_empty(value: Any) -> bool:
    """Anything but ``None``, blank text or an empty collection."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple | set | frozenset | dict):
        return bool(value)
    return True


def as_number(value: Any) -> float | None:
    """The number ``value`` is, or whose text it is as :func:`float` reads it; else ``None``.

    For a setting or a validator, where a number may come quoted (``"95"``, ``" 2.5 "``).
    Booleans are not numbers. A slot's own type reads more
    (``soni.dsl.coerce("float", "1.234,50 €")``); an expression reads less
    (``soni.dsl.expressions.numeric_value`` takes plain decimals only, and keeps
    integers exact).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def positive(value: Any) -> bool:
    """A number (or numeric text) greater than zero."""
    number = as_number(value)
    return number is not None and number > 0


def non_negative(value: Any) -> bool:
    """A number (or numeric text) of zero or more."""
    number = as_number(value)
    return number is not None and number >= 0


_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}")


def is_email(text: str) -> bool:
    """Whether ``text`` looks like an e-mail address (``name@domain.tld``); what the
    ``email`` validator and the ``email`` slot type accept."""
    return len(text) <= 254 and _EMAIL.fullmatch(text) is not None


def email(value: Any) -> bool:
    """Text that looks like an e-mail address."""
    return isinstance(value, str) and is_email(value.strip())


_PHONE_NOISE = re.compile(r"[\s\-()]")


def phone(value: Any) -> bool:
    """A phone number, loosely: 7 to 15 digits once spaces, dashes, brackets and a
    leading ``+`` are removed."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    text = _PHONE_NOISE.sub("", str(value).strip())
    text = text.removeprefix("+")
    return text.isascii() and text.isdigit() and 7 <= len(text) <= 15


BUILTIN_VALIDATORS: Mapping[str, ValidatorFunc] = MappingProxyType(
    {
        "not_empty": not_empty,
        "positive": positive,
        "non_negative": non_negative,
        "email": email,
        "phone": phone,
    }
)
"""The validators every new registry starts with."""

default_registry = ValidatorRegistry()
"""The process-wide registry the ``@validator`` decorator fills."""


def default_validators() -> ValidatorRegistry:
    """The process-wide default registry (also ``default_registry``)."""
    return default_registry


@overload
def validator(name: str) -> Callable[[F], F]: ...
@overload
def validator(name: F) -> F: ...
def validator(name: Any) -> Any:
    """Register a slot validator in the default registry.

    Example:
        >>> @validator("positive_amount")
        ... def positive_amount(value: float) -> bool:
        ...     return value > 0

    Used bare (``@validator``), the function's name is the validator's name.

    Raises:
        ValidatorRegistrationError: bad name or signature.
    """
    return default_registry.validator(name)
